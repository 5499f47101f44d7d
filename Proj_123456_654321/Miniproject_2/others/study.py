"""The quality study of Mini-project 2: one training run per configuration, then tables and plots.

    python -m Proj_123456_654321.Miniproject_2.others.study run [NAME ...] --data DATA [--epochs 4] [--parallel 2]
    python -m Proj_123456_654321.Miniproject_2.others.study summary
    python -m Proj_123456_654321.Miniproject_2.others.study list

``run`` trains each named run (all of ``RUNS`` when no name is given) with the training command
(``others/train.py``), which writes the configuration, per-epoch training loss, learning rate, validation
PSNR and epoch time to ``results/study/NAME.json`` (its output goes to ``NAME.log``). Runs whose JSON exists
are skipped unless ``--force``. ``--parallel P`` runs P trainings at a time with ``cpu_count // P`` threads
each: on a 2-core machine two one-thread runs do more work per second than one two-thread run, and the
epoch times stay comparable between runs as long as every run of a study is made the same way.

Each study run changes one thing from ``BASE`` (the configuration of the first shipped model), so its effect
is read against the ``base`` run; the ``combined`` runs put the changes that helped together. The ``default`` runs take ``Model()``'s defaults (the chosen configuration):
trained by our blocks and by the torch.nn twin (``--twin``); the ``default-w48`` runs do the same at the
width and rate the defaults had before the network was made wider, and also on clean targets
(``--clean-targets``, which needs ``build_data --with-clean``); all with the same data, seed and schedule.

``summary`` writes ``results/study/summary.md`` (one table per axis) and two plots: ``curves.png``
(validation PSNR against epochs, one panel per axis) and ``speed.png`` (final PSNR against seconds per epoch,
one point per run that changes the network).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import train
from ..model import Model

RESULTS_FOLDER = Path(__file__).resolve().parent / 'results' / 'study'
TRAIN_MODULE = 'Proj_123456_654321.Miniproject_2.others.train'

# The configuration of the first shipped model; every study run changes one thing from it.
BASE = {'width': 48, 'kernel_size': 3, 'up_kernel_size': 3, 'upsampling': 'nearest', 'lr': 1e-3, 'batch_size': 32,
        'optimizer': 'adam', 'loss': 'mse', 'schedule': 'constant', 'init': 'torch', 'augment': False}

# Model()'s width and rate before the capacity runs.
WIDTH_48 = {'width': 48, 'lr': 3e-3}

# name: (axis, options given to the training command on top of BASE, or in place of it for 'default' runs)
RUNS = {
    'base': ('base', {}),
    'width16': ('width', {'width': 16}),
    'width32': ('width', {'width': 32}),
    'width64': ('width', {'width': 64}),
    'kernel5': ('kernel size', {'kernel_size': 5}),
    'kernel4': ('kernel size', {'kernel_size': 4}),
    'up-kernel5': ('kernel size', {'up_kernel_size': 5}),
    'adam-lr3e-4': ('optimizer', {'lr': 3e-4}),
    'adam-lr3e-3': ('optimizer', {'lr': 3e-3}),
    'sgd-lr0.3': ('optimizer', {'optimizer': 'sgd', 'momentum': 0.0, 'lr': 0.3}),
    'sgd-lr1': ('optimizer', {'optimizer': 'sgd', 'momentum': 0.0, 'lr': 1.0}),
    'sgd-lr3': ('optimizer', {'optimizer': 'sgd', 'momentum': 0.0, 'lr': 3.0}),
    'sgd-momentum-lr0.1': ('optimizer', {'optimizer': 'sgd', 'momentum': 0.9, 'lr': 0.1}),
    'cosine': ('schedule', {'schedule': 'cosine'}),
    'cosine-lr3e-3': ('schedule', {'schedule': 'cosine', 'lr': 3e-3}),
    'batch16': ('batch size', {'batch_size': 16}),
    'batch64': ('batch size', {'batch_size': 64}),
    'he-init': ('initialisation', {'init': 'he'}),
    'l1': ('loss', {'loss': 'l1'}),
    'augment': ('augmentation', {'augment': True}),
    # The single changes that helped, together, plus augmentation (neutral over 4 epochs, but a long run sees
    # each training patch dozens of times); strided-convolution kernel sizes 3 and 5.
    'combined-kernel3': ('combined', {'up_kernel_size': 5, 'lr': 3e-3, 'batch_size': 16, 'schedule': 'cosine',
                                      'init': 'he', 'augment': True}),
    'combined-kernel5': ('combined', {'kernel_size': 5, 'up_kernel_size': 5, 'lr': 3e-3, 'batch_size': 16,
                                      'schedule': 'cosine', 'init': 'he', 'augment': True}),
    'default': ('default', {}),
    'default-twin': ('default', {'twin': True}),
    # The same three at the width and rate of the defaults before the capacity runs (others/capacity.py)
    # made the network wider: the Noise2Clean comparison was made there.
    'default-w48': ('default', WIDTH_48),
    'default-w48-twin': ('default', {**WIDTH_48, 'twin': True}),
    'default-w48-clean': ('default', {**WIDTH_48, 'clean_targets': True}),
}


def run_options(name):
    """The training command's options for run ``name``: BASE plus the run's changes (``default`` runs: only
    the changes, the rest is ``Model()``'s defaults)."""
    axis, changes = RUNS[name]
    return dict(changes) if axis == 'default' else {**BASE, **changes}


def command_line(name, data, epochs, threads, out):
    arguments = [sys.executable, '-m', TRAIN_MODULE, '--data', str(data), '--epochs', str(epochs),
                 '--threads', str(threads), '--history', str(RESULTS_FOLDER / f'{name}.json'), '--out', str(out)]
    return arguments + train.option_arguments(run_options(name), Model.Config)


def run_one(name, data, epochs, threads, weights_folder):
    arguments = command_line(name, data, epochs, threads, Path(weights_folder) / f'{name}.pth')
    log = RESULTS_FOLDER / f'{name}.log'
    print(f"{name}: started ({' '.join(arguments[3:])})", flush=True)
    with open(log, 'w') as output:
        output.write(' '.join(arguments[1:]) + '\n')
        output.flush()
        finished = subprocess.run(arguments, stdout=output, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        print(f"{name}: FAILED (exit {finished.returncode}), see {log}", flush=True)
        return False
    result = json.loads((RESULTS_FOLDER / f'{name}.json').read_text())
    print(f"{name}: best {result['best_val_psnr']:.2f} dB (epoch {result['best_epoch']}), "
          f"{result['total_seconds'] / 60:.1f} min", flush=True)
    return True


def run(names, data, epochs, parallel, force):
    RESULTS_FOLDER.mkdir(parents=True, exist_ok=True)
    todo = [name for name in names if force or not (RESULTS_FOLDER / f'{name}.json').exists()]
    for name in sorted(set(names) - set(todo), key=names.index):
        print(f"{name}: skipped, {RESULTS_FOLDER / (name + '.json')} exists (--force reruns it)")
    threads = max(1, (os.cpu_count() or 1) // parallel)
    with tempfile.TemporaryDirectory() as weights_folder, ThreadPoolExecutor(parallel) as pool:
        succeeded = list(pool.map(lambda name: run_one(name, data, epochs, threads, weights_folder), todo))
    return all(succeeded)


# -- summary ---------------------------------------------------------------------------------------------

def load_results(folder=RESULTS_FOLDER):
    """``{name: result}`` for the runs of ``RUNS`` that have a results file, in ``RUNS`` order."""
    return {name: json.loads((folder / f'{name}.json').read_text())
            for name in RUNS if (folder / f'{name}.json').exists()}


def describe(name):
    axis, changes = RUNS[name]
    if not changes:
        return "Model() defaults" if axis == 'default' else "as BASE"
    return ', '.join(f'{key}={value}' for key, value in changes.items())


def seconds_per_epoch(result):
    """Median epoch time: the first epoch of a process pays for warm-up."""
    times = sorted(record['seconds'] for record in result['history'])
    return times[len(times) // 2]


def summary_table(results):
    lines = []
    by_axis = {}
    for name, result in results.items():
        by_axis.setdefault(RUNS[name][0], []).append(name)
    base = results.get('base')
    for axis, names in by_axis.items():
        lines += [f'### {axis}', '', '| run | change | final PSNR (dB) | best PSNR (dB) | vs base (dB) | '
                  's / epoch | epochs | self-ensembled |', '|---|---|---|---|---|---|---|---|']
        for name in names:
            result = results[name]
            final = result['history'][-1]['val_psnr']
            versus = f"{final - base['history'][-1]['val_psnr']:+.2f}" if base and name != 'base' else ''
            lines.append(f"| {name} | {describe(name)} | {final:.2f} | {result['best_val_psnr']:.2f} | {versus} | "
                         f"{seconds_per_epoch(result):.1f} | {len(result['history'])} | "
                         f"{'yes' if result.get('self_ensembled_validation') else 'no'} |")
        lines.append('')
    return '\n'.join(lines)


def plot_curves(results, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    axes_names = list(dict.fromkeys(RUNS[name][0] for name in results if RUNS[name][0] != 'base'))
    columns = 3
    rows = -(-len(axes_names) // columns)
    figure, panels = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for panel, axis in zip(panels.flat, axes_names):
        names = (['base'] if 'base' in results and axis != 'default' else []) + \
                [name for name in results if RUNS[name][0] == axis]
        for name in names:
            history = results[name]['history']
            panel.plot([record['epoch'] for record in history], [record['val_psnr'] for record in history],
                       marker='o', markersize=3, label=name, linestyle='--' if name == 'base' else '-')
        panel.set_title(axis)
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.set_xlabel('epoch')
        panel.set_ylabel('validation PSNR (dB)')
        panel.grid(alpha=0.3)
        panel.legend(fontsize=7)
    for panel in list(panels.flat)[len(axes_names):]:
        panel.axis('off')
    figure.tight_layout()
    save_figure(figure, path)


def plot_speed(results, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, panel = plt.subplots(figsize=(6, 4))
    # Only the runs that change the network: the others cost what the base run costs.
    colours = {'base': 'C0', 'width': 'C0', 'kernel size': 'C1', 'combined': 'C2'}
    for name, result in results.items():
        axis = RUNS[name][0]
        if axis not in colours:
            continue
        x, y = seconds_per_epoch(result), result['history'][-1]['val_psnr']
        panel.scatter(x, y, color=colours[axis])
        panel.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords='offset points')
    panel.set_xlabel('seconds per epoch (median; two runs shared the CPU)')
    panel.set_ylabel('final validation PSNR (dB)')
    panel.set_title('PSNR against epoch time (blue: widths, orange: kernels, green: combined)', fontsize=9)
    panel.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)


def save_figure(figure, path):
    import matplotlib.pyplot as plt
    temporary = path.with_name(f'.{path.stem}.tmp{path.suffix}')
    figure.savefig(temporary, dpi=120)
    plt.close(figure)
    os.replace(temporary, path)


def summary(folder=RESULTS_FOLDER):
    results = load_results(folder)
    if not results:
        raise FileNotFoundError(f"no study results in {folder}: run `python -m "
                                f"Proj_123456_654321.Miniproject_2.others.study run --data DATA` first")
    epochs = sorted({len(result['history']) for result in results.values()})
    header = (f"# Study of Mini-project 2 (generated by `python -m Proj_123456_654321.Miniproject_2.others.study "
              f"summary`)\n\nBASE: {', '.join(f'{k}={v}' for k, v in BASE.items())}. Epochs per run: "
              f"{', '.join(map(str, epochs))}. PSNR on the validation set of the data each run names "
              f"({', '.join(sorted({result['data'] for result in results.values()}))}). \"self-ensembled\": the "
              f"validation predictions average the 8 flips and transpositions (``Model.self_ensemble``), "
              f"which the runs made before that option existed did not do.\n\n")
    (folder / 'summary.md').write_text(header + summary_table(results))
    plot_curves(results, folder / 'curves.png')
    plot_speed(results, folder / 'speed.png')
    return [folder / 'summary.md', folder / 'curves.png', folder / 'speed.png']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    run_parser = commands.add_parser('run', help='train the named runs (default: all)')
    run_parser.add_argument('names', nargs='*', metavar='NAME')
    run_parser.add_argument('--data', type=Path, required=True, help='folder with the data files')
    run_parser.add_argument('--epochs', type=int, default=4)
    run_parser.add_argument('--parallel', type=int, default=2, help='runs at a time (default 2)')
    run_parser.add_argument('--force', action='store_true', help='rerun runs that have results')
    commands.add_parser('summary', help='tables and plots from the results')
    commands.add_parser('list', help='the runs and what each changes')
    arguments = parser.parse_args(argv)
    if arguments.command == 'list':
        for name in RUNS:
            print(f"{name:22s} {RUNS[name][0]:15s} {describe(name)}")
        return 0
    if arguments.command == 'summary':
        try:
            written = summary()
        except FileNotFoundError as error:
            parser.exit(1, f"study: error: {error}\n")
        print('wrote ' + ', '.join(map(str, written)))
        return 0
    unknown = [name for name in arguments.names if name not in RUNS]
    if unknown:
        parser.exit(1, f"study: error: unknown run(s) {', '.join(unknown)}; `study list` shows them\n")
    if arguments.epochs < 1 or arguments.parallel < 1:
        parser.exit(1, "study: error: --epochs and --parallel must be at least 1\n")
    return 0 if run(arguments.names or list(RUNS), arguments.data, arguments.epochs, arguments.parallel,
                    arguments.force) else 1


if __name__ == '__main__':
    sys.exit(main())
