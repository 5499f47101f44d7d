"""The reports' pipeline: the analysis notebooks run headless and draw every figure the reports include, the
generated numbers are the results files' own, and, where LaTeX is installed, both reports typeset within their
page limits and show those numbers."""
import json
import re
import shutil
import subprocess

import pytest

from Proj_123456_654321.Miniproject_1.model import Config as UNetConfig
from Proj_123456_654321.Miniproject_2.others import report


def included_figures():
    names = set()
    for source, _, _ in report.REPORTS:
        names.update(re.findall(r'\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}',
                                (report.REPORT_FOLDER / f'{source}.tex').read_text()))
    return names


@pytest.fixture(scope='module')
def figures(tmp_path_factory):
    folder = tmp_path_factory.mktemp('figures')
    for notebook in report.NOTEBOOKS:
        report.run_notebook(notebook, folder)
    return folder


def test_the_notebooks_draw_every_figure_the_reports_include(figures):
    drawn = {path.name for path in figures.iterdir()}
    assert drawn, "the notebooks wrote no figure"
    for path in figures.iterdir():
        assert path.read_bytes().startswith(b'%PDF'), path.name
    # pictures.png is a results file of others/pictures.py, not a notebook figure
    missing = {name for name in included_figures() if name not in drawn and not (report.MP2_RESULTS / name).exists()}
    assert not missing


def test_the_generated_numbers_are_the_results_files_own(tmp_path, figures):
    values = report.write_generated(tmp_path, figures)
    methods = {method['key']: method for method in
               json.loads((report.MP2_RESULTS / 'baselines_gaussian.json').read_text())['methods']}
    assert values['psnrBm'] == f"{methods['bm3d']['psnr_db']:.2f}"
    assert values['psnrOurs'] == f"{methods['mp2']['psnr_db']:.2f}"
    assert values['psnrUnet'] == f"{methods['mp1']['psnr_db']:.2f}"
    history = json.loads((report.MP1_RESULTS / 'bestmodel_history.json').read_text())
    assert values['unetBestEpoch'] == str(history['best_epoch'])
    assert values['unetPieceEpochs'] == report.in_words([str(run['epochs']) for run in history['runs']])
    assert values['unetTrainMinutes'] == f"{history['total_seconds'] / 60:.0f}"
    assert values['unetLr'] == f"{history['training']['lr']:g}"
    macros = (tmp_path / 'results.tex').read_text()
    assert all(f'\\newcommand{{\\{name}}}{{{value}}}' in macros for name, value in values.items())
    pixelation = report.continued.load_results()['mp2/interpolate/pixelation']
    plain = pixelation['val_psnr'][pixelation['alphas'].index(1)] - pixelation['before']
    assert values['contTwoPlainPixelationGain'] == f"{plain:+.2f}"
    correlated = report.history('continued')['results']['mp1/interpolate/correlated']
    alpha = report.continued.held_out_choice(1, correlated)
    assert values['contOneKeptCorrelatedAlpha'] == f"{alpha:g}"
    kept = correlated['val_psnr'][correlated['alphas'].index(alpha)] - correlated['before']
    assert values['contOneKeptCorrelatedGain'] == f"{kept:+.2f}"
    upsampling = report.history('upsampling')
    chosen = upsampling['candidates'][upsampling['chosen']]
    assert values['oursWidth'] == str(chosen['width'])
    assert values['upChosenPsnrTwo'] == f"{chosen['psnr']['data_val2']:.2f}"
    race = [upsampling['candidates'][name]['psnr']['data'] for name in report.UPSAMPLING_RACE]
    assert values['upRaceGain'] == f"{race[1] - race[0]:.2f}"
    shapes, winner = report.history('unetCapacity'), 'w32-tapered-residual'
    assert values['unetCapGainTwo'] == f"{shapes['vs_before'][winner]['data_val2_gaussian']['mean']:.2f}"
    assert values['unetCapEpochRatio'] == f"{shapes['epoch_time_ratio'][winner]:.2f}"
    # the rows of make robustness, then the history's of the models shipped before
    robustness = {'rows': json.loads(report.robustness.RESULTS_FILE.read_text())['rows']
                  + report.history('robustness')['rows']}
    for method, name in (('mp2-gaussian', 'Ours'), ('mp2', 'Shipped')):
        ours, bm3d = (report.robustness.find_row(robustness, 'data_val2_gaussian', 'gaussian-25', key)
                      for key in (method, 'bm3d'))
        assert values[f'robust{name}AtTwentyFiveTwo'] == report.versus(
            (sum(ours['subset_psnr_db']) - sum(bm3d['subset_psnr_db'])) / len(bm3d['subset_psnr_db']))
    pixelated = {method['key']: method for method in
                 json.loads((report.MP2_RESULTS / 'baselines.json').read_text())['methods']}
    assert values['pixPsnrOurs'] == f"{pixelated['mp2']['psnr_db']:.2f}"
    assert values['pixPsnrBlur'] == f"{pixelated['blur']['psnr_db']:.2f}"
    margins = [report.robustness.find_row(robustness, 'data_val2', noise, 'mp1')['psnr_db']
               - report.robustness.find_row(robustness, 'data_val2', noise, 'blur')['psnr_db']
               for noise in report.robustness.PIXELATION_NOISES]
    assert values['pixUnetBlurMinTwo'] == f"{min(margins):+.2f}"
    assert values['pixUnetBlurMaxTwo'] == f"{max(margins):+.2f}"
    runs, noise = report.history('dataStudy')['runs'], 'data_gaussian/gaussian-5'
    assert values['dataStudyIdentityGainFive'] == f"{runs['f1']['psnr'][noise] - runs['plain']['psnr'][noise]:+.2f}"
    budget = json.loads((report.MP1_RESULTS / 'speed.json').read_text())['budget']['seconds_per_50000_pairs']
    assert values['unetBudgetLightFloatLast'] == f"{budget['light / float32, channels-last'] / 60:.1f}"
    shipped = f"{UNetConfig().shape} / float32, channels-last"
    assert values['unetBudgetShippedRatio'] == f"{budget[shipped] / budget['flat48 / float32, channels-last']:.2f}"
    for table in ('baselines', 'speed', 'correctness', 'continued', 'robustness', 'robustness_unet', 'pixelation',
                  'upsampling'):
        text = (tmp_path / f'table_{table}.tex').read_text()
        assert text.count(r'\begin{tabular}') == 1 and text.count(r'\end{tabular}') == 1


