"""Blocks of ``Miniproject_2/model.py`` checked against torch.

Every block is run forward and backward *without autograd* (inside
``torch.no_grad()``) and compared with ``torch.nn.functional`` + autograd:
output, gradient w.r.t. the input, and the parameter gradients found in
``param()``.  Computations are done in float64 so that the tolerances can be
tight.
"""
import copy
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from Proj_123456_654321.Miniproject_2 import model as m

torch.set_num_threads(1)  # tiny tensors: threading only costs time here


# The torch reference computations need autograd, which model.py turns off at import.
pytestmark = pytest.mark.usefixtures('autograd')


F32 = torch.float32
F64 = torch.float64
TOL = dict(rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def fmt(v):
    return "x".join(str(i) for i in v) if isinstance(v, (tuple, list)) else str(v)


def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def tconv_out(n, k, s, p, op, d):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def run_ours(blk, x, g):
    """forward then backward of one of our blocks, with autograd disabled.

    Also checks that neither the input nor the output gradient is modified
    in place."""
    x_in, g_in = x.clone(), g.clone()
    with torch.no_grad():
        y = blk(x_in)
        gx = blk.backward(g_in)
    assert torch.equal(x_in, x), "forward/backward modified its input in place"
    assert torch.equal(g_in, g), "backward modified gradwrtoutput in place"
    return y, gx


def to64(blk):
    out = blk.to(F64)
    assert out is blk, ".to() must return self"
    return blk


def leaf(t):
    return t.detach().clone().requires_grad_()


def check_param_grads(params, refs):
    """params: our param() list, refs: list of (torch parameter value, torch grad)."""
    assert len(params) == len(refs)
    for i, ((p, g), (rp, rg)) in enumerate(zip(params, refs)):
        assert p.shape == rp.shape, f"param {i}: shape"
        assert g.shape == rp.shape, f"param {i}: gradient shape"
        assert_close(p, rp, **TOL, msg=lambda s: f"param {i} value: {s}")
        assert_close(g, rg, **TOL, msg=lambda s: f"param {i} gradient: {s}")


# --------------------------------------------------------------------------
# Module API
# --------------------------------------------------------------------------
def _all_blocks():
    return [
        m.Conv2d(2, 3, 3),
        m.TransposeConv2d(2, 3, 3),
        m.NearestUpsampling(2),
        m.Upsampling(2, 3, 3),
        m.ReLU(),
        m.LeakyReLU(),
        m.Sigmoid(),
        m.Tanh(),
        m.MSE(),
        m.L1(),
        m.Sequential(m.Conv2d(2, 3, 3), m.ReLU()),
    ]


def test_blocks_are_modules():
    for blk in _all_blocks():
        assert isinstance(blk, m.Module), type(blk).__name__
        for meth in ("forward", "backward", "param", "zero_grad", "to"):
            assert callable(getattr(blk, meth)), (type(blk).__name__, meth)


def test_param_free_blocks_have_no_params():
    for blk in [m.NearestUpsampling(2), m.ReLU(), m.LeakyReLU(), m.Sigmoid(), m.Tanh(), m.MSE(), m.L1()]:
        assert list(blk.param()) == [], type(blk).__name__
        blk.zero_grad()  # must not fail


def test_to_returns_self_and_converts():
    for blk in _all_blocks():
        assert blk.to(F64) is blk
        for p, g in blk.param():
            assert p.dtype == F64 and g.dtype == F64, type(blk).__name__
        assert blk.to(torch.device("cpu")) is blk
        assert blk.to("cpu") is blk
        assert blk.to(F32) is blk
        for p, g in blk.param():
            assert p.dtype == F32 and g.dtype == F32, type(blk).__name__


def test_call_is_forward():
    torch.manual_seed(0)
    x = torch.randn(2, 2, 7, 6, dtype=F64)
    for blk in _all_blocks():
        if isinstance(blk, (m.MSE, m.L1)):
            t = torch.randn_like(x)
            assert torch.equal(blk(x, t), blk.forward(x, t))
            continue
        to64(blk)
        with torch.no_grad():
            assert torch.equal(blk(x), blk.forward(x)), type(blk).__name__


@pytest.mark.parametrize("name, args", [
    ("Conv2d", (2, 3, 3)), ("Conv2d", (1, 4, (3, 2))),
    ("TransposeConv2d", (2, 3, 3)), ("TransposeConv2d", (4, 1, (2, 5))),
    ("Upsampling", (2, 3, 3)),
])
def test_param_structure(name, args):
    for bias in (True, False):
        blk = getattr(m, name)(*args, bias=bias)
        params = blk.param()
        assert len(params) == (2 if bias else 1)
        p, g = params[0]
        assert p.data_ptr() == blk.weight.data_ptr() and p.shape == blk.weight.shape
        assert g.shape == p.shape and g.dtype == p.dtype
        assert torch.count_nonzero(g) == 0, "a fresh block must have zero gradients"
        if bias:
            p, g = params[1]
            assert p.data_ptr() == blk.bias.data_ptr() and p.shape == blk.bias.shape
            assert g.shape == p.shape
            assert torch.count_nonzero(g) == 0, "a fresh block must have zero gradients"
        else:
            assert blk.bias is None
        # the same tensor objects are returned on every call
        again = blk.param()
        assert all(a[0] is b[0] and a[1] is b[1] for a, b in zip(params, again))


# --------------------------------------------------------------------------
# attributes and initialisation
# --------------------------------------------------------------------------
CONV_ATTR_CASES = [
    ((3, 5, 3), {}),
    ((2, 4, (3, 2)), dict(stride=2, padding=1, dilation=2)),
    ((1, 2, 5), dict(stride=(1, 2), padding=(0, 2), dilation=(2, 1), bias=False)),
]


@pytest.mark.parametrize("args, kwargs", CONV_ATTR_CASES)
def test_conv2d_attributes(args, kwargs):
    ours, ref = m.Conv2d(*args, **kwargs), nn.Conv2d(*args, **kwargs)
    for a in ("in_channels", "out_channels"):
        assert getattr(ours, a) == getattr(ref, a), a
    for a in ("kernel_size", "stride", "padding", "dilation"):
        assert isinstance(getattr(ours, a), tuple), a
        assert getattr(ours, a) == getattr(ref, a), a
    assert ours.weight.shape == ref.weight.shape and ours.weight.dtype == F32
    assert (ours.bias is None) == (ref.bias is None)
    if ref.bias is not None:
        assert ours.bias.shape == ref.bias.shape and ours.bias.dtype == F32


@pytest.mark.parametrize("args, kwargs", CONV_ATTR_CASES + [
    ((2, 3, 3), dict(stride=2, output_padding=1)),
    ((2, 3, (2, 3)), dict(stride=(2, 1), output_padding=(1, 0), dilation=(1, 2))),
])
def test_transposeconv2d_attributes(args, kwargs):
    ours, ref = m.TransposeConv2d(*args, **kwargs), nn.ConvTranspose2d(*args, **kwargs)
    for a in ("in_channels", "out_channels"):
        assert getattr(ours, a) == getattr(ref, a), a
    for a in ("kernel_size", "stride", "padding", "output_padding", "dilation"):
        assert isinstance(getattr(ours, a), tuple), a
        assert getattr(ours, a) == getattr(ref, a), a
    assert ours.weight.shape == ref.weight.shape and ours.weight.dtype == F32
    assert (ours.bias is None) == (ref.bias is None)
    if ref.bias is not None:
        assert ours.bias.shape == ref.bias.shape


def test_upsampling_attributes():
    ours = m.Upsampling(2, 4, (3, 2), scale_factor=3, stride=2, padding=1, dilation=2)
    ref = nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=2)
    assert ours.scale_factor == 3
    for a in ("in_channels", "out_channels"):
        assert getattr(ours, a) == getattr(ref, a), a
    for a in ("kernel_size", "stride", "padding", "dilation"):
        assert isinstance(getattr(ours, a), tuple), a
        assert getattr(ours, a) == getattr(ref, a), a
    assert ours.weight.shape == ref.weight.shape and ours.bias.shape == ref.bias.shape
    assert m.Upsampling(2, 4, 3).scale_factor == 2  # default
    assert m.Upsampling(2, 4, 3, bias=False).bias is None


