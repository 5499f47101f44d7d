"""Where the U-Net's CPU training time goes, and what bfloat16 autocast and channels-last buy (issue 27)::

    python -m Proj_123456_654321.Miniproject_1.others.speed profile [--batches 20] [--threads 2]
    python -m Proj_123456_654321.Miniproject_1.others.speed time --data data [--pairs 10000] [--rounds 3]
    python -m Proj_123456_654321.Miniproject_1.others.speed budget --data data [--pairs 50000] [--rounds 1]

Both compare ``Model()``'s network trained as it was before (``float32``: ``bfloat16=False``,
``channels_last=False``) with the shipped settings (``shipped``: bfloat16 autocast on a CPU that computes it
natively, channels-last weights and activations), same weights, same batches.

* ``profile``: one training step (forward, MSE, backward, Adam) on a batch of ``Config.batch_size`` 32×32
  images, per block of ``UNet`` (``encode_1`` ... ``output``; "between" is the poolings, upsamplings and
  concatenations), forward and backward apart, timed with hooks around each block: the median over
  ``--batches`` steps after 3 untimed ones, the two settings alternating step by step. The first block's
  input needs no gradient, so its backward (weight gradients only) is counted with "between", the rest of
  the step's backward.
* ``time``: one epoch of ``Model.train`` from scratch on the first ``--pairs`` pairs of ``--data``, the two
  settings alternating round by round (``benchmark.time_rounds``), and their ratio.
* ``budget``: the course's budget of an epoch (at most 5 minutes on any CPU; issue 36 asks 4), for the U-Net
  shipped before (``tapered``) and the shipped one (``light``), each on the float32 path (what a CPU without
  native bfloat16 takes; channels-last and contiguous) and in bfloat16 (``BUDGET_SETTINGS``): one epoch of
  ``Model.train`` from scratch on the first ``--pairs`` pairs, all six alternating round by round.

Results go to ``results/speed.json`` beside this file (``summary.md`` too), each command's under its name.
"""
import argparse
import collections
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

from ...Miniproject_2.others.benchmark import time_rounds
from ...Miniproject_2.others.data import load_train
from ..model import Model

RESULTS_FILE = Path(__file__).resolve().parent / 'results' / 'speed.json'
SUMMARY_FILE = RESULTS_FILE.with_name('speed.md')
SETTINGS = {'float32': {'bfloat16': False, 'channels_last': False}, 'shipped': {}}
BUDGET_SHAPES = ('tapered', 'light')
BUDGET_SETTINGS = {'float32, channels-last': {'bfloat16': False, 'channels_last': True},
                   'float32, contiguous': {'bfloat16': False, 'channels_last': False},
                   'bfloat16, channels-last': {'bfloat16': True, 'channels_last': True}}
SEED = 0


def blocks(network):
    """The blocks of ``UNet`` in the order their forward runs them."""
    return [name for name, _ in network.named_children()]


class BlockClock:
    """Wall time of each block's forward and backward in one step, from hooks around the block (the backward
    from the gradient reaching its output to the gradient of its input)."""

    def __init__(self, network):
        self.seconds = collections.Counter()
        self.started = {}
        for name, module in network.named_children():
            module.register_forward_pre_hook(self._start(name, 'forward'))
            module.register_forward_hook(self._stop(name, 'forward'))
            module.register_full_backward_pre_hook(self._start(name, 'backward'))
            module.register_full_backward_hook(self._stop(name, 'backward'))

    def _start(self, name, direction):
        def hook(*_):
            self.started[name, direction] = time.perf_counter()
        return hook

    def _stop(self, name, direction):
        def hook(*_):
            self.seconds[name, direction] += time.perf_counter() - self.started[name, direction]
        return hook