def test_every_figure_of_history_names_its_commit():
    """Each history file says where it was made and how; the reports name each one's commit."""
    sources = ''.join((report.REPORT_FOLDER / f'{source}.tex').read_text() for source, _, _ in report.REPORTS)
    for name in report.HISTORY:
        record = report.history(name)
        assert re.fullmatch(r'[0-9a-f]{7}', record['commit']) and record['rerun'], name
        assert f'\\{name}Commit' in sources, name


def test_the_results_hold_no_weights_and_nothing_shipped_before_called_shipped():
    for results in (report.MP1_RESULTS, report.MP2_RESULTS):
        files = [path for path in results.rglob('*') if path.is_file()]
        assert not [path for path in files if path.suffix == '.pth' or path.stem == 'shipped']
    for name in report.HISTORY:
        assert 'shipped' not in json.dumps({key: value for key, value in report.history(name).items()
                                            if key in ('candidates', 'psnr', 'epoch_time_ratio', 'vs_before')})


def test_every_listed_correctness_test_is_collected():
    counts = report.collected_test_counts()
    assert all(counts.get((file, test), 0) > 0 for file, test, *_ in report.CORRECTNESS_TESTS)


def test_lists_are_worded_with_and():
    assert [report.in_words(items) for items in (['15'], ['15', '6'], ['15', '6', '12'])] == [
        '15', '15 and 6', '15, 6 and 12']


def test_comparisons_are_worded_by_their_sign():
    assert report.versus(0.5) == r'0.50\,dB above'
    assert report.versus(-0.254) == r'0.25\,dB below'


def test_latex_numbers_and_escapes():
    assert report.latex_number(1e-10) == '$10^{-10}$'
    assert report.latex_number(2e-5) == r'$2\times10^{-5}$'
    assert report.latex_escape('h=0.6σ, 50% & up_kernel') == r'h=0.6$\sigma$, 50\% \& up\_kernel'


@pytest.mark.skipif(any(shutil.which(tool) is None for tool in report.LATEX_TOOLS + ('pdftotext',)),
                    reason='LaTeX is not installed (make report-tools)')
def test_both_reports_typeset_within_their_limits_and_show_the_numbers(tmp_path, figures):
    for source, _, _ in report.REPORTS:
        shutil.copy(report.REPORT_FOLDER / f'{source}.tex', tmp_path)
    shutil.copy(report.REPORT_FOLDER / 'preamble.tex', tmp_path)
    values = report.write_generated(tmp_path / 'generated', figures)
    for source, _, page_limit in report.REPORTS:
        pdf, pages = report.typeset(tmp_path / f'{source}.tex', tmp_path / 'build', page_limit)
        assert 1 <= pages <= page_limit
        text = subprocess.run(['pdftotext', str(pdf), '-'], capture_output=True, text=True, check=True).stdout
        assert values['psnrBm'] in text and values['psnrUnet'] in text and values['psnrOurs'] in text
        assert values['pixPsnrUnet'] in text and values['pixPsnrBlur'] in text


def test_the_page_limit_is_enforced(tmp_path, monkeypatch):
    monkeypatch.setattr(report, 'page_count', lambda pdf: 5)
    monkeypatch.setattr(report.subprocess, 'run', lambda *args, **kwargs: subprocess.CompletedProcess(args, 0))
    (tmp_path / 'build').mkdir()
    (tmp_path / 'build' / 'report_2.log').write_text('')
    with pytest.raises(report.ReportError, match='5 pages; the limit is 4'):
        report.typeset(tmp_path / 'report_2.tex', tmp_path / 'build', 4)
