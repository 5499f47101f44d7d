"""Optimizers of ``Miniproject_2/model.py`` checked step by step against torch.optim."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from Proj_123456_654321.Miniproject_2 import model as m

torch.set_num_threads(1)


# The torch reference computations need autograd, which model.py turns off at import.
pytestmark = pytest.mark.usefixtures('autograd')


F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-12)
STEPS = 6
SHAPES = [(3, 2, 3, 3), (3,), (4, 5)]


def _problem(seed):
    """initial parameters and a sequence of STEPS gradient lists."""
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen, dtype=F64) for s in SHAPES]
    grads = [[torch.randn(s, generator=gen, dtype=F64) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def _compare(make_ours, make_ref, seed=0):
    """run both optimizers on identical parameters with the same gradients."""
    init, grads = _problem(seed)
    pairs = [(p.clone(), torch.zeros_like(p)) for p in init]
    ref_params = [p.clone().requires_grad_() for p in init]
    opt, ref = make_ours(pairs), make_ref(ref_params)
    for step, gs in enumerate(grads):
        for (_, g), rp, gg in zip(pairs, ref_params, gs):
            g.copy_(gg)
            rp.grad = gg.clone()
        opt.step()
        ref.step()
        for i, ((p, _), rp) in enumerate(zip(pairs, ref_params)):
            assert_close(p, rp.detach(), **TOL,
                         msg=lambda s: f"step {step + 1}, parameter {i}: {s}")
    return pairs


def _sgd_cases():
    cases = []
    for lr, mom, damp, wd, nest in itertools.product([0.1, 0.01], [0.0, 0.9], [0.0, 0.1],
                                                     [0.0, 1e-2], [False, True]):
        if nest and (mom == 0 or damp != 0):
            continue  # torch.optim.SGD rejects it
        cases.append(pytest.param(lr, mom, damp, wd, nest,
                                  id=f"lr{lr}-mom{mom}-damp{damp}-wd{wd}-nest{int(nest)}"))
    cases.append(pytest.param(0.05, 0.5, 0.5, 0.1, False, id="lr0.05-mom0.5-damp0.5-wd0.1"))
    cases.append(pytest.param(0.05, 0.5, 0.0, 0.1, True, id="lr0.05-mom0.5-wd0.1-nest1"))
    return cases


@pytest.mark.parametrize("lr, momentum, dampening, wd, nesterov", _sgd_cases())
def test_sgd_matches_torch(lr, momentum, dampening, wd, nesterov):
    kw = dict(momentum=momentum, dampening=dampening, weight_decay=wd, nesterov=nesterov)
    _compare(lambda ps: m.SGD(ps, lr=lr, **kw), lambda ps: torch.optim.SGD(ps, lr=lr, **kw))


def test_sgd_positional_lr_and_defaults():
    _compare(lambda ps: m.SGD(ps, 0.1), lambda ps: torch.optim.SGD(ps, lr=0.1), seed=3)


@pytest.mark.parametrize("lr", [1e-3, 1e-2, 0.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)], ids=str)
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
@pytest.mark.parametrize("wd", [0.0, 1e-2])
def test_adam_matches_torch(lr, betas, eps, wd):
    kw = dict(lr=lr, betas=betas, eps=eps, weight_decay=wd)
    _compare(lambda ps: m.Adam(ps, **kw), lambda ps: torch.optim.Adam(ps, **kw))


def test_adam_defaults():
    _compare(lambda ps: m.Adam(ps), lambda ps: torch.optim.Adam(ps), seed=4)


def test_adam_small_gradients():
    """tiny gradients: eps matters, as it must be added to sqrt(v_hat) as in torch."""
    init, grads = _problem(5)
    pairs = [(p.clone(), torch.zeros_like(p)) for p in init]
    ref_params = [p.clone().requires_grad_() for p in init]
    opt = m.Adam(pairs, lr=1e-2, eps=1e-6)
    ref = torch.optim.Adam(ref_params, lr=1e-2, eps=1e-6)
    for step, gs in enumerate(grads):
        for (_, g), rp, gg in zip(pairs, ref_params, gs):
            g.copy_(gg * 1e-6)
            rp.grad = gg * 1e-6
        opt.step()
        ref.step()
        for (p, _), rp in zip(pairs, ref_params):
            assert_close(p, rp.detach(), **TOL, msg=lambda s: f"step {step + 1}: {s}")


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: m.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
                 id="SGD"),
    pytest.param(lambda ps: m.Adam(ps, lr=0.1, weight_decay=0.1), id="Adam"),
])
def test_step_keeps_gradients(make):
    """torch.optim's step() does not modify the gradients."""
    init, grads = _problem(6)
    pairs = [(p.clone(), torch.zeros_like(p)) for p in init]
    opt = make(pairs)
    for gs in grads[:3]:
        for (_, g), gg in zip(pairs, gs):
            g.copy_(gg)
        opt.step()
        for i, ((_, g), gg) in enumerate(zip(pairs, gs)):
            assert torch.equal(g, gg), f"step() modified the gradient of parameter {i}"


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: m.SGD(ps, lr=0.1, momentum=0.9), id="SGD"),
    pytest.param(lambda ps: m.Adam(ps), id="Adam"),
])
def test_optimizer_zero_grad(make):
    blk = m.Conv2d(2, 3, 3).to(F64)
    params = blk.param()
    opt = make(params)
    with torch.no_grad():
        blk.backward(torch.randn_like(blk(torch.randn(2, 2, 5, 5, dtype=F64))))
    grads = [g for _, g in params]
    assert all(torch.count_nonzero(g) > 0 for g in grads)
    opt.zero_grad()
    assert all(torch.count_nonzero(g) == 0 for g in grads)
    assert all(a[1] is g for a, g in zip(blk.param(), grads)), "zero_grad replaced the tensors"
    before = [p.clone() for p, _ in params]
    opt.step()  # a step with zero gradients and no weight decay leaves SGD params unchanged
    if isinstance(opt, m.SGD):
        assert all(torch.equal(p, b) for (p, _), b in zip(params, before))