def profile(arguments):
    # The first block's input needs no gradient: torch warns that its hook fires on the output's gradient.
    warnings.filterwarnings('ignore', message='Full backward hook is firing')
    torch.manual_seed(SEED)
    weights = Model().network.state_dict()
    batch = Model.Config.batch_size
    generator = torch.Generator().manual_seed(SEED)
    inputs, targets = (torch.rand(batch, 3, 32, 32, generator=generator) for _ in range(2))
    sides = {}
    for name, options in SETTINGS.items():
        model = Model(**options, self_ensemble=False)
        model.network.load_state_dict(weights)
        clock = BlockClock(model.network)
        optimizer = torch.optim.Adam(model.network.parameters(), lr=1e-3)
        sides[name] = (model, clock, optimizer)
    samples = {name: collections.defaultdict(list) for name in SETTINGS}
    with torch.enable_grad():
        for step in range(3 + arguments.batches):
            for name, (model, clock, optimizer) in sides.items():
                clock.seconds.clear()
                x = inputs.contiguous(memory_format=model.memory_format)
                start = time.perf_counter()
                with torch.autocast('cpu', dtype=torch.bfloat16, enabled=model.train_in_bfloat16):
                    output = model.network(x)
                forward_end = time.perf_counter()
                loss = F.mse_loss(output.float(), targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                backward_end = time.perf_counter()
                optimizer.step()
                end = time.perf_counter()
                if step < 3:
                    continue
                first = blocks(model.network)[0]
                for key, seconds in clock.seconds.items():
                    if key != (first, 'backward'):
                        samples[name][key].append(seconds)
                for direction, total in (('forward', forward_end - start), ('backward', backward_end - forward_end)):
                    timed = sum(seconds for (block, timed_direction), seconds in clock.seconds.items()
                                if timed_direction == direction and (block, direction) != (first, 'backward'))
                    samples[name]['between', direction].append(total - timed)
                samples[name]['step', 'forward'].append(forward_end - start)
                samples[name]['step', 'loss and backward'].append(backward_end - forward_end)
                samples[name]['step', 'optimizer'].append(end - backward_end)
                samples[name]['step', 'all'].append(end - start)
    result = {'shape': Model.Config.shape, 'threads': torch.get_num_threads(), 'batch_size': batch,
              'batches': arguments.batches, 'bfloat16_native': sides['shipped'][0].train_in_bfloat16,
              'milliseconds': {name: {f'{block} {direction}': 1000 * statistics.median(values)
                                      for (block, direction), values in per_block.items()}
                               for name, per_block in samples.items()}}
    for line in profile_table(result):
        print(line)
    save('profile', result)


def profile_table(result):
    float32, shipped = (result['milliseconds'][name] for name in SETTINGS)
    lines = ['| block, direction | float32 ms | shipped ms | ratio |', '|---|---|---|---|']
    for key in float32:
        lines.append(f"| {key} | {float32[key]:.2f} | {shipped[key]:.2f} | {shipped[key] / float32[key]:.2f} |")
    return lines


def epoch_seconds(options, arguments):
    """``{name: [seconds, ...]}`` of one epoch of ``Model(**options[name]).train`` from scratch on the first
    ``--pairs`` pairs of ``--data``, the names alternating round by round; and the number of pairs."""
    train_input, train_target = (images[:arguments.pairs] for images in load_train(arguments.data))

    def train_one_epoch(name):
        torch.manual_seed(SEED)
        Model(**options[name]).train(train_input, train_target, num_epochs=1, seed=SEED, verbose=False)

    seconds = time_rounds(list(options), train_one_epoch, arguments.rounds,
                          report=lambda line: print(line, flush=True))
    return seconds, len(train_input)


def time_epochs(arguments):
    seconds, pairs = epoch_seconds(SETTINGS, arguments)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    result = {'shape': Model.Config.shape, 'pairs': pairs, 'threads': torch.get_num_threads(),
              'seconds': seconds, 'median': medians, 'ratio': medians['shipped'] / medians['float32'],
              'shipped_seconds_per_50000_pairs': medians['shipped'] * 50000 / pairs}
    print(f"median epoch: float32 {medians['float32']:.1f} s, shipped {medians['shipped']:.1f} s for "
          f"{pairs} pairs: {result['ratio']:.2f} x (shipped: "
          f"{result['shipped_seconds_per_50000_pairs'] / 60:.1f} min per 50,000 pairs)")
    save('time', result)


def time_budget(arguments):
    options = {f'{shape} / {setting}': {'shape': shape, **BUDGET_SETTINGS[setting]}
               for shape in BUDGET_SHAPES for setting in BUDGET_SETTINGS}
    seconds, pairs = epoch_seconds(options, arguments)
    per_50000 = {name: statistics.median(values) * 50000 / pairs for name, values in seconds.items()}
    result = {'pairs': pairs, 'threads': torch.get_num_threads(), 'rounds': arguments.rounds,
              'bfloat16_native': Model().train_in_bfloat16, 'seconds': seconds, 'seconds_per_50000_pairs': per_50000}
    for line in budget_table(result):
        print(line)
    save('budget', result)


def budget_table(result):
    lines = ['| U-Net | ' + ' | '.join(BUDGET_SETTINGS) + ' |', '|---' * (1 + len(BUDGET_SETTINGS)) + '|']
    for shape in BUDGET_SHAPES:
        minutes = [result['seconds_per_50000_pairs'][f'{shape} / {setting}'] / 60 for setting in BUDGET_SETTINGS]
        lines.append(f'| {shape} | ' + ' | '.join(f'{value:.2f}' for value in minutes) + ' |')
    return lines


def save(command, result):
    results = json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {}
    results[command] = result
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=1) + '\n')
    lines = ['# The U-Net\'s training time on the CPU: float32 against the shipped settings', '',
             'Made by `python -m Proj_123456_654321.Miniproject_1.others.speed profile`, `... time` and '
             '`... budget`.', '']
    if 'budget' in results:
        timing = results['budget']
        lines += [f"Minutes per epoch of 50,000 pairs, from one epoch of {timing['pairs']} pairs ("
                  f"{timing['threads']} threads, median of {timing['rounds']} alternated rounds; bfloat16 "
                  f"computed natively: {timing['bfloat16_native']}). `tapered` is the U-Net shipped before issue "
                  f"36, `light` the shipped one; the float32 columns are the path of a CPU without native "
                  f"bfloat16:", '']
        lines += budget_table(timing) + ['']
    if 'time' in results:
        timing = results['time']
        # Results written before issue 36 measured the tapered U-Net and do not name their shape.
        lines += [f"The {timing.get('shape', 'tapered')} U-Net. "
                  f"Epoch of {timing['pairs']} pairs ({timing['threads']} threads, alternated): float32 "
                  f"{timing['median']['float32']:.1f} s, shipped {timing['median']['shipped']:.1f} s, ratio "
                  f"**{timing['ratio']:.2f}**; the shipped settings take "
                  f"{timing['shipped_seconds_per_50000_pairs'] / 60:.1f} min per 50,000 pairs.", '']
    if 'profile' in results:
        timing = results['profile']
        lines += [f"The {timing.get('shape', 'tapered')} U-Net. "
                  f"One training step, batch {timing['batch_size']}, median of {timing['batches']} "
                  f"({timing['threads']} threads; bfloat16 computed natively: {timing['bfloat16_native']}):", '']
        lines += profile_table(timing)
    SUMMARY_FILE.write_text('\n'.join(lines) + '\n')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('profile')
    command.add_argument('--batches', type=int, default=20)
    command.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's choice)")
    command = commands.add_parser('time')
    command.add_argument('--data', required=True, help='folder with train_data.pkl')
    command.add_argument('--pairs', type=int, default=10000)
    command.add_argument('--rounds', type=int, default=3)
    command.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's choice)")
    command = commands.add_parser('budget')
    command.add_argument('--data', required=True, help='folder with train_data.pkl')
    command.add_argument('--pairs', type=int, default=50000)
    command.add_argument('--rounds', type=int, default=1)
    command.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's choice)")
    arguments = parser.parse_args(argv)
    if arguments.threads is not None:
        torch.set_num_threads(arguments.threads)
    {'profile': profile, 'time': time_epochs, 'budget': time_budget}[arguments.command](arguments)
    return 0


if __name__ == '__main__':
    sys.exit(main())
