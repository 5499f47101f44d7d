"""Our blocks against torch at the course autograder's own tolerance: ``torch.allclose`` with its defaults.

    python -m Proj_123456_654321.Miniproject_2.others.exactness [--draws 1000] [--json PATH]

The course compares a block with torch by ``torch.allclose(ours, torch's)``: rtol 1e-5 and atol 1e-8, so
near 0 two results may differ by about 1e-8, and only the same sums in the same order pass on every draw.
torch's CPU convolution computes one small image by im2col and one matrix product (``Conv2d``'s docstring
says when), and there our blocks compute in torch's order. This module draws inputs and weights, runs our
forward and backward and torch's (``torch.nn.functional`` + autograd), and reports:

* the course's three published block checks (``published_checks``), on ``--draws`` seeded draws;
* every block, forward and every gradient, on batch-1 inputs where torch uses im2col (``IM2COL_CASES``);
* the largest differences where torch calls oneDNN (``ONEDNN_CASES``: batches, kernels above 3×3), which
  no other summation order reproduces, each relative to its tensor's scale (``scaled_difference``): the
  median over draws is float32 rounding; the maximum can be larger where a pre-activation lies within
  rounding of 0, so that a ReLU decides differently (measured at width 48: 2 of 100 draws of the network
  shipped then).

``test.py`` and ``tests/test_torch_exact.py`` run the same comparisons; the report quotes the JSON.
"""
import argparse
import json
import os
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import model as m

RESULTS = Path(__file__).resolve().parent / 'results' / 'exactness.json'


def upsample(x, scale_factor=2):
    return F.interpolate(x, scale_factor=scale_factor, mode='nearest')


def network_reference(x, *parameters, kernel_size=3, up_kernel_size=3, upsampling='transposed'):
    """torch's functions for ``Model._build_network``'s shape and these arguments, with its parameters in
    ``param()`` order."""
    w1, b1, w2, b2, w3, b3, w4, b4 = parameters
    down_padding = (kernel_size - 1) // 2
    y = F.relu(F.conv2d(x, w1, b1, stride=2, padding=down_padding))
    y = F.relu(F.conv2d(y, w2, b2, stride=2, padding=down_padding))
    if upsampling == 'transposed':
        up_padding, output_padding = (up_kernel_size - 1) // 2, up_kernel_size % 2
        y = F.relu(F.conv_transpose2d(y, w3, b3, stride=2, padding=up_padding, output_padding=output_padding))
        return F.conv_transpose2d(y, w4, b4, stride=2, padding=up_padding, output_padding=output_padding).sigmoid()
    y = F.relu(F.conv2d(upsample(y), w3, b3, padding=up_kernel_size // 2))
    return F.conv2d(upsample(y), w4, b4, padding=up_kernel_size // 2).sigmoid()


# name -> (make the block, torch's reference taking (input, *parameters in param() order), input shape).
IM2COL_CASES = {
    'Conv2d(3, 3, 3)': (lambda: m.Conv2d(3, 3, 3), F.conv2d, (1, 3, 32, 32)),
    'Conv2d(3, 8, 3, stride=2, padding=1)': (
        lambda: m.Conv2d(3, 8, 3, stride=2, padding=1),
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (1, 3, 32, 32)),
    'Conv2d(5, 4, (2, 3), stride=(3, 1), padding=(1, 0))': (
        lambda: m.Conv2d(5, 4, (2, 3), stride=(3, 1), padding=(1, 0)),
        lambda x, w, b: F.conv2d(x, w, b, stride=(3, 1), padding=(1, 0)), (1, 5, 17, 23)),
    'Conv2d(3, 4, 3, padding=2, dilation=2, bias=False)': (
        lambda: m.Conv2d(3, 4, 3, padding=2, dilation=2, bias=False),
        lambda x, w: F.conv2d(x, w, padding=2, dilation=2), (1, 3, 32, 32)),
    'TransposeConv2d(3, 3, 3, stride=2, padding=1)': (
        lambda: m.TransposeConv2d(3, 3, 3, stride=2, padding=1),
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), (1, 3, 16, 16)),
    'TransposeConv2d(8, 3, 3, stride=2, padding=1, output_padding=1)': (
        lambda: m.TransposeConv2d(8, 3, 3, stride=2, padding=1, output_padding=1),
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), (1, 8, 16, 16)),
    # the shipped network's first upsampling stage, on the 8×8 features of a 32×32 image
    'TransposeConv2d(160, 160, 3, stride=2, padding=1, output_padding=1)': (
        lambda: m.TransposeConv2d(160, 160, 3, stride=2, padding=1, output_padding=1),
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1), (1, 160, 8, 8)),
    'NearestUpsampling(2)': (lambda: m.NearestUpsampling(2), upsample, (1, 3, 32, 32)),
    'Upsampling(3, 3, 3, padding=1)': (
        lambda: m.Upsampling(3, 3, 3, padding=1),
        lambda x, w, b: F.conv2d(upsample(x), w, b, padding=1), (1, 3, 32, 32)),
    'ReLU()': (m.ReLU, F.relu, (1, 3, 32, 32)),
    'LeakyReLU()': (m.LeakyReLU, F.leaky_relu, (1, 3, 32, 32)),
    'Sigmoid()': (m.Sigmoid, torch.sigmoid, (1, 3, 32, 32)),
    'Tanh()': (m.Tanh, torch.tanh, (1, 3, 32, 32)),
    'the required network, width 8, kernels 3, nearest upsampling': (
        lambda: m.Model._build_network(8, 3, 3, 'nearest'),
        lambda x, *parameters: network_reference(x, *parameters, upsampling='nearest'), (1, 3, 32, 32)),
    'the required network, width 8, kernels 3, transposed upsampling': (
        lambda: m.Model._build_network(8, 3, 3, 'transposed'), network_reference, (1, 3, 32, 32)),
}

