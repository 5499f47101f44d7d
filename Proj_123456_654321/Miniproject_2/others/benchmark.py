"""Benchmark our framework against the same network written with torch.nn + autograd + torch.optim.

    python -m Proj_123456_654321.Miniproject_2.others.benchmark [--widths 16 32 64] [--batch-sizes 16 32 64]
        [--repeats 30] [--warmup 3] [--threads N] [--device cpu|cuda] [--epoch-size 50000] [--data DIR]
        [--skip-epoch] [--skip-predict] [--json PATH]
    python -m Proj_123456_654321.Miniproject_2.others.benchmark dispatch-count [--widths ...] [--batch-sizes ...]

Both sides run the shipped network (``Model()``'s default ``Config``) with the same weights, data, thread count
and device; the torch side (the "twin", ``others/twin.py``) is built from our blocks, each by its torch.nn
equivalent. Figures (everything printed is also written as JSON, default ``results/benchmark_<device>.json``):

* **step**: one training step (forward, MSE loss, zero_grad, backward, Adam at lr 1e-3) on a batch of 32×32
  images already on the device: the submitted network at ``Model()``'s batch size, then the same network at
  every ``--widths`` × ``--batch-sizes`` pair. One forward and backward pass on both sides must agree first
  (outputs, loss, every parameter gradient), else the run stops. The sides' steps alternate after ``--warmup``
  untimed ones, so that both see the same machine load; ``ours ms`` / ``torch ms`` are medians of
  ``--repeats``; **ratio** = ours / torch (at most 1: ours as fast or faster); **img/s**: ours.
* **epoch**: ``Model.train`` for one epoch on ``--epoch-size`` random uint8 pairs (or the first pairs of
  ``DIR/train_data.pkl``) against the twin's ``Model.train`` (same loop, shuffling, augmentation and schedule;
  a torch.nn + autograd + torch.optim step), each in a fresh process after a throwaway epoch of 64 pairs (one-
  time costs). ``peak RSS``: the resident-memory high-water mark (``VmHWM``) during the epoch, reset just
  before (``/proc/self/clear_refs``; where that fails, ``peak_is_epoch_only: false``, the whole process's);
  ``epoch extra``: that peak minus the resident memory before the epoch, what training itself costs. The JSON
  also has the process's ``ru_maxrss`` and on CUDA ``torch.cuda.max_memory_allocated``. Timed once: run it on
  a quiet machine.
* **predict**: ``Model.predict`` (``self_ensemble`` off: one forward pass) of 1,000 uint8 32×32 images and of
  one 512×512 image, created on the device, against ``twin(images / 255) * 255`` under
  ``torch.inference_mode``; medians of ``--repeats`` alternating runs.

On CUDA, TF32 is off for both sides (cuDNN convolutions default to it, our matrix products do not), and the
device is synchronised before every timer reading.

``dispatch-count`` times nothing: it counts the ATen operations that one training step of each row
dispatches, ours against the twin's, on the CPU (default JSON ``results/dispatch_count.json``). On a GPU every
operation that is not a view launches a kernel or more, and every operation costs host time: a step as small as
ours is bound by those costs. A ``TorchDispatchMode`` tallies the operations of one step after an uncounted one
(so that the optimizers' state exists). A view returns an alias of an input without writing to it (``view``,
``permute``, ``select``, ...; also ``_unsafe_view``, which relabels a tensor without a kernel).
"""
import argparse
import collections
import datetime
import hashlib
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List, NamedTuple

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from .. import model as framework
from ..model import Model
from .data import load_train
from .twin import AgreementError, TorchTwinModel, copy_weights, twin_network

PROJECT_ROOT = Path(__file__).resolve().parents[3]
RESULTS_FOLDER = Path(__file__).resolve().parent / 'results'
DISPATCH_COUNT_FILE = RESULTS_FOLDER / 'dispatch_count.json'
IMAGE_SIZE = 32
LEARNING_RATE = 1e-3
SEED = 0
TOLERANCE = dict(atol=1e-5, rtol=1e-4)
PREDICT_CASES = (('predict 1000x32x32', (1000, 3, 32, 32)), ('predict 1x512x512', (1, 3, 512, 512)))
WORKER_RESULT_PREFIX = 'EPOCH-WORKER-RESULT '
EPOCH_WARMUP_PAIRS = 64


class AlternatingTimes(NamedTuple):
    median_a_ms: float
    median_b_ms: float
    samples_a_ms: List[float]
    samples_b_ms: List[float]


