"""Is a change to ``model.py`` a pure refactoring? Compare its blocks with those of another git revision.

    python -m Proj_123456_654321.Miniproject_2.others.revision_check --against e2f5120 [--repeats 300]

Loads ``Miniproject_2/model.py`` as it is in the working tree and as it was at ``--against`` (``git show``),
then:

* **bits**: every convolution, transposed convolution and upsampling convolution over a grid of batch sizes,
  channels, kernel sizes, strides, paddings, dilations, memory layouts and dtypes, and the shipped network,
  built with the same seed on both sides: the forward output, the input gradient and every parameter gradient
  must be equal to the last bit (``torch.equal``), and the weights too before anything runs;
* **speed**: one training step (forward, MSE, backward, Adam) of the shipped network and of a wider batch,
  the two revisions alternating step by step in this process, so that both see the same machine load; the
  median of each side and their ratio (now / then), timed by ``benchmark.time_alternating``.
"""
import argparse
import importlib.util
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from .benchmark import our_training_step, time_alternating

MODEL_FILE = Path(__file__).resolve().parent.parent / 'model.py'


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def module_at(revision, folder):
    """``model.py`` as it is at git ``revision``, loaded as a module of its own."""
    relative = MODEL_FILE.relative_to(Path(subprocess.check_output(
        ['git', 'rev-parse', '--show-toplevel'], cwd=MODEL_FILE.parent, text=True).strip()))
    source = subprocess.check_output(['git', 'show', f'{revision}:{relative.as_posix()}'], cwd=MODEL_FILE.parent)
    path = Path(folder) / 'model_then.py'
    path.write_bytes(source)
    return load_module('model_then', path)


def block_cases():
    """(name, build(module), input shape, channels_last, dtype) for the grid."""
    dtypes = (torch.float32, torch.float64)
    for n, c_in, k, s, p, d, h, last, dtype in itertools.product(
            (1, 4), (3, 8), (1, 2, 3, 5), (1, 2), (0, 1, 2), (1, 2), (9, 16), (False, True), dtypes):
        if h + 2 * p - d * (k - 1) - 1 < 0:
            continue
        yield (f'Conv2d k{k} s{s} p{p} d{d}', block('Conv2d', c_in, 5, k, stride=s, padding=p, dilation=d),
               (n, c_in, h, h + 1), last, dtype)
        yield (f'TransposeConv2d k{k} s{s} p{min(p, k - 1)}',
               block('TransposeConv2d', c_in, 5, k, stride=s, padding=min(p, k - 1)), (n, c_in, h, h + 1),
               last, dtype)
    for n, c_in, k, f, s, p, d, h, last, dtype in itertools.product(
            (1, 4), (3, 8), (1, 3, 5), (1, 2, 3), (1, 2), (0, 1, 2), (1, 2), (6, 8), (False, True), dtypes):
        if h * f + 2 * p - d * (k - 1) - 1 < 0:
            continue
        yield (f'Upsampling k{k} x{f} s{s} p{p} d{d}',
               block('Upsampling', c_in, 5, k, scale_factor=f, stride=s, padding=p, dilation=d),
               (n, c_in, h, h + 2), last, dtype)
    for n in (1, 16):
        yield 'the shipped network', lambda m: m.Model._build_network(48, 3, 5), (n, 3, 32, 32), False, torch.float32


def block(name, *args, **kwargs):
    """A function that builds the block ``name`` of a given revision's module with these arguments."""
    return lambda module: getattr(module, name)(*args, **kwargs)


def differences(now, then, build, shape, channels_last, dtype, seed):
    """The quantities that differ between the two revisions' blocks (empty when all are equal)."""
    torch.manual_seed(0)
    ours = build(now).to(dtype)
    torch.manual_seed(0)
    theirs = build(then).to(dtype)
    found = [] if all(torch.equal(p, q) for (p, _), (q, _) in zip(ours.param(), theirs.param())) else ['weights']
    generator = torch.Generator().manual_seed(seed)
    input = torch.randn(shape, generator=generator, dtype=dtype)
    if channels_last:
        input = input.contiguous(memory_format=torch.channels_last)
    output_now, output_then = ours.forward(input.clone()), theirs.forward(input.clone())
    if not torch.equal(output_now, output_then):
        return found + ['forward']
    grad_output = torch.randn(output_now.shape, generator=generator, dtype=dtype)
    ours.zero_grad()
    theirs.zero_grad()
    if not torch.equal(ours.backward(grad_output.clone()), theirs.backward(grad_output.clone())):
        found.append('input gradient')
    if not all(torch.equal(p, q) for (_, p), (_, q) in zip(ours.param(), theirs.param())):
        found.append('parameter gradients')
    return found


def compare_bits(now, then, report=print):
    """Every case of the grid; returns the number of cases and the list of (case, what differs)."""
    failures, count = [], 0
    for seed, (name, build, shape, channels_last, dtype) in enumerate(block_cases()):
        found = differences(now, then, build, shape, channels_last, dtype, seed)
        count += 1
        if found:
            failures.append((f"{name} {shape} {'channels-last' if channels_last else ''} {dtype}", found))
            report(f"differs: {failures[-1][0]}: {', '.join(found)}")
    report(f"bits: {count} cases, {len(failures)} differ (forward, input gradient, parameter gradients)")
    return count, failures


def step_function(module, width, kernel_size, up_kernel_size, batch_size):
    """One training step of ``module``'s network of that configuration on a fixed random batch."""
    torch.manual_seed(0)
    network = module.Model._build_network(width, kernel_size, up_kernel_size)
    generator = torch.Generator().manual_seed(0)
    input, target = (torch.rand(batch_size, 3, 32, 32, generator=generator) for _ in range(2))
    return our_training_step(network, input, target, blocks=module)


def compare_speed(now, then, repeats, report=print):
    """Median step times of both revisions, alternated; returns {configuration: now / then}."""
    ratios = {}
    for width, kernel_size, up_kernel_size, batch_size in ((48, 3, 5, 16), (32, 3, 3, 64)):
        times = time_alternating(step_function(now, width, kernel_size, up_kernel_size, batch_size),
                                 step_function(then, width, kernel_size, up_kernel_size, batch_size),
                                 repeats, warmup=5)
        name = f"w{width} k{kernel_size}/{up_kernel_size} b{batch_size}"
        ratios[name] = times.median_a_ms / times.median_b_ms
        report(f"speed {name}: now {times.median_a_ms:.2f} ms, then {times.median_b_ms:.2f} ms, now/then "
               f"{ratios[name]:.3f} ({repeats} alternated steps each, {torch.get_num_threads()} threads)")
    return ratios


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--against', required=True, help='the git revision to compare with (e.g. main~3)')
    parser.add_argument('--repeats', type=int, default=300, help='timed steps per side and configuration')
    parser.add_argument('--skip-speed', action='store_true')
    arguments = parser.parse_args(argv)
    now = load_module('model_now', MODEL_FILE)
    with tempfile.TemporaryDirectory() as folder:
        then = module_at(arguments.against, folder)
    torch.set_grad_enabled(False)
    _, failures = compare_bits(now, then)
    if not arguments.skip_speed:
        compare_speed(now, then, arguments.repeats)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
