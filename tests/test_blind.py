"""Tests of the bias-free variants of Mini-project 2's network (others/blind.py)."""
import pytest
import torch

from Proj_123456_654321.Miniproject_2.model import Conv2d, Model, Sequential, TransposeConv2d
from Proj_123456_654321.Miniproject_2.others import blind


def convolutions(model):
    return [block for block in model.network if isinstance(block, (Conv2d, TransposeConv2d))]


@pytest.mark.parametrize('upsampling', ['transposed', 'nearest'])
@pytest.mark.parametrize('variant, biased', [('bias', [True] * 4), ('bias-free', [False] * 4),
                                             ('output-bias', [False, False, False, True])])
def test_each_variant_has_the_required_shape_and_its_biases(variant, biased, upsampling):
    model = blind.VARIANTS[variant](width=8, upsampling=upsampling)
    plain = Model(width=8, upsampling=upsampling)
    assert [type(block) for block in model.network] == [type(block) for block in plain.network]
    assert [block.bias is not None for block in convolutions(model)] == biased
    for ours, reference in zip(convolutions(model), convolutions(plain)):
        assert (ours.kernel_size, ours.stride, ours.padding, ours.weight.shape) == \
               (reference.kernel_size, reference.stride, reference.padding, reference.weight.shape)
        assert getattr(ours, 'output_padding', None) == getattr(reference, 'output_padding', None)


@pytest.mark.parametrize('seed', range(5))
def test_without_biases_the_network_before_its_sigmoid_is_positively_homogeneous(seed):
    torch.manual_seed(seed)
    # In float64, so that rounding cannot hide a constant term.
    before_sigmoid = Sequential(*blind.BiasFreeModel(width=8).network.modules[:-1]).to(torch.float64)
    images = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    assert torch.allclose(before_sigmoid(3 * images), 3 * before_sigmoid(images), rtol=1e-12, atol=1e-12)
    with_output_bias = Sequential(*blind.OutputBiasModel(width=8).network.modules[:-1]).to(torch.float64)
    with_output_bias.modules[-1].bias.fill_(0.5)  # He initialisation starts biases at 0
    assert not torch.allclose(with_output_bias(3 * images), 3 * with_output_bias(images), rtol=1e-6)


def test_a_bias_free_model_trains_and_reloads(tmp_path):
    torch.manual_seed(0)
    model = blind.BiasFreeModel(width=8)
    pairs = torch.randint(0, 256, (2, 32, 3, 32, 32), dtype=torch.uint8)
    before = [parameter.clone() for parameter, _ in model.network.param()]
    model.train(pairs[0], pairs[1], 1, verbose=False, seed=0)
    assert all(not torch.equal(old, new) for old, (new, _) in zip(before, model.network.param()))
    path = model.save_model(tmp_path / 'bias_free.pth')
    loaded = blind.BiasFreeModel(width=8)
    loaded.load_pretrained_model(path)
    assert torch.equal(loaded.predict(pairs[0][:2]), model.predict(pairs[0][:2]))
    with pytest.raises(ValueError, match='shapes'):
        Model(width=8).load_pretrained_model(path)


def test_the_command_refuses_an_unknown_variant():
    with pytest.raises(SystemExit, match='usage'):
        blind.main(['unbiased', '--data', 'x'])
