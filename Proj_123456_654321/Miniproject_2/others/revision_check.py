"""Is a change to ``model.py`` a pure refactoring? Compare its blocks with those of another git revision.

    python -m Proj_123456_654321.Miniproject_2.others.revision_check --against e2f5120 [--repeats 300]

Loads ``Miniproject_2/model.py`` as it is in the working tree and as it was at ``--against`` (``git show``),
then:

* **bits**: every convolution, transposed convolution and upsampling convolution over a grid of batch sizes,
  channels, kernel sizes, strides, paddings, dilations, memory layouts and dtypes, and the shipped network,
  built with the same seed on both sides: the forward output, the input gradient and every parameter gradient
  must be equal to the last bit (``torch.equal``), and the weights too before anything runs;
* **training**: ``Model.train`` of a small model from scratch (two epochs, with validation), saved, loaded
  into a new model and trained one epoch more on other pairs (continued training, held-out choice included):
  the weights after each, the histories (times aside) and a prediction must be equal to the last bit;
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


def _pairs(count, seed):
    """``count`` pairs of noisy 16×16 images of flat colours (σ 25), uint8."""
    generator = torch.Generator().manual_seed(seed)
    clean = torch.randint(0, 256, (count, 3, 1, 1), generator=generator).expand(-1, -1, 16, 16).float()
    return [(clean + 25 * torch.randn(clean.shape, generator=generator)).clamp(0, 255).round().byte()
            for _ in range(2)]


def training_run(module, folder):
    """What ``module``'s ``Model.train`` makes of a width-8 model: from scratch, then continued after a save and
    a load; (weights after each, histories without times, a prediction)."""
    def weights(model):
        return [parameter.clone() for parameter, _ in model.network.param()]

    def timeless(history):
        return [{key: value for key, value in record.items() if key not in ('seconds', 'images_per_second')}
                for record in history]
    torch.manual_seed(0)
    model = module.Model(width=8)
    model.train(*_pairs(256, 1), num_epochs=2, seed=0, verbose=False, validation=_pairs(16, 2))
    path = model.save_model(Path(folder) / f'{module.__name__}.pth')
    continued = module.Model(width=8)
    continued.load_pretrained_model(path)
    continued.train(*_pairs(3300, 3), num_epochs=1, seed=4, verbose=False)
    return (weights(model), weights(continued), timeless(model.history) + timeless(continued.history),
            continued.predict(_pairs(4, 5)[0]))


def _equal(a, b):
    """Bit for bit: tensors by ``torch.equal``, lists item by item, anything else by ``==``."""
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_equal, a, b))
    return a == b


def compare_training(now, then, report=print):
    """The parts of ``training_run`` that differ between the revisions (empty when all are equal)."""
    with tempfile.TemporaryDirectory() as folder:
        ours, theirs = training_run(now, folder), training_run(then, folder)
    names = ('weights from scratch', 'weights continued', 'histories', 'prediction')
    found = [name for name, a, b in zip(names, ours, theirs) if not _equal(a, b)]
    report(f"training: {'equal' if not found else 'differs: ' + ', '.join(found)} (from scratch, saved, loaded, "
           f"continued)")
    return found


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
    failures += compare_training(now, then)
    if not arguments.skip_speed:
        compare_speed(now, then, arguments.repeats)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