def test_activation_attributes():
    assert m.LeakyReLU().negative_slope == 0.01
    assert m.LeakyReLU(0.2).negative_slope == 0.2
    assert m.LeakyReLU(negative_slope=0.3).negative_slope == 0.3
    assert m.NearestUpsampling(3).scale_factor == 3


@pytest.mark.parametrize("name, args, fan_in", [
    ("Conv2d", (16, 32, 3), 16 * 9),
    ("Conv2d", (4, 6, (3, 5)), 4 * 15),
    ("TransposeConv2d", (16, 8, 3), 8 * 9),
    ("TransposeConv2d", (6, 4, (3, 5)), 4 * 15),
    ("Upsampling", (16, 32, 3), 16 * 9),
])
def test_init_distribution(name, args, fan_in):
    """weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (loose statistical check)."""
    torch.manual_seed(0)
    bound = fan_in ** -0.5
    blks = [getattr(m, name)(*args) for _ in range(80)]
    for what in ("weight", "bias"):
        v = torch.cat([getattr(b, what).detach().flatten() for b in blks]).double()
        n = v.numel()
        assert v.abs().max() <= bound * (1 + 1e-6), f"{what}: outside +-1/sqrt(fan_in)"
        assert v.abs().max() >= 0.9 * bound, f"{what}: range much narrower than +-1/sqrt(fan_in)"
        std = bound / 3 ** 0.5  # std of U(-bound, bound)
        assert abs(v.mean()) < 5 * std / n ** 0.5, f"{what}: mean not ~0"
        assert abs(v.std() / std - 1) < 0.15, f"{what}: std {v.std():.4g} != {std:.4g}"
        # roughly uniform: half of the mass within +-bound/2, half positive
        assert abs((v.abs() < bound / 2).double().mean() - 0.5) < 0.1, what
        assert abs((v > 0).double().mean() - 0.5) < 0.1, what
        # different blocks get different values
        assert not torch.equal(getattr(blks[0], what), getattr(blks[1], what))


