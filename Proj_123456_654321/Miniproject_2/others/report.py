"""Rebuild both reports from the committed results files:

    python -m Proj_123456_654321.Miniproject_2.others.report [--pages] [--no-pdf]

1. runs the analysis notebooks (``Miniproject_{1,2}/others/analysis.ipynb``) headless; they read the results
   files and draw the figures into ``report/figures/``;
2. writes ``report/generated/results.tex``: one LaTeX macro per number the reports quote and the tables, all
   read from the results files of the baseline, benchmark, study and training commands, and the size of the
   correctness grid read from the test suite (``pytest --collect-only``);
3. typesets ``report/report_{1,2}.tex`` with latexmk (pdfLaTeX), checks the page limits (3 and 4 pages) and
   copies the PDFs to ``Miniproject_1/Report_1.pdf`` and ``Miniproject_2/Report_2.pdf``.

``--pages`` also renders every page to ``report/build/pages/`` as PNG (pdftoppm), to read them as a reader
would. ``--no-pdf`` stops after steps 1 and 2 (no LaTeX needed). ``--costs`` prints, from the results files,
how long each experiment behind the reports took when it was run, and exits.

LaTeX comes from Debian's packages: ``apt-get install texlive-latex-base texlive-latex-recommended
texlive-fonts-recommended lmodern latexmk poppler-utils`` (``make report-tools``).
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

from . import capacity, continued, fetch_photos, robustness, study, upsampling_study
from .both_projects import PROJECT_FOLDER, results_folder
from ...Miniproject_1.others import capacity as unet_capacity
from ...Miniproject_1.others import speed as unet_speed_module
from ...Miniproject_1 import model as unet_model

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
LATEX_PACKAGES = ('texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk '
                  'poppler-utils')
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


# -- numbers -------------------------------------------------------------------------------------------------

def read_json(path):
    if not path.is_file():
        raise ReportError(f"{path} is missing: run the command that writes it (see the README's report section)")
    return json.loads(path.read_text())


def continued_results():
    """Both mini-projects' continued-training measurements (``continued.RESULTS_FILES``), by key."""
    for path in continued.RESULTS_FILES.values():
        read_json(path)  # a ReportError that names the command if one is missing
    return continued.load_results()


def latex_escape(text):
    return (str(text).replace('\\', r'\textbackslash{}').replace('&', r'\&').replace('%', r'\%')
            .replace('_', r'\_').replace('#', r'\#').replace('σ', r'$\sigma$'))


def tolerance_of(test_file):
    """The ``TOL = dict(rtol=..., atol=...)`` a test file compares with, read without importing it."""
    tree = ast.parse((ROOT / 'tests' / test_file).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == 'TOL' for t in node.targets):
            return {keyword.arg: ast.literal_eval(keyword.value) for keyword in node.value.keywords}
    raise ReportError(f"tests/{test_file} defines no TOL")


