"""What width and kernel sizes buy within the grader's epoch budget (Mini-project 2).

Our blocks trained the network shipped before this study (width 48, kernels 3 and 5) in about a minute per
50,000-pair epoch; the course allows five. This script trains wider candidates of the required shape and
measures their epoch time against that configuration's, side by side (the last candidate is now shipped)::

    python -m Proj_123456_654321.Miniproject_2.others.capacity train NAME --data DIR --epochs N
    python -m Proj_123456_654321.Miniproject_2.others.capacity time [--pairs 50000] [--rounds 2] NAME ...
    python -m Proj_123456_654321.Miniproject_2.others.capacity evaluate --data data --data data_val2
    python -m Proj_123456_654321.Miniproject_2.others.capacity summary

``train`` runs ``others/train.py`` for a candidate of ``STUDY.candidates`` into ``results/capacity/NAME.pth`` and
``NAME.json``; when they exist it resumes from them (``--resume``: only a better epoch replaces the weights,
the history is appended, and each call is one cosine cycle), so a long run is done in pieces that each
finish; ``--restart`` starts over, and ``--from OTHER`` starts from a copy of candidate OTHER's files (a
branch: further pieces of a run, kept apart from the weights it had). ``time`` trains one epoch of each named
configuration from scratch on the same pairs, round after round (every other round in reverse order), and
records each one's time relative to the first. ``evaluate`` scores the formerly shipped ``bestmodel.pth`` ('shipped': ``shipped.pth``, its
training record ``shipped.json`` and log ``shipped.log``) and every candidate's best
weights on the validation set of each ``--data`` folder, self-ensembled as ``predict`` is, with the paired
difference from 'shipped'. Everything goes to ``results/capacity/results.json``; ``summary`` writes
``results/capacity/summary.md``.

Mini-project 1's ``others/capacity.py`` runs the same commands on its own ``Study``: U-Net shapes that must
train no slower than the U-Net shipped before.
"""
import argparse
import json
import shutil
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from . import train as train_command
from .benchmark import time_rounds
from .data import load_train, load_val
from ..model import Model

SEED = 0


@dataclass(frozen=True)
class Study:
    """One mini-project's candidates: its ``Model`` class, the candidates (name: Config fields, the
    architecture first, and the rate; the other fields take Model()'s defaults; 'shipped' is the
    ``bestmodel.pth`` shipped before the study, copied to ``shipped.pth`` so that the name keeps its meaning
    once a candidate ships), the folder of their files and results, the issue's bound on an epoch's time
    relative to 'shipped', the summary's title, and the module of ``others/`` that runs it."""
    model_class: type
    candidates: dict
    folder: Path
    epoch_time_limit: float
    title: str
    module: str = 'capacity'

    @property
    def results_file(self):
        return self.folder / 'results.json'

    def now_shipped(self):
        """The name of the candidate that is ``Model()``'s defaults, i.e. the shipped configuration (None if none)."""
        defaults = self.model_class.Config()
        return next((name for name, fields in self.candidates.items()
                     if all(getattr(defaults, key) == value for key, value in fields.items())), None)

    def load_results(self):
        return json.loads(self.results_file.read_text()) if self.results_file.exists() else {}

    def save_result(self, section, key, value):
        results = self.load_results()
        results.setdefault(section, {})[key] = value
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.results_file.with_name(self.results_file.name + '.tmp')
        partial.write_text(json.dumps(results, indent=1, sort_keys=True))
        partial.replace(self.results_file)