# ----------------------------------------------------------------------------------------------------
# The two sides on one batch
# ----------------------------------------------------------------------------------------------------

def _synchronizer(device):
    """A function that waits for the device: CUDA kernels run asynchronously, CPU ones do not."""
    if torch.device(device).type == 'cuda':
        return torch.cuda.synchronize
    return lambda: None


def _random_batch(batch_size, device, generator_seed=SEED):
    generator = torch.Generator().manual_seed(generator_seed)
    shape = (batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    inputs = torch.rand(shape, generator=generator).to(device)
    targets = torch.rand(shape, generator=generator).to(device)
    return inputs, targets


def check_agreement(ours, theirs, inputs, targets, tolerance=TOLERANCE):
    """One forward and backward pass on both networks; raise ``AgreementError`` unless the outputs, the
    losses and every parameter gradient agree within ``tolerance``. Returns the largest differences.

    Leaves the gradients of both sides filled in and the weights untouched."""
    loss_function = framework.MSE()
    ours.zero_grad()
    our_output = ours.forward(inputs)
    our_loss = loss_function.forward(our_output, targets)
    ours.backward(loss_function.backward())
    our_gradients = [gradient for _, gradient in ours.param()]

    theirs.zero_grad()
    with torch.enable_grad():
        their_output = theirs(inputs)
        their_loss = F.mse_loss(their_output, targets)
        their_loss.backward()
    their_gradients = [parameter.grad for parameter in theirs.parameters()]

    pairs = [('output', our_output, their_output.detach()), ('loss', our_loss, their_loss.detach())]
    pairs += [(f'gradient of parameter {i} {tuple(g.shape)}', g, h)
              for i, (g, h) in enumerate(zip(our_gradients, their_gradients))]
    differences = {}
    for name, our_value, their_value in pairs:
        difference = (our_value - their_value).abs().max().item()
        differences[name] = difference
        if not torch.allclose(our_value, their_value, **tolerance):
            raise AgreementError(
                f"our network and its torch twin disagree on the {name}: largest difference {difference:.3g} "
                f"(tolerance atol={tolerance['atol']}, rtol={tolerance['rtol']}); the benchmark would compare "
                f"different computations, so it stops here")
    return differences


# ----------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------

def time_alternating(step_a, step_b, repeats, warmup=3, synchronize=lambda: None):
    """Run ``step_a`` and ``step_b`` in turns, ``repeats`` timed times each after ``warmup`` untimed turns;
    return the medians and the samples in milliseconds.

    Alternating rather than timing one side then the other spreads any change of machine load (other
    processes, clock speed) evenly over both sides."""
    for _ in range(warmup):
        step_a()
        step_b()
    samples = ([], [])
    for _ in range(repeats):
        for step, times in zip((step_a, step_b), samples):
            synchronize()
            start = time.perf_counter()
            step()
            synchronize()
            times.append((time.perf_counter() - start) * 1000)
    return AlternatingTimes(statistics.median(samples[0]), statistics.median(samples[1]), *samples)


def time_rounds(names, run, rounds, report=print):
    """``{name: [seconds, ...]}``: ``run(name)`` timed once per name and round, every other round in reverse
    order (ABBA...), so that no name always runs first and slow spells of a shared machine fall on all alike;
    ``report`` gets a line per round."""
    seconds = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names[::-1] if round_number % 2 else names:
            start = time.perf_counter()
            run(name)
            seconds[name].append(time.perf_counter() - start)
        report(f"round {round_number + 1}: " + ', '.join(f"{name} {values[-1]:.1f} s"
                                                         for name, values in seconds.items()))
    return seconds


def our_training_step(network, inputs, targets):
    """One training step of our ``network`` (MSE, Adam) as a function."""
    loss_function = framework.MSE()
    optimizer = framework.Adam(network.param(), lr=LEARNING_RATE)

    def step():
        output = network.forward(inputs)
        loss_function.forward(output, targets)
        optimizer.zero_grad()
        # As Model.train does, and as autograd does for an input without requires_grad.
        network.backward_parameters(loss_function.backward())
        optimizer.step()
    return step


def _torch_training_step(network, inputs, targets):
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)

    def step():
        # model.py switches autograd off for the whole process
        with torch.enable_grad():
            loss = F.mse_loss(network(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return step


def _row(name, times, images, **extra):
    return dict(config=name, **extra, ours_ms=times.median_a_ms, torch_ms=times.median_b_ms,
                ratio=times.median_a_ms / times.median_b_ms,
                ours_images_per_second=images / (times.median_a_ms / 1000),
                torch_images_per_second=images / (times.median_b_ms / 1000))


def _configuration_name(config, batch_size):
    """'w160 k3/t3 b16' (3×3 transposed upsampling stages) or 'w112 k3/5 b16' (nearest upsampling + 5×5
    convolutions)."""
    upsampling = 't' if config['upsampling'] == 'transposed' else ''
    return f"w{config['width']} k{config['kernel_size']}/{upsampling}{config['up_kernel_size']} b{batch_size}"


def step_configurations(widths, batch_sizes):
    """``(name, architecture, batch size)`` of the submitted network (``Model()``'s default ``Config``), then of
    the same network at each width × batch size."""
    config = Model.Config()
    submitted = config.architecture()
    grid = [({**submitted, 'width': width}, batch_size) for width in widths for batch_size in batch_sizes]
    return ([(f"submitted {_configuration_name(submitted, config.batch_size)}", submitted, config.batch_size)]
            + [(_configuration_name(architecture, size), architecture, size) for architecture, size in grid])


def _networks(architecture, device='cpu'):
    """Our network of ``architecture`` (seeded weights) and its torch twin with the same weights."""
    torch.manual_seed(SEED)
    ours = Model._build_network(**architecture).to(device)
    return ours, copy_weights(ours, twin_network(ours).to(device))


def step_table(widths, batch_sizes, repeats, device, warmup=3, report=print):
    """Time one training step of both sides for the submitted network and for each width × batch size."""
    rows = []
    for name, config, batch_size in step_configurations(widths, batch_sizes):
        ours, theirs = _networks(config, device)
        inputs, targets = _random_batch(batch_size, device)
        differences = check_agreement(ours, theirs, inputs, targets)
        times = time_alternating(our_training_step(ours, inputs, targets),
                                 _torch_training_step(theirs, inputs, targets),
                                 repeats, warmup, _synchronizer(device))
        row = _row(name, times, batch_size, **config, batch_size=batch_size,
                   largest_difference=max(differences.values()))
        rows.append(row)
        report(_format_row(row))
    return rows


# ----------------------------------------------------------------------------------------------------
# One epoch, each side in its own process
# ----------------------------------------------------------------------------------------------------

def training_pairs(epoch_size, data=None):
    """``epoch_size`` uint8 pairs ``[N, 3, 32, 32]``: random, or the first ones of ``data/train_data.pkl``."""
    if data is not None:
        noisy_1, noisy_2 = load_train(data)
        return noisy_1[:epoch_size], noisy_2[:epoch_size]
    generator = torch.Generator().manual_seed(SEED)
    shape = (epoch_size, 3, IMAGE_SIZE, IMAGE_SIZE)
    return tuple(torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator) for _ in range(2))


def _memory_status_kib(field):
    """``VmRSS`` (resident memory now) or ``VmHWM`` (its high-water mark) from /proc/self/status, in KiB."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} line in /proc/self/status")


def _reset_peak_rss():
    """Reset the resident-memory high-water mark (``VmHWM``) where Linux allows it, so that the peak read
    after the epoch belongs to the epoch, not to the imports or the data loading. ``ru_maxrss`` cannot be
    reset: it also keeps the peak recorded whenever one of torch's threads exits."""
    try:
        with open('/proc/self/clear_refs', 'w') as clear_refs:
            clear_refs.write('5')
        return True
    except OSError:
        return False


def _epoch_runner(side, inputs, targets, device):
    """A fresh ``Model()`` or, for ``side == 'torch'``, its torch.nn twin (seeded, so both start from the same
    weights), and a function that trains it for one epoch of ``Model.train`` (same shuffling, augmentation and
    schedule; only the training step differs) and returns the mean loss; with the model's batch size."""
    torch.manual_seed(SEED)
    model = (TorchTwinModel if side == 'torch' else Model)(device=device)
    return lambda: model.train(inputs, targets, 1, seed=SEED, verbose=False)[-1]['loss'], model.config.batch_size


def epoch_worker(side, epoch_size, device, data=None):
    """Train ``side`` ('ours' or 'torch') for one epoch in this process; time it and measure memory."""
    inputs, targets = training_pairs(epoch_size, data)
    # One-time costs are not epoch time: torch.optim's first step imports torch._dynamo (about 1.5 s),
    # and the first convolutions of a shape pick their kernels. A few throwaway batches pay them.
    warmup_run, _ = _epoch_runner(side, inputs[:EPOCH_WARMUP_PAIRS], targets[:EPOCH_WARMUP_PAIRS], device)
    warmup_run()
    run, batch_size = _epoch_runner(side, inputs, targets, device)
    is_cuda = torch.device(device).type == 'cuda'
    if is_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    peak_is_epoch_only = _reset_peak_rss()
    rss_before = _memory_status_kib('VmRSS')
    start = time.perf_counter()
    loss = run()
    _synchronizer(device)()
    seconds = time.perf_counter() - start
    peak_rss = _memory_status_kib('VmHWM')
    return dict(side=side, images=len(inputs), batch_size=batch_size, seconds=seconds,
                images_per_second=len(inputs) / seconds, loss=loss, rss_before_kib=rss_before,
                peak_rss_kib=peak_rss, epoch_extra_kib=peak_rss - rss_before, peak_is_epoch_only=peak_is_epoch_only,
                process_peak_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,  # KiB on Linux
                cuda_max_allocated_bytes=torch.cuda.max_memory_allocated() if is_cuda else None)


def _run_epoch_worker(side, epoch_size, device, threads, data):
    command = [sys.executable, '-m', __spec__.name, '--_epoch-worker', side, '--epoch-size', str(epoch_size),
               '--device', str(device), '--threads', str(threads)]
    if data is not None:
        command += ['--data', str(Path(data).resolve())]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    results = [line[len(WORKER_RESULT_PREFIX):] for line in completed.stdout.splitlines()
               if line.startswith(WORKER_RESULT_PREFIX)]
    if completed.returncode != 0 or not results:
        raise RuntimeError(f"the epoch worker for {side} failed (exit code {completed.returncode}):\n"
                           f"{completed.stdout}")
    return json.loads(results[-1])


def epoch_benchmark(epoch_size, device, threads, data=None, report=print):
    """One epoch of ``Model.train`` against the torch loop, each in a fresh process (see the module doc)."""
    sides = {}
    for side in ('ours', 'torch'):
        report(f"  epoch of {side} on {epoch_size} pairs ...")
        sides[side] = _run_epoch_worker(side, epoch_size, device, threads, data)
    ours, theirs = sides['ours'], sides['torch']
    result = dict(config=f"epoch {ours['images']} pairs b{ours['batch_size']}", images=ours['images'],
                  batch_size=ours['batch_size'], data=str(data) if data is not None else 'random',
                  ours=ours, torch=theirs, ratio=ours['seconds'] / theirs['seconds'],
                  peak_rss_ratio=ours['peak_rss_kib'] / theirs['peak_rss_kib'])
    report(_format_epoch(result))
    return result


# ----------------------------------------------------------------------------------------------------
# Prediction
# ----------------------------------------------------------------------------------------------------

def predict_benchmark(repeats, device, warmup=3, report=print):
    """``Model.predict`` against the twin under ``torch.inference_mode``, on the shapes of ``PREDICT_CASES``."""
    torch.manual_seed(SEED)
    model = Model(device=device)
    # One forward pass on each side: self-ensembling would make ours 8 of them.
    model.self_ensemble = False
    twin = copy_weights(model.network, twin_network(model.network).to(device)).eval()
    generator = torch.Generator().manual_seed(SEED)
    rows = []
    for name, shape in PREDICT_CASES:
        images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).to(device)

        def ours():
            return model.predict(images)

        def theirs():
            with torch.inference_mode():
                return twin(images.float() / 255) * 255

        # on the 0..255 scale of the outputs
        tolerance = dict(atol=255 * TOLERANCE['atol'], rtol=TOLERANCE['rtol'])
        our_output, their_output = ours(), theirs()
        difference = (our_output - their_output).abs().max().item()
        if not torch.allclose(our_output, their_output, **tolerance):
            raise AgreementError(f"{name}: Model.predict and the torch twin differ by up to {difference:.3g} "
                                 f"(tolerance atol={tolerance['atol']:.3g}, rtol={tolerance['rtol']})")
        times = time_alternating(ours, theirs, repeats, warmup, _synchronizer(device))
        row = _row(name, times, shape[0], shape=list(shape), largest_difference=difference)
        rows.append(row)
        report(_format_row(row))
    return rows