def collected_test_counts():
    """``{(file, test function): number of collected cases}`` for the correctness tests."""
    files = sorted({file for file, *_ in CORRECTNESS_TESTS})
    completed = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q',
                                *(f'tests/{file}' for file in files)],
                               cwd=ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise ReportError(f"pytest --collect-only failed:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    counts = {}
    for line in completed.stdout.splitlines():
        match = re.match(r'tests/(\S+?)::(\w+)', line)
        if match:
            counts[match.groups()] = counts.get(match.groups(), 0) + 1
    return counts


def method_rows(baselines):
    return {method['key']: method for method in baselines['methods']}


def numbers():
    """``{macro name: LaTeX text}`` of every number the reports quote."""
    values = {}
    baselines = read_json(MP2_RESULTS / 'baselines_gaussian.json')
    methods = method_rows(baselines)
    # macro names cannot hold digits; the Gaussian sets' baselines were measured before the median was added
    names = {key: name for key, name in BASELINE_MACROS.items() if key != 'median'}
    for key, name in names.items():
        method = methods[key]
        values[f'psnr{name}'] = f"{method['psnr_db']:.2f}"
    values['valImages'] = thousands(baselines['images'])
    second_set = read_json(MP2_RESULTS / 'baselines_val2_gaussian.json')
    values['valImagesTwo'] = thousands(second_set['images'])
    second_methods = method_rows(second_set)
    for key, name in names.items():
        values[f'psnr{name}Two'] = f"{second_methods[key]['psnr_db']:.2f}"
    values['noiseSigma'] = f"{baselines['noise_sigma_255']:g}"
    for name, first, second in (('oursVersusNlm', 'mp2', 'nlm'), ('oursVersusBm', 'mp2', 'bm3d'),
                                ('unetVersusBm', 'mp1', 'bm3d'), ('unetVersusOurs', 'mp1', 'mp2')):
        values[name] = versus(methods[first]['psnr_db'] - methods[second]['psnr_db'])

    mp2_history = read_json(MP2_RESULTS / 'bestmodel_history.json')
    values['oursEpochs'] = str(len(mp2_history['history']))
    values['oursBestEpoch'] = str(mp2_history['best_epoch'])
    values['oursTrainMinutes'] = f"{mp2_history['total_seconds'] / 60:.1f}"
    values['oursEpochSeconds'] = f"{study.seconds_per_epoch(mp2_history):.1f}"
    values['oursThreads'] = str(mp2_history['threads'])
    runs = mp2_history.get('runs', [{'epochs': len(mp2_history['history'])}])
    values['oursPieces'] = str(len(runs))
    values['oursPieceEpochs'] = in_words([str(run['epochs']) for run in runs])
    values['oursBestValPsnr'] = f"{mp2_history['best_val_psnr']:.2f}"
    values['oursTrainPairs'] = thousands(mp2_history['train_size'])
    config, training = mp2_history['config'], mp2_history['training']
    values['oursWidth'] = str(config['width'])
    values['oursKernel'] = str(config['kernel_size'])
    values['oursUpKernel'] = str(config['up_kernel_size'])
    values['oursLr'] = f"{training['lr']:g}"
    values['oursBatch'] = str(training['batch_size'])

    mp1_history = read_json(MP1_RESULTS / 'bestmodel_history.json')
    values['unetEpochs'] = str(len(mp1_history['history']))
    values['unetBestEpoch'] = str(mp1_history['best_epoch'])
    values['unetTrainMinutes'] = f"{mp1_history['total_seconds'] / 60:.0f}"
    values['unetTrainPairs'] = thousands(mp1_history['train_size'])
    values['unetEpochSeconds'] = f"{study.seconds_per_epoch(mp1_history):.0f}"
    values['unetThreads'] = str(mp1_history['threads'])
    values['unetPieceEpochs'] = in_words([str(run['epochs']) for run in mp1_history['runs']])
    values['unetBestValPsnr'] = f"{mp1_history['best_val_psnr']:.2f}"
    values['unetWidth'] = str(mp1_history['config']['width'])
    values['unetLr'] = f"{mp1_history['training']['lr']:g}"
    values['unetWarmupSteps'] = str(unet_model.Model.WARMUP_STEPS)
    values['unetBatch'] = str(mp1_history['training']['batch_size'])
    former_unet = read_json(unet_capacity.STUDY.folder / 'shipped.json')
    values['unetFormerBestValPsnr'] = f"{former_unet['best_val_psnr']:.2f}"
    values['unetFormerEpochs'] = str(len(former_unet['history']))
    for width_file in sorted((MP1_RESULTS / 'width').glob('w*.json'), key=lambda p: int(p.stem[1:])):
        width = read_json(width_file)
        name = {'64': 'SixtyFour', '96': 'NinetySix'}.get(width_file.stem[1:])
        if name is None:
            continue
        values[f'unetWidth{name}Best'] = f"{width['best_val_psnr']:.2f}"
        values[f'unetWidth{name}BestEpoch'] = str(width['best_epoch'])
        values[f'unetWidth{name}Final'] = f"{width['history'][-1]['val_psnr']:.2f}"
        losses = [record['loss'] for record in width['history']]
        jumps = [epoch for epoch in range(1, len(losses)) if losses[epoch] > 100 * losses[epoch - 1]]
        if jumps:
            values[f'unetWidth{name}JumpEpoch'] = str(jumps[0] + 1)
            values[f'unetWidth{name}LossBefore'] = f"{losses[jumps[0] - 1]:.4f}"
            values[f'unetWidth{name}LossAfter'] = f"{losses[jumps[0]]:.0f}"
    unet_speed = read_json(MP1_RESULTS / 'speed.json')
    values['unetSpeedRatio'] = f"{unet_speed['time']['ratio']:.2f}"
    values['unetSpeedMinutes'] = f"{unet_speed['time']['shipped_seconds_per_50000_pairs'] / 60:.1f}"
    budget = unet_speed['budget']
    for shape, shape_name in (('tapered', 'Tapered'), ('light', 'Light')):
        for setting, setting_name in zip(unet_speed_module.BUDGET_SETTINGS, ('FloatLast', 'FloatContiguous', 'Bf')):
            minutes = budget['seconds_per_50000_pairs'][f'{shape} / {setting}'] / 60
            values[f'unetBudget{shape_name}{setting_name}'] = f"{minutes:.1f}"
    values['unetCpuEpochSeconds'] = f"{harness_epoch_seconds(1):.0f}"
    values['oursHarnessEpochSeconds'] = f"{harness_epoch_seconds(2):.1f}"

    benchmark = read_json(MP2_RESULTS / 'benchmark_cpu.json')
    submitted = benchmark['step'][0]
    values['stepOursMs'] = f"{submitted['ours_ms']:.1f}"
    values['stepTorchMs'] = f"{submitted['torch_ms']:.1f}"
    values['stepRatio'] = f"{submitted['ratio']:.2f}"
    grid = benchmark['step'][1:]
    values['gridRatioMin'] = f"{min(row['ratio'] for row in grid):.2f}"
    values['gridRatioMax'] = f"{max(row['ratio'] for row in grid):.2f}"
    epoch = benchmark['epoch']
    values['epochOursSeconds'] = f"{epoch['ours']['seconds']:.1f}"
    values['epochTorchSeconds'] = f"{epoch['torch']['seconds']:.1f}"
    values['epochRatio'] = f"{epoch['ours']['seconds'] / epoch['torch']['seconds']:.2f}"
    values['benchThreads'] = str(benchmark['environment']['threads'])
    values['benchTorch'] = latex_escape(benchmark['environment']['torch_version'])
    values['benchCpu'] = latex_escape(benchmark['environment']['cpu_model'])
    values['benchRepeats'] = str(benchmark['settings']['repeats'])
    for row in benchmark['predict']:
        name = 'Small' if row['shape'][0] > 1 else 'Large'
        values[f'predict{name}Ratio'] = f"{row['ratio']:.2f}"

    cuda = read_json(MP2_RESULTS / 'benchmark_cuda.json')
    values['cudaDevice'] = latex_escape(cuda['environment']['device_name'])
    values['cudaWidth'] = str(cuda['step'][0]['width'])
    values['cudaStepRatio'] = f"{cuda['step'][0]['ratio']:.2f}"
    values['cudaEpochRatio'] = f"{cuda['epoch']['ours']['seconds'] / cuda['epoch']['torch']['seconds']:.2f}"
    for row in cuda['predict']:
        values[f"cudaPredict{'Small' if row['shape'][0] > 1 else 'Large'}Ratio"] = f"{row['ratio']:.2f}"

    values.update(architecture_numbers())

    results = study.load_results()
    values['studyBaseConfig'] = latex_escape(', '.join(f'{key}={value}' for key, value in study.BASE.items()))
    values['studyRuns'] = str(len(results))
    values['studyHours'] = f"{sum(result['total_seconds'] for result in results.values()) / 2 / 3600:.1f}"
    values['studyEpochs'] = str(len(results['base']['history']))
    for name, macro in (('default', 'studyDefault'), ('default-twin', 'studyTwin'),
                        ('default-w48', 'studyNarrowDefault'), ('default-w48-clean', 'studyNarrowClean')):
        values[macro] = f"{results[name]['history'][-1]['val_psnr']:.2f}"
    values['studyTwinGap'] = f"{abs(float(values['studyDefault']) - float(values['studyTwin'])):.2f}"
    values['studyNarrowWidth'] = str(results['default-w48']['config']['width'])
    values['studyCleanGain'] = f"{float(values['studyNarrowClean']) - float(values['studyNarrowDefault']):.2f}"

    counts = collected_test_counts()
    values['correctnessCases'] = str(sum(counts.get((file, test), 0) for file, test, *_ in CORRECTNESS_TESTS))
    for file, prefix in (('test_blocks.py', 'block'), ('test_optim.py', 'optim')):
        tolerance = tolerance_of(file)
        values[f'{prefix}Rtol'] = latex_number(tolerance['rtol'])
        values[f'{prefix}Atol'] = latex_number(tolerance['atol'])
    values.update(exactness_numbers())
    values.update(continued_numbers(continued_results()))
    values.update(capacity_numbers())
    values.update(upsampling_numbers())
    unet_values, unet_winner, unet_results = study_gain_numbers(unet_capacity.STUDY, 'unetCap',
                                                                 UNET_CAPACITY_WINNER)
    values.update(unet_values)
    # The third piece, kept apart: how much worse its kept epoch is than the shipped weights on the second set.
    branch = unet_results['psnr']['w32-tapered-residual-3']['data_val2_gaussian']
    values['unetBranchLossTwo'] = f"{unet_results['psnr'][unet_winner]['data_val2_gaussian'] - branch:.2f}"
    values.update(unet_data_study_numbers())
    values.update(robustness_numbers(read_json(robustness.RESULTS_FILE)))
    values.update(pixelation_numbers(read_json(robustness.RESULTS_FILE)))
    return values, counts


# The U-Net capacity study's winner, which issue 36 pruned into the shipped 'light' U-Net.
UNET_CAPACITY_WINNER = 'w32-tapered-residual'
# Mini-project 2's capacity study's winner, shipped until issue 40's upsampling study replaced it.
CAPACITY_WINNER = 'w112k3u5-lr1.5e-3'


# The robustness evaluation's sets and models, and the noises its goal covers (Gaussian σ 10 to 50 and the
# signal-dependent noise).
ROBUSTNESS_SETS = (('data_gaussian', ''), ('data_val2_gaussian', 'Two'))
# The Gaussian-trained weights keep their rows under their own names ('mp2-gaussian': blind to σ, shipped
# before the pixelation training; 'mp2-sigma25' before that); 'mp2' and 'mp1' are the shipped weights.
ROBUSTNESS_MODELS = (('mp2-sigma25', 'Former', r'MP2, $\sigma$ 25'), ('mp2-gaussian', 'Ours', 'MP2, blind'),
                     ('mp2', 'Shipped', 'MP2, shipped'), ('mp1-gaussian', 'Unet', 'MP1, blind'),
                     ('mp1', 'UnetShipped', 'MP1, shipped'))
# Report 2's table: ours blind to σ and shipped, and the shipped U-Net.
ROBUSTNESS_TABLE_MODELS = tuple(model for model in ROBUSTNESS_MODELS if model[0] in ('mp2-gaussian', 'mp2', 'mp1'))
# Report 1's table: the U-Net trained blind to σ, the one shipped before issue 41 (the end of a chain of
# stages, 'mp1-chain'), and the shipped one, trained from random weights in one recipe.
UNET_ROBUSTNESS_MODELS = (('mp1-gaussian', 'Unet', 'blind'), ('mp1-chain', 'UnetChain', 'before'),
                          ('mp1', 'UnetShipped', 'shipped'))
# Row labels short enough for a column: σ alone for the Gaussian noises.
ROBUSTNESS_SHORT_LABELS = {**{f'gaussian-{sigma}': f'σ = {sigma}' for sigma in robustness.GAUSSIAN_SIGMAS},
                           'poisson-gaussian': 'Poisson–Gaussian', 'correlated': 'correlated'}
ROBUSTNESS_GOAL_NOISES = tuple(f'gaussian-{sigma}' for sigma in robustness.GAUSSIAN_SIGMAS if sigma >= 10) + (
    'poisson-gaussian',)


# The last commit whose Makefile made the rows of the models shipped before (docs/history.md).
HISTORY_COMMIT = 'c61896f'


def robustness_commit(method):
    """Where `make robustness` makes ``method``'s rows: '' for the classical denoisers and the shipped models,
    else the commit whose Makefile made the rows of the models shipped before."""
    return '' if method in robustness.METHODS else f' at commit {HISTORY_COMMIT} (docs/history.md)'


def robustness_differences(results, set_name, method):
    """``{noise: (mean, standard error)}`` of ``method`` minus BM3D on the set's BM3D subset."""
    differences = {}
    for noise in robustness.CLEAN_PATCH_NOISES:
        row, reference = (robustness.find_row(results, set_name, noise, key) for key in (method, 'bm3d'))
        if row is None or reference is None:
            raise ReportError(f"{robustness.RESULTS_FILE} lacks the {method if row is None else 'bm3d'} row of "
                              f"{set_name}, {noise}: run `make robustness`{robustness_commit(method)}")
        differences[noise] = robustness.paired_difference(row, reference)
    return differences


def robustness_numbers(results):
    """Macros of the robustness paragraphs: per model and set, the worst difference to BM3D over the goal's
    noises, worded "0.50 dB below", and where it is (``robustOursWorst``, ``robustOursWorstAt``, ``...Two`` on
    the second set), the difference at σ 25, and how many images BM3D scored."""
    values = {'robustBmImages': str(results['bm3d_images'])}
    blind = read_json(MP2_RESULTS / 'blind' / 'mp2_blind_history.json')
    values['blindEpochs'] = str(len(blind['history']))
    values['blindPieceEpochs'] = in_words([str(run['epochs']) for run in blind['runs']])
    values['blindMinutes'] = f"{blind['total_seconds'] / 60:.0f}"
    study_results = read_json(MP2_RESULTS / 'blind' / 'study' / 'results.json')
    for variant, name in (('bias', 'Bias'), ('bias-free', 'BiasFree'), ('output-bias', 'OutputBias')):
        row = robustness.find_row(study_results, 'data_gaussian', 'gaussian-25', variant)
        values[f'blindStudy{name}'] = f"{row['psnr_db']:.2f}"
    for set_name, suffix in ROBUSTNESS_SETS:
        for method, name, _ in dict.fromkeys(ROBUSTNESS_MODELS + UNET_ROBUSTNESS_MODELS):
            differences = robustness_differences(results, set_name, method)
            worst = min(ROBUSTNESS_GOAL_NOISES, key=lambda noise: differences[noise][0])
            values[f'robust{name}Worst{suffix}'] = versus(differences[worst][0])
            values[f'robust{name}WorstAt{suffix}'] = latex_escape(ROBUSTNESS_SHORT_LABELS[worst])
            values[f'robust{name}AtTwentyFive{suffix}'] = versus(differences['gaussian-25'][0])
            values[f'robust{name}Ten{suffix}'] = versus(differences['gaussian-10'][0])
        # The σ-10 specialist (make sigma10-specialist at commit c61896f, docs/history.md): what the shape reaches
        # at σ 10 when it need not be blind.
        specialist, reference = (robustness.find_row(results, set_name, 'gaussian-10', method)
                                 for method in ('specialist-sigma10', 'bm3d'))
        if specialist is None:
            raise ReportError(f"{robustness.RESULTS_FILE} lacks the specialist-sigma10 row of {set_name}: run "
                              f"`make sigma10-specialist` at commit {HISTORY_COMMIT} (docs/history.md)")
        values[f'robustSpecialistTen{suffix}'] = versus(robustness.paired_difference(specialist, reference)[0])
    return values


# The course's degradation: the robustness evaluation's pixelation rows on both pixelated validation sets
# (set, macro suffix, label) and the methods of their table (key, macro name, label).
PIXELATION_SETS = (('data', '', 'first set'), ('data_val2', 'Two', 'second set'))
PIXELATION_METHODS = (('noisy', 'Noisy', 'noisy'), ('blur', 'Blur', 'blur'),
                      ('mp2-gaussian', 'OursGaussian', 'MP2, G.'), ('mp2-nearest', 'OursNearest', 'MP2, n.'),
                      ('mp2', 'Ours', 'MP2'),
                      ('mp1-gaussian', 'UnetGaussian', 'MP1, G.'), ('mp1-chain', 'UnetChain', 'MP1, b.'),
                      ('mp1', 'Unet', 'MP1'))
BASELINE_MACROS = {'noisy': 'Noisy', 'blur': 'Blur', 'median': 'Median', 'nlm': 'Nlm', 'bm3d': 'Bm',
                   'mp2': 'Ours', 'mp1': 'Unet'}


def pixelation_rows(results):
    """``{(set, noise, method): PSNR}`` of the table's sets, factors and methods, or a ReportError naming the
    command of a missing row."""
    rows = {}
    for set_name, *_ in PIXELATION_SETS:
        for noise in robustness.PIXELATION_NOISES:
            for method, *_ in PIXELATION_METHODS:
                row = robustness.find_row(results, set_name, noise, method)
                if row is None:
                    raise ReportError(f"{robustness.RESULTS_FILE} lacks the {method} row of {set_name}, {noise}: "
                                      f"run `make robustness`{robustness_commit(method)}")
                rows[set_name, noise, method] = row['psnr_db']
    return rows


def pixelation_numbers(results):
    """Macros of the course's degradation: per set (suffix ``Two`` for the second) each model's least and
    largest PSNR minus the tuned blur's over the downsampling factors (``pixOursBlurMin``, ...), the
    baselines on the pixelated validation pairs (``pixPsnrBlur``, ...)."""
    rows, values = pixelation_rows(results), {}
    for set_name, suffix, _ in PIXELATION_SETS:
        for method, name, _ in PIXELATION_METHODS[2:]:
            margins = [rows[set_name, noise, method] - rows[set_name, noise, 'blur']
                       for noise in robustness.PIXELATION_NOISES]
            values[f'pix{name}BlurMin{suffix}'] = f"{min(margins):+.2f}"
            values[f'pix{name}BlurMax{suffix}'] = f"{max(margins):+.2f}"
    for file, suffix in (('baselines.json', ''), ('baselines_val2.json', 'Two')):
        pixelated = read_json(MP2_RESULTS / file)
        values[f'pixValImages{suffix}'] = thousands(pixelated['images'])
        for key, method in method_rows(pixelated).items():
            values[f'pixPsnr{BASELINE_MACROS[key]}{suffix}'] = f"{method['psnr_db']:.2f}"
    return values


# The U-Net's data study (issue 41, Miniproject_1/others/data_study.sh): each run's record and robustness rows.
UNET_DATA_STUDY = MP1_RESULTS / 'data_study'


def unet_data_study_numbers():
    """Macros of the U-Net's data study: data/'s validation PSNR after the last epoch of each run
    (``dataStudyPlain``, ...), the spread of the two seeds of the same mix, and the factor-1 pairs' gain at
    Gaussian σ 5 and 10 and at factor 2 of the pixelation (negative: a loss)."""
    rows = read_json(UNET_DATA_STUDY / 'robustness.json')
    values, last = {}, {}
    for run, name in (('plain', 'Plain'), ('plain-seed1', 'PlainSeed'), ('fewer-seed1', 'Fewer'),
                      ('sharp', 'Sharp'), ('lowsigma', 'LowSigma'), ('f1', 'Identity')):
        last[run] = read_json(UNET_DATA_STUDY / f'{run}.json')['history'][-1]['val_psnr']
        values[f'dataStudy{name}'] = f"{last[run]:.2f}"
    values['dataStudySeedSpread'] = f"{abs(last['plain'] - last['plain-seed1']):.2f}"
    for noise, name in (('gaussian-5', 'Five'), ('gaussian-10', 'Ten'), ('pixelation-2', 'PixTwo')):
        identity, plain = (robustness.find_row(rows, 'data_gaussian' if noise.startswith('gaussian') else 'data',
                                               noise, f'unet-{run}')['psnr_db'] for run in ('f1', 'plain'))
        values[f'dataStudyIdentityGain{name}'] = f"{identity - plain:+.2f}"
    return values


def study_gain_numbers(study_of_capacity, prefix, name=None):
    """Macros (named ``prefix`` + ...) of a capacity study: the candidate ``name`` (default: the shipped
    configuration) against the one shipped before the study, on both Gaussian validation sets (no suffix:
    ``data_gaussian``; ``Two``: ``data_val2_gaussian``), their epoch-time ratio and the issue's bound on it; and
    the candidate's name."""
    name = study_of_capacity.now_shipped() if name is None else name
    if name is None:
        raise ReportError(f"Model()'s defaults are none of the candidates of {study_of_capacity.title!r}")
    results = read_json(study_of_capacity.results_file)
    values = {f'{prefix}OldWidth': str(study_of_capacity.candidates['shipped']['width']),
              f'{prefix}EpochLimit': f"{study_of_capacity.epoch_time_limit:g}",
              f'{prefix}EpochRatio': f"{results['time'][name]['ratio']:.2f}"}
    for folder, suffix in (('data_gaussian', ''), ('data_val2_gaussian', 'Two')):
        gain = results['vs_shipped'][name][folder]
        values[f'{prefix}OldPsnr{suffix}'] = f"{results['psnr']['shipped'][folder]:.2f}"
        values[f'{prefix}Psnr{suffix}'] = f"{results['psnr'][name][folder]:.2f}"
        values[f'{prefix}Gain{suffix}'] = f"{gain['mean']:.2f}"
        values[f'{prefix}GainError{suffix}'] = f"{gain['standard_error']:.2f}"
    return values, name, results


def capacity_numbers():
    """Macros of Mini-project 2's width paragraph (``cap...``; see ``study_gain_numbers``), and what the width
    and rate brought apart from the photos."""
    values, name, results = study_gain_numbers(capacity.STUDY, 'cap', CAPACITY_WINNER)
    # The shipped configuration's first piece against the width-48 one trained alike (both 10 epochs on the
    # same data, seed 0), on the first set: what the width and rate bring apart from the photos.
    wide = read_json(capacity.STUDY.folder / f'{name}.json')
    first_piece = wide['history'][:wide['runs'][0]['epochs']]
    values['capPieceEpochs'] = str(len(first_piece))
    values['capWideFirstPiecePsnr'] = f"{max(record['val_psnr'] for record in first_piece):.2f}"
    values['capNarrowMorePsnr'] = f"{results['psnr']['w48k3u5']['data_gaussian']:.2f}"
    values['capNarrowMoreGain'] = f"{results['vs_shipped']['w48k3u5']['data_gaussian']['mean']:.2f}"
    values['capWidthGain'] = f"{float(values['capWideFirstPiecePsnr']) - float(values['capNarrowMorePsnr']):.2f}"
    return values


# The upsampling study's rows in the report: the race's two sides at width 112, and the swap's.
UPSAMPLING_RACE = ('nearest-w112', 't3-w112')
UPSAMPLING_SWAP = ('t4-w112', 't4-w112-swap')
UPSAMPLING_SETS = (('data', ''), ('data_val2', 'Two'))


def upsampling_label(fields):
    """'nearest + 5×5' or 'transposed 3×3' (and ', swapped' where the pairs' copies are), in LaTeX."""
    kernel = fields['up_kernel_size']
    kind = 'nearest + ' if fields['upsampling'] == 'nearest' else 'transposed '
    return f"{kind}{kernel}$\\times${kernel}" + (', swapped' if fields.get('swap') else '')


def upsampling_candidates():
    """``(chosen, names)``: the upsampling study's candidate that is ``Model()``'s defaults, and the candidates
    trained on its pairs (the study's race; 'shipped' and runs on other pairs left out), in the study's order."""
    chosen = upsampling_study.STUDY.now_shipped()
    if chosen is None:
        raise ReportError("Model()'s defaults are none of the upsampling study's candidates")
    folder = upsampling_study.STUDY.folder
    pairs = read_json(folder / f'{chosen}.json')['data']
    names = [name for name in upsampling_study.STUDY.candidates
             if name != 'shipped' and read_json(folder / f'{name}.json')['data'] == pairs]
    return chosen, names


def upsampling_numbers():
    """Macros of the upsampling study (``up...``; suffix ``Two`` for the second set): the shipped candidate's
    PSNR after the study's epochs and its epoch-time ratio, the race at width 112 (nearest + 5×5 against
    transposed 3×3, the same epochs on the same pairs), the swap's difference, the study's epochs and pairs,
    and the first pixelated validation set's photographs."""
    results = read_json(upsampling_study.STUDY.results_file)
    chosen, names = upsampling_candidates()
    history = read_json(upsampling_study.STUDY.folder / f'{chosen}.json')
    values = {'upStudyEpochs': str(len(history['history'])), 'upStudyPairs': thousands(history['train_size']),
              'upStudyRuns': str(len(names)),
              'upChosenEpochRatio': f"{results['time'][chosen]['ratio']:.2f}",
              'pixValPhotos': str(sum(len(files) for _, files in fetch_photos.VALIDATION_PHOTOS.values()))}
    nearest, transposed = UPSAMPLING_RACE
    plain, swapped = UPSAMPLING_SWAP
    for folder, suffix in UPSAMPLING_SETS:
        psnr = {name: scores[folder] for name, scores in results['psnr'].items()}
        values[f'upChosenPsnr{suffix}'] = f"{psnr[chosen]:.2f}"
        values[f'upNearestPsnr{suffix}'] = f"{psnr[nearest]:.2f}"
        values[f'upTransposedPsnr{suffix}'] = f"{psnr[transposed]:.2f}"
        values[f'upRaceGain{suffix}'] = f"{psnr[transposed] - psnr[nearest]:.2f}"
        values[f'upSwapGain{suffix}'] = f"{psnr[swapped] - psnr[plain]:+.2f}"
    return values


def upsampling_table():
    """The upsampling study: each candidate trained on the shipped one's pairs, with its upsampling stages, width
    and strided kernel, its PSNR on both pixelated validation sets after the same epochs, and its epoch time
    relative to the network shipped before."""
    results = read_json(upsampling_study.STUDY.results_file)
    chosen, names = upsampling_candidates()
    lines = [r'\begin{tabular}{lrrrrr}', r'\toprule',
             r'upsampling & width & strided & first & second & epoch \\', r'\midrule']
    for name in names:
        fields = upsampling_study.STUDY.candidates[name]
        timing = results.get('time', {}).get(name)
        strided = f"{fields['kernel_size']}$\\times${fields['kernel_size']}"
        cells = [upsampling_label(fields), str(fields['width']), strided,
                 *(f"{results['psnr'][name][folder]:.2f}" for folder, _ in UPSAMPLING_SETS),
                 f"{timing['ratio']:.2f}" if timing else '--']
        if name == chosen:
            cells = [rf'\textbf{{{cell}}}' for cell in cells]
        lines.append(' & '.join(cells) + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def continued_measurement(results, key, arguments):
    """``results[key]``, or a ReportError naming the ``continued`` command (its ``arguments``) that measures it."""
    if key not in results:
        raise ReportError(f"{continued.RESULTS_FILES[int(key[2])]} lacks {key}: run `python -m "
                          f"Proj_123456_654321.Miniproject_2.others.continued {arguments}`")
    return results[key]


# The sets of the continued-training table (continued.py's interpolate): key, macro suffix, LaTeX label. The
# pixelation sets were measured on the shipped weights, the others on the blind Gaussian weights shipped before.
CONTINUED_SETS = (('pixelation', 'Pixelation', 'in-domain, pixelated'),
                  ('pixelation-cross-domain', 'PixelationCross', r'\code{data/}, pixelated'),
                  ('in-domain', 'In', r'in-domain, $\sigma$ 25'), ('sigma-65', 'SigmaSixtyFive', r'$\sigma$ 65'),
                  ('poisson-gaussian', 'Pg', 'Poisson--Gaussian'), ('correlated', 'Correlated', 'correlated'),
                  ('cross-domain', 'Cross', 'cross-domain'))


def continued_rows(results):
    """``{project: {set: (loaded PSNR, plain epoch's gain, held-out choice's α, its gain)}}`` from
    ``continued interpolate``'s measurements."""
    rows = {}
    for project in (2, 1):
        rows[project] = {}
        for key, _, _ in CONTINUED_SETS:
            result = continued_measurement(results, f"mp{project}/interpolate/{key}",
                                           f"interpolate --project {project} --sets {key}")
            alpha = continued.held_out_choice(project, result)
            psnrs, before = result['val_psnr'], result['before']
            rows[project][key] = (before, psnrs[result['alphas'].index(1)] - before, alpha,
                                  psnrs[result['alphas'].index(alpha)] - before)
    return rows


def continued_numbers(results):
    """Macros of the continued-training table: ``cont{One,Two}{Plain,Kept}{set}Gain`` and
    ``cont{One,Two}Kept{set}Alpha`` (the fraction of the change the held-out choice keeps)."""
    values = {}
    for project, sets in continued_rows(results).items():
        name = 'One' if project == 1 else 'Two'
        for key, short, _ in CONTINUED_SETS:
            _, plain, alpha, kept = sets[key]
            values[f'cont{name}Plain{short}Gain'] = f"{plain:+.2f}"
            values[f'cont{name}Kept{short}Gain'] = f"{kept:+.2f}"
            values[f'cont{name}Kept{short}Alpha'] = f"{alpha:g}"
    return values


def continued_table(results):
    rows = continued_rows(results)
    lines = [r'\begin{tabular}{lrrrrrr}', r'\toprule',
             r' & \multicolumn{3}{c}{Mini-project 2} & \multicolumn{3}{c}{Mini-project 1 (U-Net)} \\',
             r'set & loaded & plain & \code{train} ($\alpha$) & loaded & plain & \code{train} ($\alpha$) \\',
             r'\midrule']
    for key, _, label in CONTINUED_SETS:
        cells = []
        for project in (2, 1):
            before, plain, alpha, kept = rows[project][key]
            cells += [f"{before:.2f}", f"{plain:+.2f}", f"{kept:+.2f} ({alpha:g})"]
        lines.append(f"{label} & {' & '.join(cells)} \\\\")
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def exactness_numbers():
    """The course's tolerance and what our blocks meet, from ``others/exactness.py``'s results file."""
    exactness = read_json(MP2_RESULTS / 'exactness.json')
    published, im2col = exactness['published_checks'], exactness['im2col_cases'].values()
    onednn = exactness['onednn_cases']
    shipped = next(row for name, row in onednn.items() if name.startswith('the shipped network'))
    from ..model import Conv2d
    return {'imcolMaxValues': thousands(Conv2d.TORCH_IM2COL_MAX_VALUES),
            'exactPublishedChecks': thousands(3 * published['draws']),
            'exactPublishedDraws': thousands(published['draws']),
            'exactPublishedFailed': str(published['failed']),
            'exactCases': str(len(im2col)),
            'exactCaseDraws': str(min(row['draws'] for row in im2col)),
            'exactCaseFailed': str(sum(row['failed_draws'] for row in im2col)),
            'onednnDraws': str(min(row['draws'] for row in onednn.values())),
            'onednnFailedDraws': str(min(row['failed_draws'] for row in onednn.values())),
            'onednnMedianMax': latex_number(max(row['median_scaled_difference'] for row in onednn.values())),
            'onednnShippedMax': latex_number(shipped['max_scaled_difference'])}


def versus(difference):
    """'0.42\\,dB above' or '0.42\\,dB below', so that the sentence stays true when the results change."""
    return f"{abs(difference):.2f}\\,dB {'above' if difference >= 0 else 'below'}"


def thousands(count):
    return f'{count:,}'.replace(',', '{,}')


def in_words(items):
    """'a', 'a and b', 'a, b and c'."""
    return ' and '.join(filter(None, [', '.join(items[:-1]), items[-1]]))


# The Upsampling block of the network shipped before issue 40 (nearest ×2, then a 5×5 convolution): the
# report's example of what its decomposition saves.
FORMER_UPSAMPLING = dict(kernel_size=5, scale_factor=2, padding=2)


def architecture_numbers():
    """Parameter counts of both shipped networks, computed from the models themselves, and the multiply-adds
    that the upsampling decomposition saves on ``FORMER_UPSAMPLING``."""
    from ...Miniproject_1.model import Model as UNetModel
    from ..model import Model, Upsampling
    ours = Model()
    upsampling = Upsampling(1, 1, **FORMER_UPSAMPLING)
    rows, columns = upsampling._axes(16, 16)
    direct = upsampling.scale_factor ** 2 * upsampling.kernel_size[0] * upsampling.kernel_size[1]
    decomposed = len(rows.forward_keys) * len(columns.forward_keys)
    unet = UNetModel()
    encoder, decoder = unet.network.channels(unet.config.width, unet.config.shape)
    return {'oursParameters': thousands(sum(parameter.numel() for parameter, _ in ours.network.param())),
            'unetParameters': thousands(sum(parameter.numel() for parameter in unet.network.parameters())),
            'unetEncoderChannels': ', '.join(map(str, encoder)), 'unetDecoderChannels': ', '.join(map(str, decoder)),
            'upsamplingGroups': str(decomposed), 'upsamplingDirectTaps': str(direct),
            'upsamplingSaving': f'{direct / decomposed:.2f}'}


def latex_number(value):
    mantissa, exponent = f'{value:.0e}'.split('e')
    return f'$10^{{{int(exponent)}}}$' if mantissa == '1' else f'${mantissa}\\times10^{{{int(exponent)}}}$'


def harness_epoch_seconds(miniproject):
    """One training epoch's time on the CPU, as the course harness printed it in ``results/demo_cpu.log``."""
    log = MP2_RESULTS / 'demo_cpu.log'
    # test.py's line since it mirrors the course's output, then the line of logs written before.
    match = (re.search(rf'\[PSNR {miniproject}: [\d.]+ dB\] after one epoch on \d+ pairs in ([\d.]+) s', log.read_text())
             or re.search(rf'Miniproject_{miniproject}: one epoch on \d+ pairs took ([\d.]+) s', log.read_text()))
    if match is None:
        raise ReportError(f"{log} has no epoch time of Mini-project {miniproject}: rerun `make demo`")
    return float(match.group(1))


# -- tables --------------------------------------------------------------------------------------------------

def baselines_table():
    """Both validation sets side by side: PSNR and gain on each, the first set's time; a parameter tuned to
    another value on the second set is given as 'first / second'."""
    methods = read_json(MP2_RESULTS / 'baselines_gaussian.json')['methods']
    second = method_rows(read_json(MP2_RESULTS / 'baselines_val2_gaussian.json'))
    lines = [r'\begin{tabular}{llrrrrr}', r'\toprule',
             r' & & \multicolumn{2}{c}{first set} & \multicolumn{2}{c}{second set} & \\',
             r'\cmidrule(lr){3-4}\cmidrule(lr){5-6}',
             r'method & parameter & PSNR & gain & PSNR & gain & time (s) \\', r'\midrule']
    short_names = {'mp2': r'\textbf{Mini-project 2}', 'mp1': r'\textbf{Mini-project 1}'}
    for method in methods:
        other = second[method['key']]
        trained = method['key'] in short_names
        parameters = dict.fromkeys((method['parameter'], other['parameter']))
        parameter = ' / '.join(map(latex_escape, parameters)) if method['parameter'] and not trained else '--'
        name = short_names.get(method['key'], latex_escape(method['method']))
        lines.append(f"{name} & {parameter} & {method['psnr_db']:.2f} & {method['gain_db']:+.2f} & "
                     f"{other['psnr_db']:.2f} & {other['gain_db']:+.2f} & {method['seconds']:.1f} \\\\")
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def speed_table():
    benchmark = read_json(MP2_RESULTS / 'benchmark_cpu.json')
    lines = [r'\begin{tabular}{lrrr}', r'\toprule', r'measurement & ours & torch.nn & ratio \\', r'\midrule']
    submitted = benchmark['step'][0]
    lines.append(f"training step (ms) & {submitted['ours_ms']:.1f} & "
                 f"{submitted['torch_ms']:.1f} & {submitted['ratio']:.2f} \\\\")
    epoch = benchmark['epoch']
    lines.append(f"epoch, {epoch['images'] // 1000}k pairs (s) & "
                 f"{epoch['ours']['seconds']:.1f} & {epoch['torch']['seconds']:.1f} & "
                 f"{epoch['ours']['seconds'] / epoch['torch']['seconds']:.2f} \\\\")
    for row in benchmark['predict']:
        n, _, height, _ = row['shape']
        lines.append(f"predict {n}$\\times${height}$^2$ (ms) & {row['ours_ms']:.0f} & "
                     f"{row['torch_ms']:.0f} & {row['ratio']:.2f} \\\\")
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def robustness_table(models=ROBUSTNESS_TABLE_MODELS):
    """Per noise and set: BM3D's PSNR on its subset, and each of ``models``' paired difference to it."""
    results = read_json(robustness.RESULTS_FILE)
    columns = 1 + len(models)
    lines = [r'\begin{tabular}{l' + 'r' * 2 * columns + '}', r'\toprule',
             ' & ' + ' & '.join(rf'\multicolumn{{{columns}}}{{c}}{{{label}}}'
                                for label in ('first set', 'second set')) + r' \\',
             rf'\cmidrule(lr){{2-{1 + columns}}}\cmidrule(lr){{{2 + columns}-{1 + 2 * columns}}}',
             'noise' + (' & BM3D' + ''.join(f' & {label}' for *_, label in models)) * 2 + r' \\',
             r'\midrule']
    differences = {(set_name, method): robustness_differences(results, set_name, method)
                   for set_name, _ in ROBUSTNESS_SETS for method, *_ in models}
    for noise in robustness.CLEAN_PATCH_NOISES:
        cells = [latex_escape(ROBUSTNESS_SHORT_LABELS[noise])]
        for set_name, _ in ROBUSTNESS_SETS:
            cells.append(f"{robustness.find_row(results, set_name, noise, 'bm3d')['psnr_db']:.2f}")
            cells += [f"{differences[set_name, method][noise][0]:+.2f}" for method, *_ in models]
        lines.append(' & '.join(cells) + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def pixelation_table():
    """Per downsampling factor and set: the noisy input's and the tuned blur's PSNR, and each model's PSNR minus
    the blur's (the Gaussian-trained weights, G., beside the shipped ones)."""
    rows = pixelation_rows(read_json(robustness.RESULTS_FILE))
    columns = len(PIXELATION_METHODS)
    lines = [r'\begin{tabular}{l' + 'r' * 2 * columns + '}', r'\toprule',
             ' & ' + ' & '.join(rf'\multicolumn{{{columns}}}{{c}}{{{label}}}' for *_, label in PIXELATION_SETS)
             + r' \\',
             rf'\cmidrule(lr){{2-{1 + columns}}}\cmidrule(lr){{{2 + columns}-{1 + 2 * columns}}}',
             'factor' + ''.join(f' & {label}' for *_, label in PIXELATION_METHODS) * 2 + r' \\', r'\midrule']
    for noise in robustness.PIXELATION_NOISES:
        cells = [noise.split('-')[1]]
        for set_name, *_ in PIXELATION_SETS:
            blur = rows[set_name, noise, 'blur']
            cells += [f"{rows[set_name, noise, method]:.2f}" for method in ('noisy', 'blur')]
            cells += [f"{rows[set_name, noise, method] - blur:+.2f}" for method, *_ in PIXELATION_METHODS[2:]]
        lines.append(' & '.join(cells) + r' \\')
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def correctness_table(counts):
    lines = [r'\begin{tabular}{llr}', r'\toprule', r'block & compared with torch & cases \\', r'\midrule']
    for file, test, block, compared in CORRECTNESS_TESTS:
        lines.append(f"{latex_escape(block)} & {compared} & {counts.get((file, test), 0)} \\\\")
    lines += [r'\bottomrule', r'\end{tabular}']
    return '\n'.join(lines)


def write_generated(folder=GENERATED_FOLDER, figures_folder=FIGURES_FOLDER):
    """Write ``results.tex`` (the macros, and where the figures are) and the tables into ``folder``."""
    values, counts = numbers()
    folder.mkdir(parents=True, exist_ok=True)
    header = '% Generated by `python -m Proj_123456_654321.Miniproject_2.others.report`; do not edit.\n'
    graphics = f'\\graphicspath{{{{{figures_folder.resolve()}/}}{{{MP2_RESULTS}/}}}}\n'
    macros = ''.join(f'\\newcommand{{\\{name}}}{{{value}}}\n' for name, value in sorted(values.items()))
    (folder / 'results.tex').write_text(header + graphics + macros)
    tables = {'baselines': baselines_table(), 'speed': speed_table(), 'correctness': correctness_table(counts),
              'continued': continued_table(continued_results()), 'robustness': robustness_table(),
              'robustness_unet': robustness_table(UNET_ROBUSTNESS_MODELS), 'pixelation': pixelation_table(),
              'upsampling': upsampling_table()}
    for name, table in tables.items():
        (folder / f'table_{name}.tex').write_text(header + table + '\n')
    return values


# -- figures and PDFs ----------------------------------------------------------------------------------------

def run_notebook(path, figures_folder, timeout=600):
    """Execute a notebook headless (nothing written back), with ``REPORT_FIGURES`` naming the figure folder."""
    import nbformat
    from nbclient import NotebookClient
    notebook = nbformat.read(path, as_version=4)
    previous = os.environ.get('REPORT_FIGURES')
    os.environ['REPORT_FIGURES'] = str(Path(figures_folder).resolve())
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name='python3',
                       resources={'metadata': {'path': str(path.parent)}}).execute()
    finally:
        if previous is None:
            del os.environ['REPORT_FIGURES']
        else:
            os.environ['REPORT_FIGURES'] = previous
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


# -- costs ---------------------------------------------------------------------------------------------------

def experiment_costs():
    """``[(experiment, seconds, where)]``: how long each experiment behind the reports took, from its results."""
    costs = []
    for name, results in (('Mini-project 2', MP2_RESULTS), ('Mini-project 1', MP1_RESULTS)):
        history = read_json(results / 'bestmodel_history.json')
        where = f"CPU, {history['threads']} threads" if history['device'] == 'cpu' else history['device']
        costs.append((f'{name} final training', history['total_seconds'], where))
    results = study.load_results()
    total = sum(result['total_seconds'] for result in results.values())
    costs.append((f'study ({len(results)} runs, one thread each, 2 at a time)', total / 2, 'CPU'))
    widths = [read_json(path) for path in sorted((MP1_RESULTS / 'width').glob('w*.json'))]
    if widths:
        costs.append(('Mini-project 1 width runs (side by side)', max(w['total_seconds'] for w in widths),
                      widths[0]['device']))
    return costs


def print_costs():
    for name, seconds, where in experiment_costs():
        print(f"{name:<55} {seconds / 60:7.1f} min  ({where})")
    print("not recorded in results files: the data builds, baselines, pictures, benchmark and harness (see the README)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--no-pdf', action='store_true', help='figures and generated LaTeX only (no LaTeX needed)')
    parser.add_argument('--pages', action='store_true', help='also render the pages to report/build/pages/*.png')
    parser.add_argument('--costs', action='store_true', help='print how long the experiments took, and exit')
    arguments = parser.parse_args(argv)
    if arguments.costs:
        print_costs()
        return
    try:
        if not arguments.no_pdf:
            check_latex_tools()
        start = time.perf_counter()
        for notebook in NOTEBOOKS:
            print(f"running {notebook.relative_to(ROOT)}", flush=True)
            run_notebook(notebook, FIGURES_FOLDER)
        print("writing report/generated/ (collecting the tests' grid)", flush=True)
        write_generated()
        if not arguments.no_pdf:
            for source, destination, page_limit in REPORTS:
                pdf, pages = typeset(REPORT_FOLDER / f'{source}.tex', BUILD_FOLDER, page_limit)
                shutil.copyfile(pdf, destination)
                print(f"{destination.relative_to(ROOT)}: {pages} pages", flush=True)
                if arguments.pages:
                    for png in render_pages(pdf):
                        print(f"  {png.relative_to(ROOT)}")
        print(f"done in {time.perf_counter() - start:.0f} s")
    except ReportError as error:
        sys.exit(f"report: {error}")


if __name__ == '__main__':
    main()
