"""Benchmark our framework against the same network written with torch.nn + autograd + torch.optim.

    python -m Proj_123456_654321.Miniproject_2.others.benchmark [--widths 16 32 64] [--batch-sizes 16 32 64]
        [--upsampling nearest|transposed] [--up-kernel-size 3] [--repeats 30] [--warmup 3] [--threads N]
        [--device cpu|cuda] [--epoch-size 50000] [--data DIR]
        [--skip-epoch] [--skip-predict] [--json PATH]

Both sides always run the same network with the same weights, the same data, the same thread count and
the same device. The torch side ("twin", ``others/twin.py``) is built from our network's blocks, each by its
torch.nn equivalent: ``Conv2d(s2), ReLU, Conv2d(s2), ReLU, Upsample, Conv2d, ReLU, Upsample, Conv2d, Sigmoid``.

Figures
-------
* **step**: one training step = forward, MSE loss, zero_grad, backward, Adam step (lr 1e-3) on one batch of
  32×32 images already on the device. Rows: the submitted network (``Model()``'s width, kernel sizes and
  batch size), then every ``--widths`` × ``--batch-sizes`` pair with kernel 3. Before timing, one forward and
  backward pass on both sides must agree (outputs, loss and every parameter gradient), else the run stops.
  The two sides' steps alternate (ours, torch, ours, ...) after ``--warmup`` untimed steps each, so that
  both see the same machine load; ``ours ms`` / ``torch ms`` are the medians of ``--repeats`` steps.
* **ratio** = ours / torch: at most 1.0 means our framework is as fast or faster.
* **img/s** = images per second of our side (batch size / median time).
* **epoch**: ``Model.train`` for one epoch on ``--epoch-size`` random uint8 pairs (the first that many pairs
  of ``DIR/train_data.pkl`` with ``--data DIR``) against ``Model.train`` of the torch twin (``others/twin.py``:
  the same loop, shuffling, augmentation and learning-rate schedule, with a torch.nn + autograd +
  torch.optim step), each side in a fresh Python process so that its memory can be measured. Before the
  timed epoch each process trains a throwaway copy on 64 pairs, so that one-time costs (imports, kernel
  selection) are not counted. ``peak RSS`` is the process's resident-memory high-water mark (``VmHWM``)
  during the epoch: it is reset just before (Linux ``/proc/self/clear_refs``; where that fails the JSON says
  ``peak_is_epoch_only: false`` and it is the whole process's). ``epoch extra`` is that peak minus the
  resident memory just before the epoch, when the data and the network are already loaded:
  what training itself costs. The JSON also holds ``process_peak_rss_kib``, the whole process's
  ``ru_maxrss`` (imports, data and warm-up included; it cannot be reset), and on CUDA the epoch's
  ``torch.cuda.max_memory_allocated``. One epoch is timed once: run it on a quiet machine.
* **predict**: ``Model.predict`` (``self_ensemble`` off: one forward pass) on 1,000 uint8 32×32 images and on one 512×512 image (created on the
  device, so no host transfer is timed) against ``twin(images / 255) * 255`` under ``torch.inference_mode``;
  medians of ``--repeats`` alternating runs.

On CUDA, TF32 is switched off for both sides so that both compute in full float32 (our blocks use plain
matrix products, which torch runs in float32 by default, while cuDNN convolutions default to TF32), and the
device is synchronised before every timer reading.

Everything printed is also written as JSON (default ``others/results/benchmark_<device>.json``).
"""
import argparse
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

from .. import model as framework
from ..model import Model
from .data import load_train
from .twin import AgreementError, TorchTwinModel, copy_weights, twin_network

PROJECT_ROOT = Path(__file__).resolve().parents[3]
RESULTS_FOLDER = Path(__file__).resolve().parent / 'results'
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


def our_training_step(network, inputs, targets, blocks=framework):
    """One training step of our ``network`` (MSE, Adam) as a function; ``blocks`` is the module whose MSE and
    Adam it uses (another revision's ``model.py`` in ``revision_check``)."""
    loss_function = blocks.MSE()
    optimizer = blocks.Adam(network.param(), lr=LEARNING_RATE)

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


def submitted_settings():
    """Configuration and batch size of the network ``Model()`` trains by default."""
    config = Model.Config()
    return dict(config.architecture(), batch_size=config.batch_size)


def _configuration_name(config, batch_size):
    """'w112 k3/5 b16' (nearest upsampling + 5×5 convolutions) or 'w112 k3/t4 b16' (4×4 transposed ones)."""
    upsampling = 't' if config.get('upsampling') == 'transposed' else ''
    return f"w{config['width']} k{config['kernel_size']}/{upsampling}{config['up_kernel_size']} b{batch_size}"


def step_configurations(widths, batch_sizes, upsampling='nearest', up_kernel_size=3):
    """``(name, network configuration, batch size)`` of the submitted network, then of each width × batch size
    with 3×3 strided kernels and the upsampling stages given."""
    submitted = submitted_settings()
    batch_size = submitted.pop('batch_size')
    configurations = [(f"submitted {_configuration_name(submitted, batch_size)}", submitted, batch_size)]
    grid = [({'width': width, 'kernel_size': 3, 'up_kernel_size': up_kernel_size, 'upsampling': upsampling},
             batch_size) for width in widths for batch_size in batch_sizes]
    return configurations + [(_configuration_name(config, size), config, size) for config, size in grid]


def step_table(widths, batch_sizes, repeats, device, warmup=3, report=print, upsampling='nearest', up_kernel_size=3):
    """Time one training step of both sides for the submitted network and for each width × batch size."""
    rows = []
    for name, config, batch_size in step_configurations(widths, batch_sizes, upsampling, up_kernel_size):
        torch.manual_seed(SEED)
        ours = Model._build_network(**config).to(device)
        theirs = copy_weights(ours, twin_network(ours).to(device))
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
    parser.add_argument('--upsampling', choices=['nearest', 'transposed'], default='nearest',
                        help="the grid's upsampling stages (default: %(default)s)")
    parser.add_argument('--up-kernel-size', type=int, default=3, help="the grid's upsampling kernel (default: 3)")
    parser.add_argument('--repeats', type=int, default=30, help='timed runs of each side (default: %(default)s)')
    parser.add_argument('--warmup', type=int, default=3, help='untimed runs of each side first (default: %(default)s)')
    parser.add_argument('--threads', type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--epoch-size', type=int, default=50_000, help='training pairs of the epoch')
    parser.add_argument('--data', type=Path, default=None, help='folder with train_data.pkl (default: random pairs)')
    parser.add_argument('--skip-epoch', action='store_true')
    parser.add_argument('--skip-predict', action='store_true')
    parser.add_argument('--json', type=Path, default=None,
                        help='where to write the results (default: others/results/benchmark_<device>.json)')
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
                                 arguments.warmup, report, arguments.upsampling, arguments.up_kernel_size)
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

    path = arguments.json or RESULTS_FOLDER / f"benchmark_{arguments.device}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + '\n')
    report(f"\nwritten to {path}")
    return results


if __name__ == '__main__':
    main()