# ----------------------------------------------------------------------------------------------------
# What one training step dispatches
# ----------------------------------------------------------------------------------------------------

# Operations whose schema returns a new tensor but which only relabel the storage of one they were given,
# launching no kernel: counted with the views.
METADATA_ONLY = {'_unsafe_view'}


def is_view(operation):
    """Whether an ATen operation returns a view of an input: an alias that it does not write."""
    if operation.overloadpacket.__name__ in METADATA_ONLY:
        return True
    returns = operation._schema.returns
    return bool(returns) and all(value.alias_info is not None and not value.alias_info.is_write
                                 for value in returns)


class OperationCounter(TorchDispatchMode):
    """Counts the ATen operations dispatched inside its ``with`` block, by name (``aten.add_.Tensor`` is
    ``add_``)."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()
        self.views = set()

    def __torch_dispatch__(self, operation, types, args=(), kwargs=None):
        name = operation.overloadpacket.__name__
        self.counts[name] += 1
        if is_view(operation):
            self.views.add(name)
        return operation(*args, **(kwargs or {}))

    def summary(self):
        views = sum(count for name, count in self.counts.items() if name in self.views)
        total = sum(self.counts.values())
        return {'total': total, 'not_views': total - views, 'views': views,
                'by_operation': dict(self.counts.most_common()), 'view_operations': sorted(self.views)}


def count_step(step):
    """The operations of one call of ``step``, after one uncounted call."""
    step()
    counter = OperationCounter()
    with counter:
        step()
    return counter.summary()


def count_configuration(architecture, batch_size):
    """Ours and the twin's counts of one training step of a network on the CPU, on a batch of ``batch_size``."""
    ours, theirs = _networks(architecture)
    inputs, targets = _random_batch(batch_size, 'cpu')
    return {'ours': count_step(our_training_step(ours, inputs, targets)),
            'torch': count_step(_torch_training_step(theirs, inputs, targets))}