@pytest.mark.parametrize("seed", [0, 1, 1234])
@pytest.mark.parametrize("args, kwargs", [
    ((3, 5, 3), {}),
    ((2, 4, (3, 2)), dict(stride=2, padding=1)),
    ((4, 1, 5), dict(bias=False)),
    ((1, 1, 1), {}),
    ((16, 8, (5, 4)), dict(dilation=2)),
])
def test_conv2d_init_matches_torch_seed(seed, args, kwargs):
    torch.manual_seed(seed)
    ours = m.Conv2d(*args, **kwargs)
    torch.manual_seed(seed)
    ref = nn.Conv2d(*args, **kwargs)
    assert_close(ours.weight, ref.weight.detach(), msg=lambda s: "weight: " + s)
    if ref.bias is None:
        assert ours.bias is None
    else:
        assert_close(ours.bias, ref.bias.detach(), msg=lambda s: "bias: " + s)


# --------------------------------------------------------------------------
# Conv2d
# --------------------------------------------------------------------------
CONV_SHAPES = [  # (N, C_in, C_out, H, W)
    (1, 1, 1, 11, 9),
    (3, 2, 3, 13, 12),
    (1, 3, 2, 13, 12),
    (3, 1, 4, 11, 9),
    (3, 4, 1, 9, 11),
]


def _conv_cases():
    cases = []
    grid = itertools.product([1, 2, 3, 4, 5, (1, 3), (3, 2), (5, 4)],  # kernel
                             [1, 2, 3, (1, 2)],                         # stride
                             [0, 1, 2, (0, 2)],                         # padding
                             [1, 2],                                    # dilation
                             [True, False])                             # bias
    edge = [  # small inputs: output of size 1, stride > input, H == 1, ...
        ((2, 2, 3, 3, 3), 3, 1, 0, 1, True),
        ((1, 1, 1, 1, 1), 1, 1, 0, 1, True),
        ((2, 3, 2, 5, 5), 3, 1, 0, 2, True),
        ((2, 2, 2, 4, 7), 3, 5, 0, 1, False),
        ((1, 2, 2, 2, 3), 3, 1, 1, 1, True),
        ((2, 1, 3, 1, 6), (1, 3), (1, 2), (0, 1), 1, True),
        ((1, 2, 1, 6, 5), 5, 2, 2, (2, 1), True),
        ((3, 2, 2, 8, 8), 2, 2, 0, 1, True),
        ((2, 3, 2, 9, 7), (2, 3), (3, 2), (1, 0), (1, 2), False),
    ]
    rows = [(CONV_SHAPES[i % len(CONV_SHAPES)],) + c for i, c in enumerate(grid)] + edge
    for shape, k, s, p, d, bias in rows:
        n, cin, cout, h, w = shape
        if min(conv_out(a, *b) for a, b in zip((h, w), zip(pair(k), pair(s), pair(p), pair(d)))) < 1:
            continue  # torch rejects it too
        cases.append(pytest.param(shape, k, s, p, d, bias,
                                  id=f"k{fmt(k)}-s{fmt(s)}-p{fmt(p)}-d{fmt(d)}-"
                                     f"{'b' if bias else 'nob'}-in{fmt(shape)}"))
    return cases


@pytest.mark.parametrize("shape, k, s, p, d, bias", _conv_cases())
def test_conv2d(shape, k, s, p, d, bias):
    n, cin, cout, h, w = shape
    blk = to64(m.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d, bias=bias))
    params = blk.param()
    assert (blk.bias is None) == (not bias)
    wr = leaf(blk.weight)
    br = leaf(blk.bias) if bias else None
    x = torch.randn(n, cin, h, w, dtype=F64)
    xr = leaf(x)
    yr = F.conv2d(xr, wr, br, s, p, d)
    g = torch.randn_like(yr)
    yr.backward(g)

    y, gx = run_ours(blk, x, g)
    assert y.shape == yr.shape
    assert_close(y, yr.detach(), **TOL, msg=lambda s_: "forward: " + s_)
    assert gx.shape == x.shape
    assert_close(gx, xr.grad, **TOL, msg=lambda s_: "input grad: " + s_)
    check_param_grads(params, [(wr.detach(), wr.grad)] + ([(br.detach(), br.grad)] if bias else []))


