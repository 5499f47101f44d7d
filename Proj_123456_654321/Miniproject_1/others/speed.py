"""The U-Net's CPU training time against the course's budget of an epoch (5 minutes on any CPU; issue 36: 4)::

    python -m Proj_123456_654321.Miniproject_1.others.speed budget --data data [--pairs 50000] [--rounds 1]
        [--compare-with U-NET ...] [--threads 2]

One epoch of ``Model.train`` from scratch on the first ``--pairs`` pairs of ``--data``, for the shipped U-Net
(``Config()``'s shape) after the U-Nets of ``--compare-with`` if any, side by side (``make evaluate``:
``flat48``, the first U-Net shipped, the yardstick of issue 47, and ``light``, the one shipped before), on
every path of ``BUDGET_SETTINGS``: float32, that of a CPU without native bfloat16 (channels-last and
contiguous), and bfloat16; all alternating round by round (``benchmark.time_rounds``), each median given per
50,000 pairs, and as a fraction of the first compared U-Net's. Results go to ``results/speed.json`` beside this
file, under ``budget``, and the table to ``speed.md``.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

import torch

from ...Miniproject_2.others.benchmark import time_rounds
from ...Miniproject_2.others.data import load_train
from ..model import Config, Model

RESULTS_FILE = Path(__file__).resolve().parent / 'results' / 'speed.json'
SUMMARY_FILE = RESULTS_FILE.with_name('speed.md')
BUDGET_SETTINGS = {'float32, channels-last': {'bfloat16': False, 'channels_last': True},
                   'float32, contiguous': {'bfloat16': False, 'channels_last': False},
                   'bfloat16, channels-last': {'bfloat16': True, 'channels_last': True}}
FLOAT32 = 'float32, channels-last'  # the path of most CPUs, which the budget is about
SEED = 0
# U-Nets to compare with, by name: a shape of UNet.SHAPES at Config()'s width, or one of these architectures.
ARCHITECTURES = {'flat48': {'width': 48, 'shape': 'flat', 'residual': False}}  # the first U-Net (commit 5a10441)


def time_budget(arguments):
    shapes = list(dict.fromkeys([*arguments.compare_with, Config().shape]))
    options = {f'{shape} / {setting}': {**ARCHITECTURES.get(shape, {'shape': shape}), **BUDGET_SETTINGS[setting]}
               for shape in shapes for setting in BUDGET_SETTINGS}
    train_input, train_target = (images[:arguments.pairs] for images in load_train(arguments.data))

    def train_one_epoch(name):
        torch.manual_seed(SEED)
        Model(**options[name]).train(train_input, train_target, num_epochs=1, seed=SEED, verbose=False)

    seconds = time_rounds(list(options), train_one_epoch, arguments.rounds,
                          report=lambda line: print(line, flush=True))
    pairs = len(train_input)
    per_50000 = {name: statistics.median(values) * 50000 / pairs for name, values in seconds.items()}
    result = {'pairs': pairs, 'threads': torch.get_num_threads(), 'rounds': arguments.rounds,
              'shapes': shapes, 'bfloat16_native': Model().train_in_bfloat16, 'seconds': seconds,
              'seconds_per_50000_pairs': per_50000}
    for line in budget_table(result):
        print(line)
    save(result)


def float32_ratio(result, shape):
    """``shape``'s float32 channels-last epoch time over that of the first U-Net timed (``result['shapes'][0]``)."""
    seconds = result['seconds_per_50000_pairs']
    return seconds[f'{shape} / {FLOAT32}'] / seconds[f"{result['shapes'][0]} / {FLOAT32}"]


def budget_table(result):
    """Minutes per 50,000 pairs on each path; then each float32 channels-last time over the first U-Net's."""
    lines = ['| U-Net | ' + ' | '.join(BUDGET_SETTINGS) + f" | float32 ÷ {result['shapes'][0]} |",
             '|---' * (2 + len(BUDGET_SETTINGS)) + '|']
    for shape in result['shapes']:
        minutes = [result['seconds_per_50000_pairs'][f'{shape} / {setting}'] / 60 for setting in BUDGET_SETTINGS]
        lines.append(f'| {shape} | ' + ' | '.join(f'{value:.2f}' for value in minutes)
                     + f' | {float32_ratio(result, shape):.2f} |')
    return lines


def save(result):
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({'budget': result}, indent=1) + '\n')
    lines = ['# The U-Net\'s training time on the CPU', '',
             'Made by `python -m Proj_123456_654321.Miniproject_1.others.speed budget`.', '',
             f"Minutes per epoch of 50,000 pairs, from one epoch of {result['pairs']} pairs ({result['threads']} "
             f"threads, median of {result['rounds']} alternated rounds; bfloat16 computed natively: "
             f"{result['bfloat16_native']}). `{Config().shape}` is the shipped U-Net; the float32 columns are the "
             f"path of a CPU without native bfloat16:", '']
    SUMMARY_FILE.write_text('\n'.join(lines + budget_table(result)) + '\n')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('budget')
    command.add_argument('--data', required=True, help='folder with train_data.pkl')
    command.add_argument('--pairs', type=int, default=50000)
    command.add_argument('--rounds', type=int, default=1)
    command.add_argument('--compare-with', nargs='+', choices=[*ARCHITECTURES, *Config.CHOICES['shape']], default=[],
                         metavar='U-NET', help=f"also time these U-Nets (shapes, or {', '.join(ARCHITECTURES)}), "
                                               f"before the shipped one")
    command.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's choice)")
    arguments = parser.parse_args(argv)
    if arguments.threads is not None:
        torch.set_num_threads(arguments.threads)
    time_budget(arguments)
    return 0


if __name__ == '__main__':
    sys.exit(main())