def dispatch_count(widths, batch_sizes, report=print):
    """The counts of every row of ``step_configurations``; the first row's most frequent operations reported."""
    rows = []
    for name, config, batch_size in step_configurations(widths, batch_sizes):
        counts = count_configuration(config, batch_size)
        rows.append({'config': name, **config, 'batch_size': batch_size, **counts})
        ours, theirs = counts['ours'], counts['torch']
        report(f"{name:<26} ours {ours['not_views']:4d} not views {ours['total']:4d} in all | torch "
               f"{theirs['not_views']:4d} not views {theirs['total']:4d} in all | ratio "
               f"{ours['not_views'] / theirs['not_views']:.2f} / {ours['total'] / theirs['total']:.2f}")
        for side in ('ours', 'torch') if len(rows) == 1 else ():
            views, most = set(counts[side]['view_operations']), list(counts[side]['by_operation'].items())[:12]
            report(f"  {side}: " + ', '.join(f"{operation}{' (view)' if operation in views else ''} {count}"
                                             for operation, count in most))
    return {'torch': torch.__version__, 'rows': rows}


# ----------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------

COLUMNS = f"{'config':<30} {'ours ms':>10} {'torch ms':>10} {'ratio':>7} {'ours img/s':>11}"


def _format_row(row):
    return (f"{row['config']:<30} {row['ours_ms']:>10.2f} {row['torch_ms']:>10.2f} {row['ratio']:>7.2f} "
            f"{row['ours_images_per_second']:>11.0f}")