SHIPPED = m.Model.Config()

# Where torch's convolution calls oneDNN: agreement to float32 rounding, not to the last bit.
ONEDNN_CASES = {
    'Conv2d(3, 48, 3, stride=2, padding=1), batch 16': (
        lambda: m.Conv2d(3, 48, 3, stride=2, padding=1),
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (16, 3, 32, 32)),
    'Conv2d(3, 3, 5)': (lambda: m.Conv2d(3, 3, 5), F.conv2d, (1, 3, 32, 32)),
    'TransposeConv2d(8, 3, 4, stride=2, padding=1), batch 16': (
        lambda: m.TransposeConv2d(8, 3, 4, stride=2, padding=1),
        lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1), (16, 8, 16, 16)),
    'Upsampling(8, 3, 5, padding=2)': (
        lambda: m.Upsampling(8, 3, 5, padding=2),
        lambda x, w, b: F.conv2d(upsample(x), w, b, padding=2), (1, 8, 16, 16)),
    f'the shipped network (width {SHIPPED.width}, kernels {SHIPPED.kernel_size} / {SHIPPED.up_kernel_size}, '
    f'{SHIPPED.upsampling} upsampling), batch 16': (
        lambda: m.Model._build_network(**SHIPPED.architecture()),
        lambda x, *parameters: network_reference(x, *parameters, **{
            name: value for name, value in SHIPPED.architecture().items() if name != 'width'}),
        (16, 3, 32, 32)),
}


def compare(block, reference, x):
    """``(name, ours, torch's)`` for the output, the input gradient and each parameter gradient of our
    ``block`` and of ``reference`` (torch's functions, on leaf copies of ``x`` and the block's parameters,
    differentiated by autograd), for one random output gradient."""
    output = block.forward(x.clone())
    grad_output = torch.randn(output.shape)
    grad_input = block.backward(grad_output.clone())
    with torch.enable_grad():
        leaves = [tensor.detach().clone().requires_grad_() for tensor in (x, *(p for p, _ in block.param()))]
        expected = reference(*leaves)
        expected.backward(grad_output)
    pairs = [('output', output, expected.detach()), ('input gradient', grad_input, leaves[0].grad)]
    pairs += [(f'gradient of parameter {i}', gradient, leaf.grad)
              for i, ((_, gradient), leaf) in enumerate(zip(block.param(), leaves[1:]))]
    return pairs


def compare_mse(input, target):
    """``compare`` for the loss ``MSE`` (its forward takes a target, its backward no gradient)."""
    loss = m.MSE()
    value = loss.forward(input, target)
    grad_input = loss.backward()
    with torch.enable_grad():
        leaf = input.clone().requires_grad_()
        expected = F.mse_loss(leaf, target)
        expected.backward()
    return [('loss', value, expected.detach()), ('input gradient', grad_input, leaf.grad)]