# --------------------------------------------------------------------------
# TransposeConv2d
# --------------------------------------------------------------------------
TCONV_SHAPES = [  # (N, C_in, C_out, H, W)
    (1, 1, 1, 5, 4),
    (3, 2, 3, 7, 6),
    (1, 3, 2, 5, 7),
    (3, 1, 4, 6, 5),
    (3, 4, 1, 3, 5),
]


def _tconv_cases():
    cases = []
    grid = itertools.product([1, 2, 3, (1, 3), (3, 2), (5, 4)],   # kernel
                             [1, 2, 3, (1, 2)],                    # stride
                             [0, 1, (0, 2)],                       # padding
                             [0, 1, (1, 0)],                       # output_padding
                             [1, 2],                               # dilation
                             [True, False])                        # bias
    edge = [
        ((1, 1, 1, 1, 1), 1, 1, 0, 0, 1, True),
        ((2, 2, 3, 1, 1), 3, 2, 0, 1, 1, True),
        ((2, 2, 2, 3, 3), 3, 1, 1, 0, 1, False),   # 'same' size
        ((1, 2, 2, 4, 5), 4, 2, 1, 0, 1, True),    # exact x2 upsampling
        ((2, 3, 2, 3, 4), 3, 1, 2, 1, 2, True),    # output_padding < dilation (stride 1)
        ((1, 2, 1, 4, 3), (2, 3), (3, 2), (1, 0), (2, 1), (1, 2), True),
        ((2, 1, 2, 2, 2), 5, 1, 2, 0, 1, True),    # padding shrinking to size 2
    ]
    rows = [(TCONV_SHAPES[i % len(TCONV_SHAPES)],) + c for i, c in enumerate(grid)] + edge
    for shape, k, s, p, op, d, bias in rows:
        n, cin, cout, h, w = shape
        dims = list(zip((h, w), pair(k), pair(s), pair(p), pair(op), pair(d)))
        if any(op_ >= s_ and op_ >= d_ for _, _, s_, _, op_, d_ in dims):
            continue  # torch: output_padding must be smaller than stride or dilation
        if min(tconv_out(*dim) for dim in dims) < 1:
            continue
        cases.append(pytest.param(shape, k, s, p, op, d, bias,
                                  id=f"k{fmt(k)}-s{fmt(s)}-p{fmt(p)}-op{fmt(op)}-d{fmt(d)}-"
                                     f"{'b' if bias else 'nob'}-in{fmt(shape)}"))
    return cases


@pytest.mark.parametrize("shape, k, s, p, op, d, bias", _tconv_cases())
def test_transposeconv2d(shape, k, s, p, op, d, bias):
    n, cin, cout, h, w = shape
    blk = to64(m.TransposeConv2d(cin, cout, k, stride=s, padding=p, output_padding=op,
                                 dilation=d, bias=bias))
    params = blk.param()
    assert blk.weight.shape == (cin, cout) + pair(k)
    assert (blk.bias is None) == (not bias)
    wr = leaf(blk.weight)
    br = leaf(blk.bias) if bias else None
    x = torch.randn(n, cin, h, w, dtype=F64)
    xr = leaf(x)
    yr = F.conv_transpose2d(xr, wr, br, s, p, op, 1, d)
    g = torch.randn_like(yr)
    yr.backward(g)

    y, gx = run_ours(blk, x, g)
    # Where torch's own sums are not im2col's (batches, kernels over 3 a side) and output_padding < stride, the
    # channels-last path (_TransposedPatches) computes; elsewhere fold and unfold.
    assert blk._fast == ((n > 1 or min(pair(k)) > 3) and all(o < s_ for o, s_ in zip(pair(op), pair(s))))
    assert y.shape == yr.shape
    assert_close(y, yr.detach(), **TOL, msg=lambda s_: "forward: " + s_)
    assert gx.shape == x.shape
    assert_close(gx, xr.grad, **TOL, msg=lambda s_: "input grad: " + s_)
    check_param_grads(params, [(wr.detach(), wr.grad)] + ([(br.detach(), br.grad)] if bias else []))


