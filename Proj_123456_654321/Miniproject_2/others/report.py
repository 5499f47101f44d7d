"""Rebuild both reports from the committed results files:

    python -m Proj_123456_654321.Miniproject_2.others.report [--pages] [--no-pdf]

1. runs the analysis notebooks (``Miniproject_{1,2}/others/analysis.ipynb``) headless; they read the results
   files and draw the figures into ``report/figures/``;
2. writes ``report/generated/``: ``results.tex``, one LaTeX macro per number the reports quote, and the tables,
   all read from the results files that ``make train``, ``make train-unet`` and ``make evaluate`` write for the
   shipped models, from the history files (``results/history/*.json``: the studies and the models shipped
   before, each with the commit that made it, which the reports name) and, for the size of the correctness
   grid, from the test suite (``pytest --collect-only``);
3. typesets ``report/report_{1,2}.tex`` with latexmk (pdfLaTeX), checks the page limits (3 and 4 pages) and
   copies the PDFs to ``Miniproject_1/Report_1.pdf`` and ``Miniproject_2/Report_2.pdf``.

``--pages`` also renders every page to ``report/build/pages/`` as PNG (pdftoppm), to read them as a reader
would. ``--no-pdf`` stops after steps 1 and 2 (no LaTeX needed). LaTeX comes from Debian's packages
(``make report-tools``).
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import continued, fetch_photos, robustness
from .data import PROJECT_FOLDER, results_folder
from ...Miniproject_1.others import speed as unet_speed

ROOT = PROJECT_FOLDER.parent
REPORT_FOLDER = ROOT / 'report'
FIGURES_FOLDER = REPORT_FOLDER / 'figures'
GENERATED_FOLDER = REPORT_FOLDER / 'generated'
BUILD_FOLDER = REPORT_FOLDER / 'build'
MP2_RESULTS, MP1_RESULTS = results_folder(2), results_folder(1)
NOTEBOOKS = (PROJECT_FOLDER / 'Miniproject_2' / 'others' / 'analysis.ipynb',
             PROJECT_FOLDER / 'Miniproject_1' / 'others' / 'analysis.ipynb')
# (LaTeX source, where the PDF goes, page limit of the course)
REPORTS = (('report_2', PROJECT_FOLDER / 'Miniproject_2' / 'Report_2.pdf', 4),
           ('report_1', PROJECT_FOLDER / 'Miniproject_1' / 'Report_1.pdf', 3))
LATEX_TOOLS = ('latexmk', 'pdflatex', 'pdfinfo')
LATEX_PACKAGES = 'texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk poppler-utils'
# The history files the reports quote (macro prefix: path). Each holds 'commit', which the reports name (macro
# PREFIXCommit), and 'rerun', the command that made it at that commit (docs/history.md).
HISTORY = {**{name: MP2_RESULTS / 'history' / f'{name}.json'
              for name in ('study', 'capacity', 'upsampling', 'robustness', 'blind', 'continued')},
           'unetCapacity': MP1_RESULTS / 'history' / 'capacity.json', 'width': MP1_RESULTS / 'history' / 'width.json',
           'dataStudy': MP1_RESULTS / 'history' / 'data_study.json'}
# The tests that compare with torch, and what each compares (for the report's correctness table).
CORRECTNESS_TESTS = (
    ('test_blocks.py', 'test_conv2d', 'Conv2d', 'output, all gradients'),
    ('test_blocks.py', 'test_transposeconv2d', 'TransposeConv2d', 'output, all gradients'),
    ('test_blocks.py', 'test_upsampling', 'Upsampling', 'output, all gradients'),
    ('test_blocks.py', 'test_nearest_upsampling', 'NearestUpsampling', 'output, input gradient'),
    ('test_blocks.py', 'test_activation', 'activations', 'output, input gradient'),
    ('test_blocks.py', 'test_loss', 'MSE, L1', 'value, input gradient'),
    ('test_blocks.py', 'test_conv2d_init_matches_torch_seed', 'initialisation', 'weights, same seed'),
    ('test_torch_exact.py', 'test_conv2d_grid_equals_torch_batch_1', 'Conv2d, batch 1, float32',
     'all, to the last bit'),
    ('test_torch_exact.py', 'test_block_equals_torch_where_torch_uses_im2col', 'every block, batch 1, float32',
     'all, to the last bit'),
    ('test_optim.py', 'test_sgd_matches_torch', 'SGD', 'parameters after steps'),
    ('test_optim.py', 'test_adam_matches_torch', 'Adam', 'parameters after steps'),
    ('test_optim.py', 'test_network_training_matches_torch', 'whole network', 'weights after steps'),
)


class ReportError(RuntimeError):
    """A step of the report build failed; the message says which and what to do."""


# -- reading and wording -------------------------------------------------------------------------------------

def read_json(path):
    if not path.is_file():
        raise ReportError(f"{path} is missing: `make train`, `make train-unet` and `make evaluate` write the results "
                          f"files (docs/reports.md); results/history/ is committed")
    return json.loads(path.read_text())


def history(name):
    """The history file ``HISTORY[name]``."""
    return read_json(HISTORY[name])


def latex_escape(text):
    return (str(text).replace('\\', r'\textbackslash{}').replace('&', r'\&').replace('%', r'\%')
            .replace('_', r'\_').replace('#', r'\#').replace('σ', r'$\sigma$'))


def versus(difference):
    """'0.42\\,dB above' or '0.42\\,dB below', so that the sentence stays true when the results change."""
    return f"{abs(difference):.2f}\\,dB {'above' if difference >= 0 else 'below'}"


def thousands(count):
    return f'{count:,}'.replace(',', '{,}')


def in_words(items):
    """'a', 'a and b', 'a, b and c'."""
    return ' and '.join(filter(None, [', '.join(items[:-1]), items[-1]]))


def latex_number(value):
    mantissa, exponent = f'{value:.0e}'.split('e')
    return f'$10^{{{int(exponent)}}}$' if mantissa == '1' else f'${mantissa}\\times10^{{{int(exponent)}}}$'


def tabular(columns, header, rows):
    """A booktabs table: ``header`` (LaTeX lines), then one line per row of cells."""
    return '\n'.join([rf'\begin{{tabular}}{{{columns}}}', r'\toprule', *header, r'\midrule',
                      *(' & '.join(map(str, cells)) + r' \\' for cells in rows), r'\bottomrule', r'\end{tabular}'])


def two_sets_header(first, labels):
    """The header of a table with one group of ``labels`` per validation set, after a ``first`` column."""
    count = len(labels)
    return [' & ' + ' & '.join(rf'\multicolumn{{{count}}}{{c}}{{{name} set}}' for name in ('first', 'second')) + r' \\',
            rf'\cmidrule(lr){{2-{1 + count}}}\cmidrule(lr){{{2 + count}-{1 + 2 * count}}}',
            first + ''.join(f' & {label}' for label in labels) * 2 + r' \\']


# -- the shipped models --------------------------------------------------------------------------------------

def tolerance_of(test_file):
    """The ``TOL = dict(rtol=..., atol=...)`` a test file compares with, read without importing it."""
    for node in ast.parse((ROOT / 'tests' / test_file).read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) == 'TOL' for target in node.targets):
            return {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.value.keywords}
    raise ReportError(f"tests/{test_file} defines no TOL")


def collected_test_counts():
    """``{(file, test function): number of collected cases}`` for the correctness tests."""
    files = sorted({file for file, *_ in CORRECTNESS_TESTS})
    completed = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider',
                                *(f'tests/{file}' for file in files)], cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise ReportError(f"pytest --collect-only failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    counts = {}
    for match in re.finditer(r'^tests/(\S+?)::(\w+)', completed.stdout, re.MULTILINE):
        counts[match.groups()] = counts.get(match.groups(), 0) + 1
    return counts


def method_rows(baselines):
    return {method['key']: method for method in baselines['methods']}


BASELINE_MACROS = {'noisy': 'Noisy', 'blur': 'Blur', 'median': 'Median', 'nlm': 'Nlm', 'bm3d': 'Bm',
                   'mp2': 'Ours', 'mp1': 'Unet'}


def baseline_numbers():
    """The baselines of both Gaussian sets (``psnrBm``, ``psnrBmTwo``, ...) and of both pixelated sets
    (``pixPsnrBlur``, ...), and how the networks compare on the first Gaussian set."""
    values = {}
    for file, prefix, suffix in (('baselines_gaussian', 'psnr', ''), ('baselines_val2_gaussian', 'psnr', 'Two'),
                                 ('baselines', 'pixPsnr', ''), ('baselines_val2', 'pixPsnr', 'Two')):
        baselines = read_json(MP2_RESULTS / f'{file}.json')
        for key, method in method_rows(baselines).items():
            values[f'{prefix}{BASELINE_MACROS[key]}{suffix}'] = f"{method['psnr_db']:.2f}"
        values[f"{'valImages' if prefix == 'psnr' else 'pixValImages'}{suffix}"] = thousands(baselines['images'])
    gaussian = read_json(MP2_RESULTS / 'baselines_gaussian.json')
    values['noiseSigma'] = f"{gaussian['noise_sigma_255']:g}"
    psnr = {key: method['psnr_db'] for key, method in method_rows(gaussian).items()}
    for name, first, second in (('oursVersusNlm', 'mp2', 'nlm'), ('oursVersusBm', 'mp2', 'bm3d'),
                                ('unetVersusBm', 'mp1', 'bm3d'), ('unetVersusOurs', 'mp1', 'mp2')):
        values[name] = versus(psnr[first] - psnr[second])
    values['pixValPhotos'] = str(sum(len(files) for _, files in fetch_photos.VALIDATION_PHOTOS.values()))
    return values


def training_numbers():
    """Both shipped models' training records (``make train``, ``make train-unet``), their epoch in the harness
    (``results/demo_cpu.log``) and Mini-project 1's epoch budget (``others/speed.py budget``)."""
    values = {}
    for prefix, results, decimals in (('ours', MP2_RESULTS, 1), ('unet', MP1_RESULTS, 0)):
        record = read_json(results / 'bestmodel_history.json')
        # The median epoch: the first epoch of a process pays for warm-up.
        epoch_seconds = sorted(epoch['seconds'] for epoch in record['history'])[len(record['history']) // 2]
        config, training = record['config'], record['training']
        values.update({f'{prefix}Epochs': str(len(record['history'])), f'{prefix}BestEpoch': str(record['best_epoch']),
                       f'{prefix}BestValPsnr': f"{record['best_val_psnr']:.2f}",
                       f'{prefix}TrainMinutes': f"{record['total_seconds'] / 60:.{decimals}f}",
                       f'{prefix}EpochSeconds': f"{epoch_seconds:.{decimals}f}",
                       f'{prefix}Threads': str(record['threads']), f'{prefix}Pieces': str(len(record['runs'])),
                       f'{prefix}PieceEpochs': in_words([str(run['epochs']) for run in record['runs']]),
                       f'{prefix}TrainPairs': thousands(record['train_size']), f'{prefix}Width': str(config['width']),
                       f'{prefix}Lr': f"{training['lr']:g}", f'{prefix}Batch': str(training['batch_size'])})
        if prefix == 'ours':
            values.update(oursKernel=str(config['kernel_size']), oursUpKernel=str(config['up_kernel_size']))
    from ...Miniproject_1.model import Model as UNetModel
    values['unetWarmupSteps'] = str(UNetModel.WARMUP_STEPS)
    budget = read_json(unet_speed.RESULTS_FILE)['budget']
    per_50000 = budget['seconds_per_50000_pairs']
    for shape, macro in (('flat48', 'First'), ('light', 'Light'), (UNetModel.Config().shape, 'Shipped')):
        for setting, name in zip(unet_speed.BUDGET_SETTINGS, ('FloatLast', 'FloatContiguous', 'Bf')):
            values[f'unetBudget{macro}{name}'] = f"{per_50000[f'{shape} / {setting}'] / 60:.1f}"
        values[f'unetBudget{macro}Ratio'] = f"{unet_speed.float32_ratio(budget, shape):.2f}"
    log = (MP2_RESULTS / 'demo_cpu.log').read_text()
    for project, name, decimals in ((1, 'unetCpuEpochSeconds', 0), (2, 'oursHarnessEpochSeconds', 1)):
        match = re.search(rf'\[PSNR {project}: [\d.]+ dB\] after one epoch on \d+ pairs in ([\d.]+) s', log)
        if match is None:
            raise ReportError(f"results/demo_cpu.log has no epoch of Mini-project {project}: rerun `make evaluate`")
        values[name] = f"{float(match.group(1)):.{decimals}f}"
    return values


def benchmark_numbers():
    """Our blocks against torch.nn on the CPU (``others/benchmark.py``, ``make evaluate``)."""
    benchmark = read_json(MP2_RESULTS / 'benchmark_cpu.json')
    step, grid, epoch, environment = (benchmark['step'][0], benchmark['step'][1:], benchmark['epoch'],
                                      benchmark['environment'])
    values = {'stepOursMs': f"{step['ours_ms']:.1f}", 'stepTorchMs': f"{step['torch_ms']:.1f}",
              'stepRatio': f"{step['ratio']:.2f}", 'gridRatioMin': f"{min(row['ratio'] for row in grid):.2f}",
              'gridRatioMax': f"{max(row['ratio'] for row in grid):.2f}",
              'epochOursSeconds': f"{epoch['ours']['seconds']:.1f}",
              'epochTorchSeconds': f"{epoch['torch']['seconds']:.1f}",
              'epochRatio': f"{epoch['ours']['seconds'] / epoch['torch']['seconds']:.2f}",
              'benchThreads': str(environment['threads']), 'benchTorch': latex_escape(environment['torch_version']),
              'benchCpu': latex_escape(environment['cpu_model']), 'benchRepeats': str(benchmark['settings']['repeats'])}
    for row in benchmark['predict']:
        values[f"predict{'Small' if row['shape'][0] > 1 else 'Large'}Ratio"] = f"{row['ratio']:.2f}"
    return values


def architecture_numbers():
    """Parameter counts and channels of both shipped networks, from the models themselves."""
    from ...Miniproject_1.model import Model as UNetModel
    from ..model import Model
    unet = UNetModel()
    encoder, decoder = unet.network.channels(unet.config.width, unet.config.shape)
    return {'oursParameters': thousands(sum(parameter.numel() for parameter, _ in Model().network.param())),
            'unetParameters': thousands(sum(parameter.numel() for parameter in unet.network.parameters())),
            'unetEncoderChannels': ', '.join(map(str, encoder)), 'unetDecoderChannels': ', '.join(map(str, decoder))}


def exactness_numbers():
    """The course's tolerance and what our blocks meet, from ``others/exactness.py``'s results file."""
    exactness = read_json(MP2_RESULTS / 'exactness.json')
    published, im2col, onednn = (exactness['published_checks'], exactness['im2col_cases'].values(),
                                 exactness['onednn_cases'])
    shipped = next(row for name, row in onednn.items() if name.startswith('the shipped network'))
    from ..model import Conv2d
    return {'imcolMaxValues': thousands(Conv2d.TORCH_IM2COL_MAX_VALUES),
            'exactPublishedChecks': thousands(3 * published['draws']),
            'exactPublishedDraws': thousands(published['draws']), 'exactPublishedFailed': str(published['failed']),
            'exactCases': str(len(im2col)), 'exactCaseDraws': str(min(row['draws'] for row in im2col)),
            'exactCaseFailed': str(sum(row['failed_draws'] for row in im2col)),
            'onednnDraws': str(min(row['draws'] for row in onednn.values())),
            'onednnFailedDraws': str(min(row['failed_draws'] for row in onednn.values())),
            'onednnMedianMax': latex_number(max(row['median_scaled_difference'] for row in onednn.values())),
            'onednnShippedMax': latex_number(shipped['max_scaled_difference'])}


def baselines_table():
    """Both Gaussian validation sets side by side: PSNR and gain on each, the first set's time; a parameter
    tuned to another value on the second set is given as 'first / second'."""
    second = method_rows(read_json(MP2_RESULTS / 'baselines_val2_gaussian.json'))
    header = [r' & & \multicolumn{2}{c}{first set} & \multicolumn{2}{c}{second set} & \\',
              r'\cmidrule(lr){3-4}\cmidrule(lr){5-6}', r'method & parameter & PSNR & gain & PSNR & gain & time (s) \\']
    networks = {'mp2': r'\textbf{Mini-project 2}', 'mp1': r'\textbf{Mini-project 1}'}
    rows = []
    for method in read_json(MP2_RESULTS / 'baselines_gaussian.json')['methods']:
        other = second[method['key']]
        parameters = ' / '.join(map(latex_escape, dict.fromkeys((method['parameter'], other['parameter']))))
        rows.append([networks.get(method['key'], latex_escape(method['method'])),
                     parameters if method['parameter'] and method['key'] not in networks else '--',
                     f"{method['psnr_db']:.2f}", f"{method['gain_db']:+.2f}", f"{other['psnr_db']:.2f}",
                     f"{other['gain_db']:+.2f}", f"{method['seconds']:.1f}"])
    return tabular('llrrrrr', header, rows)


def speed_table():
    benchmark = read_json(MP2_RESULTS / 'benchmark_cpu.json')
    step, epoch = benchmark['step'][0], benchmark['epoch']
    rows = [['training step (ms)', f"{step['ours_ms']:.1f}", f"{step['torch_ms']:.1f}", f"{step['ratio']:.2f}"],
            [f"epoch, {epoch['images'] // 1000}k pairs (s)", f"{epoch['ours']['seconds']:.1f}",
             f"{epoch['torch']['seconds']:.1f}", f"{epoch['ours']['seconds'] / epoch['torch']['seconds']:.2f}"]]
    rows += [[f"predict {row['shape'][0]}$\\times${row['shape'][2]}$^2$ (ms)", f"{row['ours_ms']:.0f}",
              f"{row['torch_ms']:.0f}", f"{row['ratio']:.2f}"] for row in benchmark['predict']]
    return tabular('lrrr', [r'measurement & ours & torch.nn & ratio \\'], rows)


def correctness_table(counts):
    return tabular('llr', [r'block & compared with torch & cases \\'],
                   [[latex_escape(block), compared, counts.get((file, test), 0)]
                    for file, test, block, compared in CORRECTNESS_TESTS])


# -- robustness and the course's degradation (make robustness; the models shipped before from history) --------

ROBUSTNESS_SETS = (('data_gaussian', ''), ('data_val2_gaussian', 'Two'))
# (row name, macro name): the shipped weights and, from history, the Gaussian-trained weights shipped before
# ('mp2-sigma25' at σ 25 only; '-gaussian' blind to σ) and the U-Net of a chain of stages ('mp1-chain').
ROBUSTNESS_MODELS = (('mp2-sigma25', 'Former'), ('mp2-gaussian', 'Ours'), ('mp2', 'Shipped'),
                     ('mp1-gaussian', 'Unet'), ('mp1-chain', 'UnetChain'), ('mp1', 'UnetShipped'))
# The tables' columns (row name, label): Report 2's, then Report 1's.
ROBUSTNESS_TABLES = {'robustness': (('mp2-gaussian', 'MP2, blind'), ('mp2', 'MP2, shipped'), ('mp1', 'MP1, shipped')),
                     'robustness_unet': (('mp1-gaussian', 'blind'), ('mp1-chain', 'before'), ('mp1', 'shipped'))}
ROBUSTNESS_SHORT_LABELS = {**{f'gaussian-{sigma}': f'σ = {sigma}' for sigma in robustness.GAUSSIAN_SIGMAS},
                           'poisson-gaussian': 'Poisson–Gaussian', 'correlated': 'correlated'}
# The noises of the goal: Gaussian σ 10 to 50 and the signal-dependent noise.
ROBUSTNESS_GOAL_NOISES = tuple(f'gaussian-{sigma}' for sigma in robustness.GAUSSIAN_SIGMAS if sigma >= 10) + (
    'poisson-gaussian',)
PIXELATION_SETS = (('data', ''), ('data_val2', 'Two'))
# (row name, macro name, column label), the noisy input and the blur first.
PIXELATION_METHODS = (('noisy', 'Noisy', 'noisy'), ('blur', 'Blur', 'blur'),
                      ('mp2-gaussian', 'OursGaussian', 'MP2, G.'), ('mp2-nearest', 'OursNearest', 'MP2, n.'),
                      ('mp2', 'Ours', 'MP2'), ('mp1-gaussian', 'UnetGaussian', 'MP1, G.'),
                      ('mp1-chain', 'UnetChain', 'MP1, b.'), ('mp1', 'Unet', 'MP1'))


class RobustnessRows(dict):
    """``{(set, noise, method): row}`` of ``make robustness`` and, from history, of the models shipped before;
    a missing row is a ReportError."""

    def __init__(self):
        results = read_json(robustness.RESULTS_FILE)
        super().__init__(((row['set'], row['noise'], row['method']), row)
                         for row in results['rows'] + history('robustness')['rows'])
        self.bm3d_images = results['bm3d_images']

    def __missing__(self, key):
        where = '`make robustness`' if key[2] in robustness.METHODS else f"(history) {HISTORY['robustness']}"
        raise ReportError(f"no row of {', '.join(key)}: {where} should have it")

    def versus_bm3d(self, set_name, method):
        """``{noise: (mean, standard error)}`` of ``method`` minus BM3D on the set's BM3D subset."""
        return {noise: robustness.paired_difference(self[set_name, noise, method], self[set_name, noise, 'bm3d'])
                for noise in robustness.CLEAN_PATCH_NOISES}

    def versus_blur(self, set_name, method):
        """``method``'s PSNR minus the tuned blur's at each downsampling factor."""
        return [self[set_name, noise, method]['psnr_db'] - self[set_name, noise, 'blur']['psnr_db']
                for noise in robustness.PIXELATION_NOISES]


def robustness_numbers(rows):
    """Per model and set (suffix ``Two`` for the second), its worst difference to BM3D over the goal's noises,
    worded "0.50 dB below", and where (``robustOursWorst``, ``robustOursWorstAt``), its difference at σ 25 and
    σ 10; the σ-10 specialist's at σ 10; each network's least and largest margin over the blur across the
    downsampling factors (``pixOursBlurMin``, ...); how many images BM3D scored; the bias-free study at σ 25."""
    values = {'robustBmImages': str(rows.bm3d_images)}
    for set_name, suffix in ROBUSTNESS_SETS:
        for method, name in ROBUSTNESS_MODELS:
            differences = rows.versus_bm3d(set_name, method)
            worst = min(ROBUSTNESS_GOAL_NOISES, key=lambda noise: differences[noise][0])
            values.update({f'robust{name}Worst{suffix}': versus(differences[worst][0]),
                           f'robust{name}WorstAt{suffix}': latex_escape(ROBUSTNESS_SHORT_LABELS[worst]),
                           f'robust{name}AtTwentyFive{suffix}': versus(differences['gaussian-25'][0]),
                           f'robust{name}Ten{suffix}': versus(differences['gaussian-10'][0])})
        specialist = robustness.paired_difference(rows[set_name, 'gaussian-10', 'specialist-sigma10'],
                                                  rows[set_name, 'gaussian-10', 'bm3d'])
        values[f'robustSpecialistTen{suffix}'] = versus(specialist[0])
    for set_name, suffix in PIXELATION_SETS:
        for method, name, _ in PIXELATION_METHODS[2:]:
            margins = rows.versus_blur(set_name, method)
            values[f'pix{name}BlurMin{suffix}'], values[f'pix{name}BlurMax{suffix}'] = (
                f"{min(margins):+.2f}", f"{max(margins):+.2f}")
    for variant, name in (('bias', 'Bias'), ('bias-free', 'BiasFree')):
        values[f'blindStudy{name}'] = f"{history('blind')['psnr'][variant]['gaussian-25']:.2f}"
    return values


def robustness_table(rows, models):
    """Per noise and set: BM3D's PSNR on its subset, and each of ``models``' paired difference to it."""
    differences = {(set_name, method): rows.versus_bm3d(set_name, method)
                   for set_name, _ in ROBUSTNESS_SETS for method, _ in models}
    labels = ['BM3D'] + [label for _, label in models]
    return tabular('l' + 'r' * 2 * len(labels), two_sets_header('noise', labels), [
        [latex_escape(ROBUSTNESS_SHORT_LABELS[noise])]
        + [cell for set_name, _ in ROBUSTNESS_SETS
           for cell in [f"{rows[set_name, noise, 'bm3d']['psnr_db']:.2f}"]
           + [f"{differences[set_name, method][noise][0]:+.2f}" for method, _ in models]]
        for noise in robustness.CLEAN_PATCH_NOISES])


def pixelation_table(rows):
    """Per downsampling factor and set: the noisy input's and the tuned blur's PSNR, and each network's PSNR
    minus the blur's."""
    margins = {(set_name, method): rows.versus_blur(set_name, method)
               for set_name, _ in PIXELATION_SETS for method, *_ in PIXELATION_METHODS[2:]}
    table = []
    for index, noise in enumerate(robustness.PIXELATION_NOISES):
        cells = [noise.split('-')[1]]
        for set_name, _ in PIXELATION_SETS:
            cells += [f"{rows[set_name, noise, key]['psnr_db']:.2f}" for key in ('noisy', 'blur')]
            cells += [f"{margins[set_name, method][index]:+.2f}" for method, *_ in PIXELATION_METHODS[2:]]
        table.append(cells)
    return tabular('l' + 'r' * 2 * len(PIXELATION_METHODS),
                   two_sets_header('factor', [label for *_, label in PIXELATION_METHODS]), table)


# -- continued training (make continued; the other sets from history) ----------------------------------------

# (set, macro suffix, LaTeX label): the pixelated sets measured on the shipped weights by `make continued`, the
# others on the blind Gaussian weights shipped before (history).
CONTINUED_SETS = (('pixelation', 'Pixelation', 'in-domain, pixelated'),
                  ('pixelation-cross-domain', 'PixelationCross', r'\code{data/}, pixelated'),
                  ('in-domain', 'In', r'in-domain, $\sigma$ 25'), ('sigma-65', 'SigmaSixtyFive', r'$\sigma$ 65'),
                  ('poisson-gaussian', 'Pg', 'Poisson--Gaussian'), ('correlated', 'Correlated', 'correlated'),
                  ('cross-domain', 'Cross', 'cross-domain'))


def continued_rows():
    """``{project: {set: (loaded PSNR, plain epoch's gain, held-out choice's α, its gain)}}``."""
    measured, former = continued.load_results(), history('continued')['results']
    rows = {2: {}, 1: {}}
    for project, sets in rows.items():
        for key, _, _ in CONTINUED_SETS:
            name = f"mp{project}/interpolate/{key}"
            result = (measured if key in continued.DOMAINS else former).get(name)
            if result is None:
                raise ReportError(f"no {name}: run `make continued`" if key in continued.DOMAINS
                                  else f"(history) {HISTORY['continued']} lacks {name}")
            alpha, psnrs, before = continued.held_out_choice(project, result), result['val_psnr'], result['before']
            sets[key] = (before, psnrs[result['alphas'].index(1)] - before, alpha,
                         psnrs[result['alphas'].index(alpha)] - before)
    return rows


def continued_numbers(rows):
    """``cont{One,Two}{Plain,Kept}{set}Gain`` and ``cont{One,Two}Kept{set}Alpha``."""
    values = {}
    for project, sets in rows.items():
        name = 'One' if project == 1 else 'Two'
        for key, short, _ in CONTINUED_SETS:
            _, plain, alpha, kept = sets[key]
            values.update({f'cont{name}Plain{short}Gain': f"{plain:+.2f}", f'cont{name}Kept{short}Alpha': f"{alpha:g}",
                           f'cont{name}Kept{short}Gain': f"{kept:+.2f}"})
    return values


def continued_table(rows):
    header = [r' & \multicolumn{3}{c}{Mini-project 2} & \multicolumn{3}{c}{Mini-project 1 (U-Net)} \\',
              r'set & loaded & plain & \code{train} ($\alpha$) & loaded & plain & \code{train} ($\alpha$) \\']
    return tabular('lrrrrrr', header, [
        [label] + [cell for project in (2, 1) for before, plain, alpha, kept in [rows[project][key]]
                   for cell in (f"{before:.2f}", f"{plain:+.2f}", f"{kept:+.2f} ({alpha:g})")]
        for key, _, label in CONTINUED_SETS])


# -- the studies (history) -----------------------------------------------------------------------------------

# The upsampling study's race at width 112 (nearest + 5×5 against transposed 3×3) and its swap.
UPSAMPLING_RACE = ('nearest-w112', 't3-w112')
UPSAMPLING_SWAP = ('t4-w112', 't4-w112-swap')
UPSAMPLING_SETS = (('data', ''), ('data_val2', 'Two'))


def upsampling_candidates():
    """``(chosen, {name: candidate})``: the upsampling study's choice, checked to be ``Model()``'s network, and
    the candidates trained on its pairs, in the study's order."""
    from ..model import Model
    study = history('upsampling')
    chosen, candidates = study['chosen'], study['candidates']
    config = Model().config
    if any(getattr(config, field) != candidates[chosen][field] for field in config.ARCHITECTURE):
        raise ReportError(f"Model()'s network is not the upsampling study's choice {chosen!r}")
    return chosen, {name: fields for name, fields in candidates.items() if fields['data'] == candidates[chosen]['data']}


def upsampling_table():
    """The upsampling study: each candidate trained on the chosen one's pairs, with its upsampling stages, width
    and strided kernel, its PSNR on both pixelated validation sets, and its epoch time relative to the network
    shipped before."""
    chosen, candidates = upsampling_candidates()
    rows = []
    for name, fields in candidates.items():
        kernel, strided = fields['up_kernel_size'], fields['kernel_size']
        kind = 'nearest + ' if fields['upsampling'] == 'nearest' else 'transposed '
        cells = [f"{kind}{kernel}$\\times${kernel}" + (', swapped' if fields.get('swap') else ''), fields['width'],
                 f"{strided}$\\times${strided}", *(f"{fields['psnr'][folder]:.2f}" for folder, _ in UPSAMPLING_SETS),
                 f"{fields['epoch_time_ratio']:.2f}" if 'epoch_time_ratio' in fields else '--']
        rows.append([rf'\textbf{{{cell}}}' for cell in cells] if name == chosen else cells)
    return tabular('lrrrrr', [r'upsampling & width & strided & first & second & epoch \\'], rows)


def study_numbers():
    """The history the reports quote: Mini-project 2's first study (the twin, clean targets), its width, its
    upsampling study; the U-Net's widths, shapes and data study."""
    study = history('study')
    final = {name: run['val_psnr'][-1] for name, run in study['runs'].items()}
    values = {'studyBaseConfig': latex_escape(', '.join(f'{key}={value}' for key, value in study['base'].items())),
              'studyRuns': str(len(final)), 'studyEpochs': str(len(study['runs']['base']['val_psnr'])),
              'studyDefault': f"{final['default']:.2f}", 'studyTwin': f"{final['default-twin']:.2f}",
              'studyTwinGap': f"{abs(final['default'] - final['default-twin']):.2f}",
              'studyNarrowWidth': str(study['runs']['default-w48']['width']),
              'studyNarrowDefault': f"{final['default-w48']:.2f}",
              'studyNarrowClean': f"{final['default-w48-clean']:.2f}",
              'studyCleanGain': f"{final['default-w48-clean'] - final['default-w48']:.2f}",
              'capGain': f"{history('capacity')['vs_before']['w112k3u5-lr1.5e-3']['data_gaussian']['mean']:.2f}"}

    chosen, candidates = upsampling_candidates()
    values.update(upStudyEpochs=str(candidates[chosen]['epochs']), upStudyPairs=thousands(candidates[chosen]['pairs']),
                  upStudyRuns=str(len(candidates)), upChosenEpochRatio=f"{candidates[chosen]['epoch_time_ratio']:.2f}")
    for folder, suffix in UPSAMPLING_SETS:
        psnr = {name: fields['psnr'][folder] for name, fields in candidates.items()}
        values[f'upChosenPsnr{suffix}'] = f"{psnr[chosen]:.2f}"
        values[f'upRaceGain{suffix}'] = f"{psnr[UPSAMPLING_RACE[1]] - psnr[UPSAMPLING_RACE[0]]:.2f}"
        values[f'upSwapGain{suffix}'] = f"{psnr[UPSAMPLING_SWAP[1]] - psnr[UPSAMPLING_SWAP[0]]:+.2f}"

    shapes, winner = history('unetCapacity'), 'w32-tapered-residual'
    psnr, branch = shapes['psnr'], f'{winner}-3'
    values.update(unetCapOldWidth=str(shapes['candidates']['before']['width']),
                  unetCapEpochLimit=f"{shapes['epoch_time_limit']:g}",
                  unetCapEpochRatio=f"{shapes['epoch_time_ratio'][winner]:.2f}",
                  unetFormerBestValPsnr=f"{shapes['before_training']['best_val_psnr']:.2f}",
                  unetFormerEpochs=str(shapes['before_training']['epochs']),
                  unetBranchLossTwo=f"{psnr[winner]['data_val2_gaussian'] - psnr[branch]['data_val2_gaussian']:.2f}")
    for folder, suffix in (('data_gaussian', ''), ('data_val2_gaussian', 'Two')):
        gain = shapes['vs_before'][winner][folder]
        values.update({f'unetCapOldPsnr{suffix}': f"{psnr['before'][folder]:.2f}",
                       f'unetCapPsnr{suffix}': f"{psnr[winner][folder]:.2f}",
                       f'unetCapGain{suffix}': f"{gain['mean']:.2f}",
                       f'unetCapGainError{suffix}': f"{gain['standard_error']:.2f}"})
    for width, name in (('64', 'SixtyFour'), ('96', 'NinetySix')):
        run = history('width')['widths'][width]
        values.update({f'unetWidth{name}Best': f"{run['best_val_psnr']:.2f}",
                       f'unetWidth{name}BestEpoch': str(run['best_epoch']),
                       f'unetWidth{name}Final': f"{run['val_psnr'][-1]:.2f}"})
        # Where the loss blew up: an epoch's mean loss over a hundred times the one before (Model.train's stop).
        losses = run['loss']
        for epoch in [epoch for epoch in range(1, len(losses)) if losses[epoch] > 100 * losses[epoch - 1]][:1]:
            values.update({f'unetWidth{name}JumpEpoch': str(epoch + 1),
                           f'unetWidth{name}LossBefore': f"{losses[epoch - 1]:.4f}",
                           f'unetWidth{name}LossAfter': f"{losses[epoch]:.0f}"})

    runs = history('dataStudy')['runs']
    last = {run: record['val_psnr'][-1] for run, record in runs.items()}
    for run, name in (('plain', 'Plain'), ('plain-seed1', 'PlainSeed'), ('fewer-seed1', 'Fewer'), ('sharp', 'Sharp'),
                      ('lowsigma', 'LowSigma')):
        values[f'dataStudy{name}'] = f"{last[run]:.2f}"
    values['dataStudySeedSpread'] = f"{abs(last['plain'] - last['plain-seed1']):.2f}"
    for noise, name in (('data_gaussian/gaussian-5', 'Five'), ('data_gaussian/gaussian-10', 'Ten'),
                        ('data/pixelation-2', 'PixTwo')):
        values[f'dataStudyIdentityGain{name}'] = f"{runs['f1']['psnr'][noise] - runs['plain']['psnr'][noise]:+.2f}"
    return values


# -- the generated LaTeX -------------------------------------------------------------------------------------

def numbers(rows):
    """``({macro name: LaTeX text} of every number the reports quote, the correctness tests' counts)``."""
    values = {f'{name}Commit': history(name)['commit'] for name in HISTORY}
    for part in (baseline_numbers, training_numbers, benchmark_numbers, architecture_numbers, exactness_numbers,
                 study_numbers):
        values.update(part())
    values.update(robustness_numbers(rows))
    values.update(continued_numbers(continued_rows()))
    counts = collected_test_counts()
    values['correctnessCases'] = str(sum(counts.get((file, test), 0) for file, test, *_ in CORRECTNESS_TESTS))
    for file, prefix in (('test_blocks.py', 'block'), ('test_optim.py', 'optim')):
        tolerance = tolerance_of(file)
        values[f'{prefix}Rtol'], values[f'{prefix}Atol'] = (latex_number(tolerance['rtol']),
                                                            latex_number(tolerance['atol']))
    return values, counts


def write_generated(folder=GENERATED_FOLDER, figures_folder=FIGURES_FOLDER):
    """Write ``results.tex`` (the macros, and where the figures are) and the tables into ``folder``."""
    rows = RobustnessRows()
    values, counts = numbers(rows)
    folder.mkdir(parents=True, exist_ok=True)
    header = '% Generated by `python -m Proj_123456_654321.Miniproject_2.others.report`; do not edit.\n'
    graphics = f'\\graphicspath{{{{{figures_folder.resolve()}/}}{{{MP2_RESULTS}/}}}}\n'
    macros = ''.join(f'\\newcommand{{\\{name}}}{{{value}}}\n' for name, value in sorted(values.items()))
    (folder / 'results.tex').write_text(header + graphics + macros)
    tables = {'baselines': baselines_table(), 'speed': speed_table(), 'correctness': correctness_table(counts),
              'continued': continued_table(continued_rows()), 'pixelation': pixelation_table(rows),
              'upsampling': upsampling_table(),
              **{name: robustness_table(rows, models) for name, models in ROBUSTNESS_TABLES.items()}}
    for name, table in tables.items():
        (folder / f'table_{name}.tex').write_text(header + table + '\n')
    return values


# -- figures and PDFs ----------------------------------------------------------------------------------------

def run_notebook(path, figures_folder, timeout=600):
    """Execute a notebook headless (nothing written back), its kernel told the figure folder (``REPORT_FIGURES``)."""
    import nbformat
    from nbclient import NotebookClient
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}
                   ).execute(env={**os.environ, 'REPORT_FIGURES': str(Path(figures_folder).resolve())})
    return notebook