def _format_epoch(result):
    ours, theirs = result['ours'], result['torch']
    lines = [f"{result['config']:<30} {ours['seconds'] * 1000:>10.0f} {theirs['seconds'] * 1000:>10.0f} "
             f"{result['ratio']:>7.2f} {ours['images_per_second']:>11.0f}",
             f"  mean loss: ours {ours['loss']:.6f}, torch {theirs['loss']:.6f}",
             f"  peak RSS{'' if ours['peak_is_epoch_only'] else ' (whole process)'}: "
             f"ours {ours['peak_rss_kib'] / 1024:.0f} MiB, torch {theirs['peak_rss_kib'] / 1024:.0f} MiB",
             f"  epoch extra (peak - RSS before the epoch): ours {ours['epoch_extra_kib'] / 1024:.0f} MiB, "
             f"torch {theirs['epoch_extra_kib'] / 1024:.0f} MiB"]
    if ours['cuda_max_allocated_bytes'] is not None:
        lines.append(f"  CUDA max allocated: ours {ours['cuda_max_allocated_bytes'] / 2 ** 20:.0f} MiB, "
                     f"torch {theirs['cuda_max_allocated_bytes'] / 2 ** 20:.0f} MiB")
    return '\n'.join(lines)


def cpu_model():
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def environment(device):
    """What the figures depend on besides the code; model.py's hash tells which version was measured."""
    device = torch.device(device)
    return dict(device=device.type,
                device_name=torch.cuda.get_device_name(device) if device.type == 'cuda' else cpu_model(),
                cpu_model=cpu_model(), threads=torch.get_num_threads(), torch_version=torch.__version__,
                python_version=platform.python_version(), platform=platform.platform(),
                tf32=False if device.type == 'cuda' else None,
                model_sha256=hashlib.sha256(Path(framework.__file__).read_bytes()).hexdigest(),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--widths', type=int, nargs='+', default=[16, 32, 64])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[16, 32, 64])
    parser.add_argument('mode', nargs='?', choices=['dispatch-count'],
                        help='count the ATen operations of one training step of each row instead of timing')
    parser.add_argument('--repeats', type=int, default=30, help='timed runs of each side (default: %(default)s)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed runs of each side first (default: %(default)s)')
    parser.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--epoch-size', type=int, default=50_000, help='training pairs of the epoch')
    parser.add_argument('--data', type=Path, default=None, help='folder with train_data.pkl (default: random pairs)')
    parser.add_argument('--skip-epoch', action='store_true')
    parser.add_argument('--skip-predict', action='store_true')
    parser.add_argument('--json', type=Path, default=None,
                        help='where to write the results (default: others/results/benchmark_<device>.json, '
                             'or dispatch_count.json)')
    parser.add_argument('--_epoch-worker', dest='epoch_worker', choices=['ours', 'torch'], help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: torch sees no CUDA device')
    for name in ('repeats', 'epoch_size', 'threads'):
        value = getattr(arguments, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if arguments.warmup < 0 or min(arguments.widths + arguments.batch_sizes) < 1:
        parser.error('--warmup must be >= 0, widths and batch sizes >= 1')
    return arguments


def timings(arguments, report):
    """The step, epoch and predict figures of the module docstring, with the environment and settings."""
    results = dict(environment=environment(arguments.device),
                   settings=dict(widths=arguments.widths, batch_sizes=arguments.batch_sizes,
                                 repeats=arguments.repeats, warmup=arguments.warmup, image_size=IMAGE_SIZE,
                                 learning_rate=LEARNING_RATE, epoch_size=arguments.epoch_size,
                                 epoch_warmup_pairs=EPOCH_WARMUP_PAIRS,
                                 data=None if arguments.data is None else str(arguments.data),
                                 agreement_tolerance=TOLERANCE))
    env = results['environment']
    report(f"torch {env['torch_version']} on {env['device']} ({env['device_name']}), {env['threads']} threads"
           + (', TF32 off' if env['device'] == 'cuda' else ''))
    report(f"ratio = ours / torch (<= 1.00: ours is as fast or faster); medians of {arguments.repeats} "
           f"alternating runs after {arguments.warmup} warm-up runs each")
    report('\ntraining step (forward, MSE, zero_grad, backward, Adam)')
    report(COLUMNS)
    results['step'] = step_table(arguments.widths, arguments.batch_sizes, arguments.repeats, arguments.device,
                                 arguments.warmup, report)
    results['epoch'] = None
    if not arguments.skip_epoch:
        report('\none epoch of Model.train vs the torch loop, each in a fresh process (times in ms)')
        results['epoch'] = epoch_benchmark(arguments.epoch_size, arguments.device, torch.get_num_threads(),
                                           arguments.data, report)
    results['predict'] = None
    if not arguments.skip_predict:
        report('\nModel.predict vs the torch twin under inference_mode')
        report(COLUMNS)
        results['predict'] = predict_benchmark(arguments.repeats, arguments.device, arguments.warmup, report)
    return results


def main(argv=None):
    arguments = parse_arguments(argv)
    if arguments.threads is not None:
        torch.set_num_threads(arguments.threads)
    if arguments.device == 'cuda':
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    if arguments.epoch_worker is not None:
        result = epoch_worker(arguments.epoch_worker, arguments.epoch_size, arguments.device, arguments.data)
        print(WORKER_RESULT_PREFIX + json.dumps(result), flush=True)
        return result

    report = lambda line: print(line, flush=True)  # noqa: E731
    if arguments.mode == 'dispatch-count':
        results, path = dispatch_count(arguments.widths, arguments.batch_sizes, report), DISPATCH_COUNT_FILE
    else:
        results, path = timings(arguments, report), RESULTS_FOLDER / f"benchmark_{arguments.device}.json"
    path = arguments.json or path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + '\n')
    report(f"\nwritten to {path}")
    return results


if __name__ == '__main__':
    main()