# --------------------------------------------------------------------------
# NearestUpsampling and Upsampling
# --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (1, 1, 5, 3), (3, 2, 7, 6), (2, 3, 4, 9)], ids=fmt)
@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_nearest_upsampling(scale, shape):
    blk = to64(m.NearestUpsampling(scale))
    assert list(blk.param()) == []
    x = torch.randn(shape, dtype=F64)
    xr = leaf(x)
    yr = F.interpolate(xr, scale_factor=scale, mode="nearest")
    g = torch.randn_like(yr)
    yr.backward(g)
    y, gx = run_ours(blk, x, g)
    assert y.shape == yr.shape
    assert_close(y, yr.detach(), rtol=0, atol=0)
    assert_close(gx, xr.grad, **TOL)


UP_SHAPES = [  # (N, C_in, C_out, H, W)
    (1, 1, 1, 5, 3),
    (3, 2, 3, 4, 5),
    (1, 3, 2, 3, 3),
    (3, 1, 2, 5, 4),
    (2, 2, 1, 3, 4),
]


def _up_cases():
    """Upsampling is NearestUpsampling then Conv2d, each checked on its own grid: a smaller grid of the pair,
    batches of 1 (torch's im2col path) and more (the convolution's fast path)."""
    cases = []
    grid = itertools.product([2, 3],            # scale
                             [1, 2, 3],         # kernel
                             [0, 1],            # padding
                             [1, 2],            # stride
                             [1, 2])            # dilation
    extra = [(3, (3, 2), (0, 1), (1, 2), (2, 1), True), (4, (1, 3), (1, 0), 1, 1, False)]
    for i, (sc, k, p, s, d, bias) in enumerate([row + (index % 3 != 2,) for index, row in enumerate(grid)] + extra):
        shape = UP_SHAPES[i % len(UP_SHAPES)]
        n, cin, cout, h, w = shape
        if min(conv_out(sc * a, *b) for a, b in zip((h, w), zip(pair(k), pair(s), pair(p), pair(d)))) < 1:
            continue
        cases.append(pytest.param(shape, sc, k, s, p, d, bias,
                                  id=f"x{sc}-k{fmt(k)}-s{fmt(s)}-p{fmt(p)}-d{fmt(d)}-"
                                     f"{'b' if bias else 'nob'}-in{fmt(shape)}"))
    return cases


@pytest.mark.parametrize("shape, sc, k, s, p, d, bias", _up_cases())
def test_upsampling(shape, sc, k, s, p, d, bias):
    n, cin, cout, h, w = shape
    blk = to64(m.Upsampling(cin, cout, k, scale_factor=sc, stride=s, padding=p,
                            dilation=d, bias=bias))
    params = blk.param()
    assert (blk.bias is None) == (not bias)
    wr = leaf(blk.weight)
    br = leaf(blk.bias) if bias else None
    x = torch.randn(n, cin, h, w, dtype=F64)
    xr = leaf(x)
    yr = F.conv2d(F.interpolate(xr, scale_factor=sc, mode="nearest"), wr, br, s, p, d)
    g = torch.randn_like(yr)
    yr.backward(g)

    y, gx = run_ours(blk, x, g)
    assert y.shape == yr.shape
    assert_close(y, yr.detach(), **TOL, msg=lambda s_: "forward: " + s_)
    assert gx.shape == x.shape
    assert_close(gx, xr.grad, **TOL, msg=lambda s_: "input grad: " + s_)
    check_param_grads(params, [(wr.detach(), wr.grad)] + ([(br.detach(), br.grad)] if bias else []))


# --------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------
SPECIAL = [-1e3, -100.0, -30.0, -1.0, -1e-3, 0.0, 0.0, 1e-3, 1.0, 30.0, 100.0, 1e3]

ACTIVATIONS = [
    pytest.param(lambda: m.ReLU(), F.relu, id="ReLU"),
    pytest.param(lambda: m.LeakyReLU(), lambda x: F.leaky_relu(x, 0.01), id="LeakyReLU-default"),
    *[pytest.param(lambda s=s: m.LeakyReLU(s), lambda x, s=s: F.leaky_relu(x, s),
                   id=f"LeakyReLU-{s}") for s in (0.0, 0.1, 0.25, 0.5)],
    pytest.param(lambda: m.LeakyReLU(negative_slope=0.2), lambda x: F.leaky_relu(x, 0.2),
                 id="LeakyReLU-kw0.2"),
    pytest.param(lambda: m.Sigmoid(), torch.sigmoid, id="Sigmoid"),
    pytest.param(lambda: m.Tanh(), torch.tanh, id="Tanh"),
]