def check_latex_tools():
    missing = [tool for tool in LATEX_TOOLS if shutil.which(tool) is None]
    if missing:
        raise ReportError(f"{', '.join(missing)} not found: install Debian's {LATEX_PACKAGES} "
                          f"(`make report-tools`, as root), or pass --no-pdf")


def page_count(pdf):
    info = subprocess.run(['pdfinfo', str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r'^Pages:\s+(\d+)', info, re.MULTILINE).group(1))


def typeset(source, build_folder, page_limit):
    """Typeset ``source`` (a .tex file; ``generated/`` beside it) into ``build_folder``; return the PDF's path
    and page count. Fails on LaTeX errors, undefined references or macros, and pages over ``page_limit``."""
    build_folder.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(['latexmk', '-pdf', '-interaction=nonstopmode', '-halt-on-error', '-quiet',
                                f'-outdir={build_folder.resolve()}', source.name],
                               cwd=source.parent, capture_output=True, text=True)
    log = build_folder / f'{source.stem}.log'
    log_text = log.read_text(errors='replace') if log.exists() else ''
    if completed.returncode != 0:
        raise ReportError(f"LaTeX failed on {source}:\n{(log_text or completed.stdout)[-3000:]}")
    problems = re.findall(r'^(LaTeX Warning: (?:Reference|Citation).*|! .*)$', log_text, re.MULTILINE)
    if problems:
        raise ReportError(f"{source}: " + '; '.join(problems[:5]))
    pdf = build_folder / f'{source.stem}.pdf'
    pages = page_count(pdf)
    if pages > page_limit:
        raise ReportError(f"{source} makes {pages} pages; the limit is {page_limit}")
    return pdf, pages