STUDY = Study(
    model_class=Model,
    candidates={
        'shipped': {'width': 48, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest', 'lr': 3e-3},
        'w96k4u5': {'width': 96, 'kernel_size': 4, 'up_kernel_size': 5, 'upsampling': 'nearest', 'lr': 3e-3},
        # Diverged in its first epoch on data_diverse (validation 8.08 dB, loss 0.32; stopped by hand in the
        # second): too large a rate for this width.
        'w112k3u5': {'width': 112, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest', 'lr': 3e-3},
        # The rate scaled as 1 / width from the shipped configuration's (48 -> 112: 3e-3 -> 1.3e-3), rounded up.
        'w112k3u5-lr1.5e-3': {'width': 112, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest',
                              'lr': 1.5e-3},
        # The width-48 configuration again, trained like the first piece of the one above (10 epochs on
        # data_more, seed 0): what the width brings, apart from the photos.
        'w48k3u5': {'width': 48, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest', 'lr': 3e-3},
    },
    folder=Path(__file__).resolve().parent / 'results' / 'capacity',
    # The bound: an epoch at most this many times that of the configuration shipped before.
    epoch_time_limit=4.0,
    title='What width buys')


def train(study, arguments):
    """One piece of a candidate's training run, resumed from its files when they exist."""
    if arguments.name == 'shipped':
        raise SystemExit("capacity: error: 'shipped' is not trained here (see the README's training command)")
    fields, source = study.candidates[arguments.name], arguments.source
    options = train_command.option_arguments(fields, study.model_class.Config)
    out, history = study.folder / f'{arguments.name}.pth', study.folder / f'{arguments.name}.json'
    if source is not None and (source == arguments.name or study.candidates[source] != fields):
        raise SystemExit(f"capacity: error: --from needs another candidate of the same configuration as "
                         f"{arguments.name!r}")
    if arguments.restart:
        out.unlink(missing_ok=True)
        history.unlink(missing_ok=True)
    if source is not None and not out.exists():
        for suffix in ('.pth', '.json'):
            shutil.copyfile(study.folder / f'{source}{suffix}', study.folder / f'{arguments.name}{suffix}')
    resume = ['--resume'] if out.exists() else []
    # Each piece shuffles and augments with a seed of its own: the same seed would replay the same batches.
    pieces_done = len(json.loads(history.read_text()).get('runs', [None])) if history.exists() else 0
    threads = [] if arguments.threads is None else ['--threads', str(arguments.threads)]
    train_command.main(['--data', arguments.data, '--epochs', str(arguments.epochs), *options, *threads,
                        '--seed', str(SEED + pieces_done), '--out', str(out), '--history', str(history),
                        *resume], model_class=study.model_class)


def time_epochs(study, arguments):
    """Each configuration's epoch of ``Model.train`` from scratch on the same pairs, side by side."""
    train_input, train_target = (images[:arguments.pairs] for images in load_train(arguments.data))

    def train_one_epoch(name):
        torch.manual_seed(SEED)
        study.model_class(**study.candidates[name]).train(train_input, train_target, num_epochs=1, seed=SEED,
                                                           verbose=False)

    seconds = time_rounds(arguments.names, train_one_epoch, arguments.rounds,
                          report=lambda line: print(line, flush=True))
    reference = statistics.median(seconds[arguments.names[0]])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name}: median {median:.1f} s for {len(train_input)} pairs, {median / reference:.2f} x "
              f"{arguments.names[0]}", flush=True)
        study.save_result('time', name, {'seconds': values, 'median': median, 'ratio': median / reference,
                                         'reference': arguments.names[0], 'pairs': len(train_input),
                                         'threads': torch.get_num_threads()})


def image_psnrs(denoised, clean):
    """The per-image PSNRs (dB) whose mean is ``model.psnr``, images in [0, 1]."""
    return -10 * (denoised - clean).pow(2).flatten(1).mean(1).log10()


def evaluate(study, arguments):
    """The self-ensembled validation PSNR of each model with weights, on each ``--data`` folder, and its
    difference from 'shipped' with the standard error of that difference over the images (paired: the same
    images, so what varies from image to image in both cancels)."""
    sets = {folder: load_val(folder) for folder in arguments.data}
    shipped = {}
    for name, fields in study.candidates.items():
        weights = study.folder / f'{name}.pth'
        if not weights.exists():
            print(f"{name}: no weights at {weights}, skipped")
            continue
        model = study.model_class(**fields, device='cpu')
        model.load_pretrained_model(weights)
        scores, differences = {}, {}
        for folder, (noisy, clean) in sets.items():
            per_image = image_psnrs(model.predict(noisy).float() / 255, clean.float() / 255)
            scores[folder] = per_image.mean().item()
            line = f"{name} on {folder}: {scores[folder]:.3f} dB ({len(noisy)} images)"
            if name == 'shipped':
                shipped[folder] = per_image
            elif folder in shipped:
                gain = per_image - shipped[folder]
                differences[folder] = {'mean': gain.mean().item(),
                                       'standard_error': (gain.std() / len(gain) ** 0.5).item()}
                line += f", {differences[folder]['mean']:+.3f} ± {differences[folder]['standard_error']:.3f} dB"
            print(line, flush=True)
        study.save_result('psnr', name, scores)
        if differences:
            study.save_result('vs_shipped', name, differences)


def pieces(history):
    """'10 on data_diverse + 10 on data_more': the epochs of each piece of a run and their data."""
    runs = history.get('runs', [{'epochs': len(history['history']), 'data': history['data']}])
    return ' + '.join(f"{run['epochs']} on {Path(run['data']).name}" for run in runs)


def best_in_training(history):
    plain = '' if history.get('self_ensembled_validation', True) else ', not self-ensembled'
    return f"{history['best_val_psnr']:.2f} (epoch {history['best_epoch']}{plain})"


def summary(study, arguments):
    """``results/capacity/summary.md``: each candidate's epochs, PSNR on each set and epoch-time ratio."""
    results = study.load_results()
    folders = sorted({folder for scores in results.get('psnr', {}).values() for folder in scores})
    header = ['run', 'configuration', 'epochs trained (data)', 'best in training (dB)',
              *(f'PSNR {folder} (dB)' for folder in folders),
              *(f'vs shipped before, {folder} (dB)' for folder in folders), 'epoch time vs shipped before']
    command = f"python -m {study.model_class.__module__.rpartition('.')[0]}.others.{study.module} summary"
    lines = [f'# {study.title} (generated by `{command}`)', '', '| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    shipped_now = study.now_shipped()
    # While no candidate has replaced it, 'shipped' is Model()'s defaults.
    shipped_label = 'shipped (before this study)' + (', still shipped' if shipped_now == 'shipped' else '')
    for name, fields in study.candidates.items():
        history_file = study.folder / f'{name}.json'
        history = json.loads(history_file.read_text()) if history_file.exists() else None
        scores = results.get('psnr', {}).get(name, {})
        gains = results.get('vs_shipped', {}).get(name, {})
        timing = results.get('time', {}).get(name)
        label = {shipped_now: f'**{name}** (shipped now)', 'shipped': shipped_label}.get(name, name)
        cells = [label, ', '.join(f'{key}={value:g}' if isinstance(value, float) else f'{key}={value}'
                                 for key, value in fields.items()),
                 pieces(history) if history else '',
                 best_in_training(history) if history else '',
                 *(f'{scores[folder]:.2f}' if folder in scores else '' for folder in folders),
                 *(f"{gains[folder]['mean']:+.2f} ± {gains[folder]['standard_error']:.2f}" if folder in gains else ''
                   for folder in folders),
                 f"{timing['ratio']:.2f}" if timing else '']
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', 'Best in training: the validation PSNR of the data the run trained on (the first set), after '
                  'the best epoch, which the weights are.',
              '', 'vs shipped before: the mean over the images of the PSNR difference from the model shipped '
                  'before this study, ± its standard error over the images (paired, same images).']
    timed_pairs = sorted({timing['pairs'] for timing in results.get('time', {}).values()})
    if timed_pairs:
        lines += ['', f"Epoch time: one {' or '.join(f'{pairs:,}' for pairs in timed_pairs)}-pair epoch of "
                      f"`Model.train` from scratch, median of the rounds, relative to the configuration shipped "
                      f"before, measured in the same run; the issue allows {study.epoch_time_limit:g}x."]
    (study.folder / 'summary.md').write_text('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def main(argv=None, study=STUDY):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('train')
    command.add_argument('name', choices=study.candidates)
    command.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    command.add_argument('--epochs', type=int, default=10, help='epochs of this piece (one cosine cycle)')
    command.add_argument('--threads', type=int, help="CPU threads for torch (default: torch's choice)")
    command.add_argument('--restart', action='store_true', help='start from scratch, replacing NAME.pth and NAME.json')
    command.add_argument('--from', dest='source', choices=study.candidates, metavar='OTHER',
                         help="when NAME has no files yet, start from a copy of OTHER's (same configuration)")
    command = commands.add_parser('time')
    command.add_argument('names', nargs='+', choices=study.candidates, metavar='NAME')
    command.add_argument('--data', default='data')
    command.add_argument('--pairs', type=int, default=50000)
    command.add_argument('--rounds', type=int, default=2)
    command = commands.add_parser('evaluate')
    command.add_argument('--data', action='append', required=True, help='a folder with val_data.pkl (repeat)')
    commands.add_parser('summary')
    arguments = parser.parse_args(argv)
    {'train': train, 'time': time_epochs, 'evaluate': evaluate, 'summary': summary}[arguments.command](study, arguments)
    return 0


if __name__ == '__main__':
    sys.exit(main())