@pytest.mark.parametrize("shape", [(2, 3, 5, 4), (17,)], ids=fmt)
@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("make, ref", ACTIVATIONS)
def test_activation(make, ref, dtype, shape):
    blk = make()
    assert blk.to(dtype) is blk
    assert list(blk.param()) == []
    x = 3 * torch.randn(shape, dtype=dtype)
    x.view(-1)[:len(SPECIAL)] = torch.tensor(SPECIAL, dtype=dtype)
    xr = leaf(x)
    yr = ref(xr)
    g = torch.randn_like(yr)
    yr.backward(g)
    y, gx = run_ours(blk, x, g)
    assert y.dtype == dtype and gx.dtype == dtype
    assert torch.isfinite(y).all(), "non-finite output"
    assert torch.isfinite(gx).all(), "non-finite gradient"
    tol = TOL if dtype == F64 else {}
    assert_close(y, yr.detach(), **tol, msg=lambda s: "forward: " + s)
    assert_close(gx, xr.grad, **tol, msg=lambda s: "input grad: " + s)


# --------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------
LOSSES = [(m.MSE, F.mse_loss), (m.L1, F.l1_loss)]


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 5, 4)], ids=fmt)
@pytest.mark.parametrize("dtype", [F32, F64], ids=str)
@pytest.mark.parametrize("make, ref", LOSSES, ids=["mse", "l1"])
def test_loss(make, ref, shape, dtype):
    crit = make()
    x, t = torch.randn(shape, dtype=dtype), torch.randn(shape, dtype=dtype)
    xr = leaf(x)
    lr = ref(xr, t)
    lr.backward()
    x_in, t_in = x.clone(), t.clone()
    with torch.no_grad():
        loss = crit.forward(x_in, t_in)
        gx = crit.backward()
    assert torch.equal(x_in, x) and torch.equal(t_in, t), "the loss modified its inputs"
    assert isinstance(loss, torch.Tensor) and loss.dim() == 0, "loss must be a scalar tensor"
    tol = TOL if dtype == F64 else {}
    assert_close(loss, lr.detach(), **tol)
    assert gx.shape == x.shape
    assert_close(gx, xr.grad, **tol)
    with torch.no_grad():
        assert_close(crit(x, t), lr.detach(), **tol)


@pytest.mark.parametrize("make, ref", LOSSES, ids=["mse", "l1"])
def test_loss_zero(make, ref):
    x = torch.randn(2, 3, 4, 4, dtype=F64)
    crit = make()
    assert crit(x, x.clone()).item() == 0
    assert torch.count_nonzero(crit.backward()) == 0
    # where input equals target, L1's gradient is 0 as in torch (sign(0) = 0)
    xr = leaf(x)
    ref(xr, x.clone()).backward()
    assert torch.equal(crit.backward(), xr.grad)


@pytest.mark.parametrize("make", [m.MSE, m.L1], ids=["mse", "l1"])
def test_loss_shape_mismatch(make):
    with pytest.raises(ValueError, match="one shape"):
        make()(torch.zeros(2, 3), torch.zeros(3, 2))


# --------------------------------------------------------------------------
# Sequential
# --------------------------------------------------------------------------
def _net_pair(bias=True):
    ours = m.Sequential(
        m.Conv2d(3, 6, 3, stride=2, padding=1, bias=bias), m.ReLU(),
        m.Conv2d(6, 8, 3, stride=2, padding=1), m.ReLU(),
        m.Upsampling(8, 6, 3, scale_factor=2, padding=1), m.ReLU(),
        m.Upsampling(6, 3, 3, scale_factor=2, padding=1, bias=bias), m.Sigmoid(),
    )
    ref = nn.Sequential(
        nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=bias), nn.ReLU(),
        nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 6, 3, padding=1), nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(6, 3, 3, padding=1, bias=bias),
        nn.Sigmoid(),
    ).double()
    assert to64(ours) is ours
    params = ours.param()
    ref_params = list(ref.parameters())
    assert len(params) == len(ref_params)
    with torch.no_grad():
        for (p, g), rp in zip(params, ref_params):
            assert p.shape == rp.shape and p.dtype == F64 and g.dtype == F64
            rp.copy_(p)
    return ours, ref, params


@pytest.mark.parametrize("bias", [True, False])
def test_sequential_matches_torch(bias):
    torch.manual_seed(0)
    ours, ref, params = _net_pair(bias)
    x = torch.randn(2, 3, 12, 16, dtype=F64)
    xr = leaf(x)
    yr = ref(xr)
    g = torch.randn_like(yr)
    yr.backward(g)
    y, gx = run_ours(ours, x, g)
    assert y.shape == yr.shape == x.shape
    assert_close(y, yr.detach(), **TOL)
    assert_close(gx, xr.grad, **TOL)
    check_param_grads(params, [(rp.detach(), rp.grad) for rp in ref.parameters()])