def render_pages(pdf):
    """Render every page of ``pdf`` to ``pages/NAME-N.png`` beside it (replacing older renderings)."""
    folder = pdf.parent / 'pages'
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(f'{pdf.stem}-*.png'):
        stale.unlink()
    subprocess.run(['pdftoppm', '-png', '-r', '110', str(pdf), str(folder / pdf.stem)], check=True)
    return sorted(folder.glob(f'{pdf.stem}-*.png'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--no-pdf', action='store_true', help='figures and generated LaTeX only (no LaTeX needed)')
    parser.add_argument('--pages', action='store_true', help='also render the pages to report/build/pages/*.png')
    arguments = parser.parse_args(argv)
    try:
        if not arguments.no_pdf:
            check_latex_tools()
        start = time.perf_counter()
        for notebook in NOTEBOOKS:
            print(f"running {notebook.relative_to(ROOT)}", flush=True)
            run_notebook(notebook, FIGURES_FOLDER)
        print("writing report/generated/ (collecting the tests' grid)", flush=True)
        write_generated()
        for source, destination, page_limit in () if arguments.no_pdf else REPORTS:
            pdf, pages = typeset(REPORT_FOLDER / f'{source}.tex', BUILD_FOLDER, page_limit)
            shutil.copyfile(pdf, destination)
            print(f"{destination.relative_to(ROOT)}: {pages} pages", flush=True)
            for png in render_pages(pdf) if arguments.pages else ():
                print(f"  {png.relative_to(ROOT)}")
        print(f"done in {time.perf_counter() - start:.0f} s")
    except ReportError as error:
        sys.exit(f"report: {error}")


if __name__ == '__main__':
    main()