# --------------------------------------------------------------------------
# end-to-end training steps
# --------------------------------------------------------------------------
OPTIMIZERS = [
    pytest.param(lambda ps: m.SGD(ps, lr=0.1), lambda ps: torch.optim.SGD(ps, lr=0.1),
                 id="SGD"),
    pytest.param(lambda ps: m.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=True),
                 lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2,
                                            nesterov=True), id="SGD-nesterov"),
    pytest.param(lambda ps: m.Adam(ps, lr=1e-2, weight_decay=1e-2),
                 lambda ps: torch.optim.Adam(ps, lr=1e-2, weight_decay=1e-2), id="Adam"),
]


def _train(ours, ref, make_opt, make_ref_opt, x, t, steps=5):
    params = ours.param()
    ref_params = list(ref.parameters())
    assert len(params) == len(ref_params)
    with torch.no_grad():
        for (p, _), rp in zip(params, ref_params):
            rp.copy_(p)
    opt, ref_opt = make_opt(params), make_ref_opt(ref_params)
    crit = m.MSE()
    for step in range(steps):
        opt.zero_grad()
        with torch.no_grad():
            loss = crit(ours(x), t)
            ours.backward(crit.backward())
        opt.step()
        ref_opt.zero_grad()
        ref_loss = F.mse_loss(ref(x), t)
        ref_loss.backward()
        ref_opt.step()
        assert_close(loss, ref_loss.detach(), **TOL, msg=lambda s: f"loss at step {step}: {s}")
        for i, ((p, _), rp) in enumerate(zip(params, ref_params)):
            assert_close(p, rp.detach(), **TOL,
                         msg=lambda s: f"step {step}, parameter {i}: {s}")
    return loss


@pytest.mark.parametrize("make_opt, make_ref_opt", OPTIMIZERS)
def test_conv2d_training_matches_torch(make_opt, make_ref_opt):
    torch.manual_seed(0)
    ours = m.Conv2d(3, 4, 3, stride=2, padding=1).to(F64)
    ref = nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    x = torch.randn(4, 3, 9, 8, dtype=F64)
    t = torch.randn(4, 4, 5, 4, dtype=F64)
    _train(ours, ref, make_opt, make_ref_opt, x, t)