def test_sequential_with_mse_matches_torch():
    torch.manual_seed(1)
    ours, ref, params = _net_pair()
    x, t = torch.randn(3, 3, 8, 8, dtype=F64), torch.rand(3, 3, 8, 8, dtype=F64)
    xr = leaf(x)
    lr = F.mse_loss(ref(xr), t)
    lr.backward()
    crit = m.MSE()
    with torch.no_grad():
        loss = crit(ours(x), t)
        gx = ours.backward(crit.backward())
    assert_close(loss, lr.detach(), **TOL)
    assert_close(gx, xr.grad, **TOL)
    check_param_grads(params, [(rp.detach(), rp.grad) for rp in ref.parameters()])


def test_sequential_container_api():
    mods = [m.Conv2d(2, 3, 3), m.ReLU(), m.TransposeConv2d(3, 2, 3), m.Tanh()]
    seq = m.Sequential(*mods)
    assert isinstance(seq, m.Module)
    assert len(seq) == 4
    assert seq[0] is mods[0] and seq[3] is mods[3]
    assert list(seq) == mods and all(a is b for a, b in zip(seq, mods))
    params = seq.param()
    children = [pg for mod in mods for pg in mod.param()]
    assert len(params) == len(children) == 4
    assert all(a[0] is b[0] and a[1] is b[1] for a, b in zip(params, children))
    assert len(m.Sequential(m.ReLU(), m.Sigmoid()).param()) == 0


def test_sequential_to_converts_children():
    seq = m.Sequential(m.Conv2d(2, 3, 3), m.ReLU(), m.Upsampling(3, 2, 3, padding=1))
    assert seq.to(F64) is seq
    assert seq[0].weight.dtype == F64 and seq[2].weight.dtype == F64
    assert all(p.dtype == F64 and g.dtype == F64 for p, g in seq.param())
    with torch.no_grad():
        y = seq(torch.randn(1, 2, 7, 7, dtype=F64))
    assert y.dtype == F64 and y.shape == (1, 2, 10, 10)


# --------------------------------------------------------------------------
# gradient accumulation and zero_grad
# --------------------------------------------------------------------------
ACC_BLOCKS = [
    pytest.param(lambda: m.Conv2d(2, 3, 3, stride=2, padding=1),
                 lambda x, w, b: F.conv2d(x, w, b, 2, 1), id="Conv2d"),
    pytest.param(lambda: m.TransposeConv2d(2, 3, 3, stride=2, padding=1, output_padding=1),
                 lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1), id="TransposeConv2d"),
    pytest.param(lambda: m.Upsampling(2, 3, 3, scale_factor=2, padding=1),
                 lambda x, w, b: F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, b,
                                          1, 1), id="Upsampling"),
]


@pytest.mark.parametrize("make, ref", ACC_BLOCKS)
def test_gradient_accumulation_same_input(make, ref):
    blk = to64(make())
    params = blk.param()
    grads = [g for _, g in params]
    x = torch.randn(2, 2, 7, 5, dtype=F64)
    with torch.no_grad():
        y = blk(x)
        g = torch.randn_like(y)
        gx1 = blk.backward(g)
        once = [t.clone() for t in grads]
        y2 = blk(x)
        gx2 = blk.backward(g)
    assert torch.equal(y, y2)
    assert_close(gx2, gx1, **TOL)  # the input gradient does not accumulate
    assert any(torch.count_nonzero(t) for t in once)
    for t, t1 in zip(grads, once):
        assert_close(t, 2 * t1, **TOL)
    assert all(a[1] is b for a, b in zip(blk.param(), grads)), "gradient tensors replaced"
    blk.zero_grad()
    assert all(a[1] is b for a, b in zip(blk.param(), grads)), "zero_grad replaced the tensors"
    assert all(torch.count_nonzero(t) == 0 for t in grads)
    # after zero_grad, a backward gives the single gradient again
    with torch.no_grad():
        blk(x)
        blk.backward(g)
    for t, t1 in zip(grads, once):
        assert_close(t, t1, **TOL)


@pytest.mark.parametrize("make, ref", ACC_BLOCKS)
def test_gradient_accumulation_two_inputs(make, ref):
    blk = to64(make())
    params = blk.param()
    w, b = leaf(blk.weight), leaf(blk.bias)
    x1, x2 = torch.randn(2, 2, 7, 5, dtype=F64), torch.randn(3, 2, 7, 5, dtype=F64)
    y1, y2 = ref(x1, w, b), ref(x2, w, b)
    g1, g2 = torch.randn_like(y1), torch.randn_like(y2)
    (y1 * g1).sum().add((y2 * g2).sum()).backward()
    with torch.no_grad():
        blk(x1)
        blk.backward(g1)
        blk(x2)
        blk.backward(g2)
    check_param_grads(params, [(w.detach(), w.grad), (b.detach(), b.grad)])