def draw_mse(seed):
    """``compare_mse`` for an input and a target drawn after ``manual_seed(seed)``."""
    torch.manual_seed(seed)
    return compare_mse(torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32))


def draw_case(case, seed):
    """``compare`` for one of the ``*_CASES`` entries, with weights and input drawn after ``manual_seed(seed)``."""
    make, reference, shape = case
    torch.manual_seed(seed)
    block = make()
    return compare(block, reference, torch.randn(shape))


def allclose_failures(pairs):
    """The names of the pairs that fail ``torch.allclose`` at its default tolerances, each with its largest
    absolute difference."""
    return [f"{name} (max |difference| {(ours - theirs).abs().max().item():.2e})"
            for name, ours, theirs in pairs if not torch.allclose(ours, theirs)]


def scaled_difference(ours, theirs):
    """The largest ``|ours - theirs|`` over the largest ``|theirs|``: float32 rounding of long sums shows
    as ~1e-7 to 1e-6 whatever the values' scale (a weight gradient sums thousands of products)."""
    return ((ours - theirs).abs().max() / theirs.abs().max().clamp(min=1e-30)).item()


def published_checks(seed):
    """The course's published block checks on the draw of ``seed``: the names of those that fail."""
    torch.manual_seed(seed)
    x = torch.randn(1, 3, 32, 32)
    conv, sigmoid = m.Conv2d(3, 3, 3), m.Sigmoid()
    expected = F.conv2d(x, conv.weight, conv.bias)
    checks = {'convolution': (conv.forward(x), expected), 'sigmoid': (sigmoid.forward(x), torch.sigmoid(x)),
              'sequential': (m.Sequential(conv, sigmoid).forward(x), expected.sigmoid())}
    return [name for name, (ours, theirs) in checks.items() if not torch.allclose(ours, theirs)]


def measure(draws):
    """Every comparison above on ``draws`` seeded draws (a tenth of them for the per-block cases)."""
    failed_published = [(seed, name) for seed in range(draws) for name in published_checks(seed)]
    case_draws = max(1, draws // 10)
    draw_functions = {name: (lambda seed, case=case: draw_case(case, seed)) for name, case in IM2COL_CASES.items()}
    draw_functions['MSE()'] = draw_mse
    im2col = {name: {'draws': case_draws,
                     'failed_draws': sum(bool(allclose_failures(draw(seed))) for seed in range(case_draws))}
              for name, draw in draw_functions.items()}
    onednn = {}
    for name, case in ONEDNN_CASES.items():
        per_draw, failures = [], 0
        for seed in range(case_draws):
            pairs = draw_case(case, seed)
            per_draw.append(max(scaled_difference(ours, theirs) for _, ours, theirs in pairs))
            failures += bool(allclose_failures(pairs))
        onednn[name] = {'draws': case_draws, 'failed_draws': failures,
                        'median_scaled_difference': statistics.median(per_draw),
                        'max_scaled_difference': max(per_draw)}
    return {'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'published_checks': {'draws': draws, 'failed': len(failed_published)},
            'im2col_cases': im2col, 'onednn_cases': onednn}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--draws', type=int, default=1000, help='draws of the published checks (default 1000)')
    parser.add_argument('--json', type=Path, default=RESULTS, help=f'results file (default {RESULTS})')
    arguments = parser.parse_args()
    if arguments.draws < 1:
        parser.error('--draws must be at least 1')
    results = measure(arguments.draws)
    published = results['published_checks']
    print(f"torch {results['torch']}, {results['threads']} threads; torch.allclose at its defaults "
          f"(rtol 1e-5, atol 1e-8)")
    print(f"the course's published block checks: {published['failed']} failures in "
          f"{3 * published['draws']} checks ({published['draws']} draws)")
    print("batch-1 inputs, where torch computes by im2col (forward and every gradient):")
    for name, row in results['im2col_cases'].items():
        print(f"  {name:56s} {row['failed_draws']} of {row['draws']} draws fail")
    print("where torch calls oneDNN (no other summation order gives its bits):")
    for name, row in results['onednn_cases'].items():
        print(f"  {name:56s} {row['failed_draws']} of {row['draws']} draws fail, "
              f"max |difference| / max |torch|: median {row['median_scaled_difference']:.1e}, "
              f"max {row['max_scaled_difference']:.1e}")
    arguments.json.write_text(json.dumps(results, indent=1) + '\n')
    print(f"wrote {os.path.relpath(arguments.json)}")


if __name__ == '__main__':
    main()