@pytest.mark.parametrize("make_opt, make_ref_opt", OPTIMIZERS)
def test_network_training_matches_torch(make_opt, make_ref_opt):
    torch.manual_seed(1)
    ours = m.Sequential(
        m.Conv2d(3, 6, 3, stride=2, padding=1), m.ReLU(),
        m.Conv2d(6, 8, 3, stride=2, padding=1), m.LeakyReLU(0.1),
        m.Upsampling(8, 6, 3, scale_factor=2, padding=1), m.Tanh(),
        m.TransposeConv2d(6, 3, 3, stride=2, padding=1, output_padding=1), m.Sigmoid(),
    ).to(F64)
    ref = nn.Sequential(
        nn.Conv2d(3, 6, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.LeakyReLU(0.1),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 6, 3, padding=1), nn.Tanh(),
        nn.ConvTranspose2d(6, 3, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),
    ).double()
    x = torch.rand(3, 3, 12, 8, dtype=F64)
    t = torch.rand(3, 3, 12, 8, dtype=F64)
    first = F.mse_loss(ref(x), t).item()
    last = _train(ours, ref, make_opt, make_ref_opt, x, t, steps=6)
    assert last.item() < first  # it does train


# -- one flat buffer per kind (Optimizer._flat) -------------------------------------------------------------

def _pairs_with_a_shared_gradient(init):
    """Pairs whose first gradient is a view into a larger buffer: they cannot be laid end to end."""
    larger = torch.zeros(2 * init[0].numel(), dtype=F64)
    first = larger[:init[0].numel()].view(init[0].shape)
    return [(p.clone(), first if index == 0 else torch.zeros_like(p)) for index, p in enumerate(init)]


@pytest.mark.parametrize('make', [lambda pairs: m.Adam(pairs, lr=0.01, weight_decay=0.1),
                                  lambda pairs: m.SGD(pairs, lr=0.1, momentum=0.9, nesterov=True)],
                         ids=['adam', 'sgd'])
def test_the_flat_update_equals_the_update_per_parameter_to_the_bit(make):
    init, grads = _problem(3)
    flat_pairs = [(p.clone(), torch.zeros_like(p)) for p in init]
    apart_pairs = _pairs_with_a_shared_gradient(init)
    flat, apart = make(flat_pairs), make(apart_pairs)
    assert flat._flat is not None and apart._flat is None
    for gs in grads:
        for (_, g1), (_, g2), g in zip(flat_pairs, apart_pairs, gs):
            g1.copy_(g), g2.copy_(g)
        flat.step(), apart.step()
    assert all(torch.equal(p1, p2) for (p1, _), (p2, _) in zip(flat_pairs, apart_pairs))
    assert all(torch.equal(s1[key], s2[key]) for s1, s2 in zip(flat.state, apart.state) for key in s1)


def test_blocks_keep_their_tensors_and_a_second_optimizer_shares_the_buffers():
    network = m.Model._build_network(width=4, kernel_size=3, up_kernel_size=3)
    tensors = [tensor for pair in network.param() for tensor in pair]
    values = [tensor.clone() for tensor in tensors]
    first = m.Adam(network.param(), lr=0.1)
    assert [id(t) for pair in network.param() for t in pair] == [id(t) for t in tensors]
    assert all(torch.equal(t, v) for t, v in zip(tensors, values))
    network[0].weight_grad.fill_(1.0)
    first.step()
    assert not torch.equal(network[0].weight, values[0])  # the block's own weight moved
    second = m.Adam(network.param(), lr=0.1)
    assert second._flat.parameter.data_ptr() == first._flat.parameter.data_ptr()
    assert m.Adam(network.param()[:2], lr=0.1)._flat is None  # a part of another buffer: per parameter


def test_a_restored_state_continues_as_if_never_interrupted():
    init, grads = _problem(4)
    pairs = [(p.clone(), torch.zeros_like(p)) for p in init]
    optimizer = m.Adam(pairs, lr=0.01)

    def run(steps):
        for gs in steps:
            for (_, g), gg in zip(pairs, gs):
                g.copy_(gg)
            optimizer.step()

    run(grads[:3])
    saved_parameters, saved_state = [p.clone() for p, _ in pairs], optimizer.state_dict()
    run(grads[3:])
    uninterrupted = [p.clone() for p, _ in pairs]
    for (p, _), saved in zip(pairs, saved_parameters):
        p.copy_(saved)
    optimizer.load_state_dict(saved_state)
    run(grads[3:])
    assert all(torch.equal(p, q) for (p, _), q in zip(pairs, uninterrupted))