def test_sequential_zero_grad():
    seq = to64(m.Sequential(m.Conv2d(2, 3, 3), m.ReLU(), m.TransposeConv2d(3, 2, 3)))
    params = seq.param()
    x = torch.randn(2, 2, 6, 6, dtype=F64)
    with torch.no_grad():
        seq.backward(torch.randn_like(seq(x)))
    assert all(torch.count_nonzero(g) > 0 for _, g in params)
    seq.zero_grad()
    assert all(torch.count_nonzero(g) == 0 for _, g in params)
    assert all(a[1] is b[1] for a, b in zip(seq.param(), params))
    assert all(torch.count_nonzero(g) == 0 for _, g in seq[0].param() + seq[2].param())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_conv2d_on_cuda():
    blk = m.Conv2d(2, 3, 3, stride=2, padding=1).to(F64)
    assert blk.to(torch.device("cuda")) is blk
    params = blk.param()
    assert all(p.is_cuda and g.is_cuda for p, g in params)
    x = torch.randn(2, 2, 9, 7, dtype=F64, device="cuda")
    xr, wr, br = leaf(x), leaf(blk.weight), leaf(blk.bias)
    yr = F.conv2d(xr, wr, br, 2, 1)
    g = torch.randn_like(yr)
    yr.backward(g)
    y, gx = run_ours(blk, x, g)
    assert y.is_cuda
    assert_close(y, yr.detach(), **TOL)
    assert_close(gx, xr.grad, **TOL)
    check_param_grads(params, [(wr.detach(), wr.grad), (br.detach(), br.grad)])


# --------------------------------------------------------------------------
# buffers kept between calls
# --------------------------------------------------------------------------
KEPT_BUFFER_BLOCKS = [  # the fast paths of the shipped network's blocks
    pytest.param(lambda: m.Conv2d(3, 4, 3, stride=2, padding=1), id="Conv2d"),
    pytest.param(lambda: m.Conv2d(3, 5, (3, 2), padding=(2, 1), dilation=(2, 1)), id="Conv2d-dilated"),
    pytest.param(lambda: m.TransposeConv2d(3, 4, 3, stride=2, padding=1, output_padding=1), id="TransposeConv2d"),
    pytest.param(lambda: m.TransposeConv2d(3, 2, 4, stride=2, padding=1), id="TransposeConv2d-even-kernel"),
]


def kept_buffers(block):
    """The ``_PaddedPatches`` that keep a block's buffers: a convolution's own, or for a transposed one, those of
    its adjoint convolution (its backward)."""
    return [block._patches.adjoint if isinstance(block, m.TransposeConv2d) else block._padded_patches]


@pytest.mark.parametrize("make", KEPT_BUFFER_BLOCKS)
def test_kept_buffers_do_not_leak_between_calls(make):
    """Blocks keep their zero-bordered buffers between calls: a block that has already run on other inputs,
    of this shape and of another, gives exactly what a fresh copy gives."""
    torch.manual_seed(0)
    used = to64(make())
    shapes = [(2, 3, 7, 5), (3, 3, 4, 6), (2, 3, 7, 5)]
    for index, shape in enumerate(shapes):
        fresh = copy.deepcopy(used)
        for patches in kept_buffers(fresh):
            patches.kept.clear()
        fresh.zero_grad()
        used.zero_grad()
        x = torch.randn(shape, dtype=F64)
        g = torch.randn_like(fresh(x))
        expected = fresh(x), fresh.backward(g), [grad.clone() for _, grad in fresh.param()]
        got = used(x), used.backward(g), [grad.clone() for _, grad in used.param()]
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1]), f"call {index}"
        assert all(torch.equal(a, b) for a, b in zip(got[2], expected[2])), f"call {index}"


@pytest.mark.parametrize("make", KEPT_BUFFER_BLOCKS)
def test_buffers_over_the_limit_are_not_kept(make):
    """A large input's buffers are not held after the call (``predict``'s chunks would keep them otherwise)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 5, dtype=F64)
    block = to64(make())
    limited = copy.deepcopy(block)
    block.backward(torch.randn_like(block(x)))
    sizes = [(value[0] if isinstance(value, tuple) else value).numel()
             for patches in kept_buffers(block) for _, value in patches.kept.values()]
    assert sizes, "a training step keeps its buffers"
    for patches in kept_buffers(limited):
        patches.MAX_KEPT = min(sizes) - 1
    limited.backward(torch.randn_like(limited(x)))
    assert all(patches.kept == {} for patches in kept_buffers(limited))
