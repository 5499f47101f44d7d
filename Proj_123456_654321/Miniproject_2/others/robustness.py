"""The denoisers under the noises a grader's images may carry: PSNR against the noise level and kind.

    python -m Proj_123456_654321.Miniproject_2.others.robustness run --data data --photos photos_val \
        --data data_val2 --photos photos_indomain --noises pixelation-2 pixelation-4 ...
    python -m Proj_123456_654321.Miniproject_2.others.robustness run --data data_gaussian --data data_val2_gaussian
        [--bm3d-images 64] [--workers 2] [--threads 2] [--methods noisy blur nlm bm3d mp2 mp1] [--force]
    python -m Proj_123456_654321.Miniproject_2.others.robustness summary
    python -m Proj_123456_654321.Miniproject_2.others.robustness target-gap --data data --photos photos_val ...
    python -m Proj_123456_654321.Miniproject_2.others.robustness candidate WEIGHTS [WEIGHTS ...] [--project 2]
        --data data --photos photos_val ... [--noises gaussian-5 pixelation-2 ...]

Two families of noises (``NOISES``, from the module ``others/noises.py``):

* the course's degradation, ``pixelation-F`` for the downsampling factors ``PIXELATION_FACTORS``: drawn from
  the photos of the set (``--photos``, one per ``--data``: a folder, or ``bundled`` for the data builder's
  bundled validation photos), as many patches as the set holds, by ``build_data``'s recipe at that one
  factor; a set given without photos has no pixelation rows;
* on the clean patches of the set (``DIR/val_data.pkl``): Gaussian σ = 5 … 50, a camera-like
  signal-dependent noise and a spatially correlated one.

Each is drawn by a generator seeded by the set's and the noise's names, so every run and every method sees
the same noisy images. Methods (keys for ``--methods``):

* ``noisy``: the noisy input itself;
* ``blur``: a Gaussian blur whose σ is the best of ``baselines.BLUR_SIGMAS`` on these images (an oracle);
* ``nlm``: non-local means (``baselines.denoise_nlm``), told the noise: its ``sigma`` is the noise's
  standard deviation and ``h`` is ``NLM_H_OVER_SIGMA`` times it (the factor the σ-25 baselines found best);
  under pixelation, the standard deviation of each image's residual ``noisy − clean`` (an oracle);
* ``bm3d``: BM3D told the noise (``baselines.denoise_bm3d``; a standard deviation, or the correlated noise's
  power spectral density; under pixelation each image's residual standard deviation); about 1.3 s an image
  here, so only on a seeded subset of ``--bm3d-images`` images per set (the same for every noise);
* ``mp2``, ``mp1``: the shipped models of Mini-project 2 and 1, as the grader calls them (``Model()``,
  ``load_pretrained_model()``, ``predict`` of uint8 images, self-ensembled).

``candidate`` scores weights files that are not shipped (a study's) on the same rows, beside the noisy input, the
blur and the shipped model of the results file, and stores nothing.

Each row keeps the mean PSNR (the harness's definition) and the per-image PSNRs of the BM3D subset, so that
the summary gives each method's difference to BM3D as a mean of paired differences on that subset, with its
standard error. Rows accumulate in ``results/robustness/results.json`` (one per set, noise and method; those
there are kept unless ``--force``), so a run stopped midway goes on where it stopped (the rows of the models
shipped before are history: ``results/history/robustness.json``). ``summary`` writes ``summary.md`` and the
plot ``robustness.png`` beside it.

``target-gap``: what Noise2Noise's target costs under the course's pixelation. Trained on pairs of
independent picks with the MSE, a network's best output is the mean of a pick given the noisy input: at the
very best, each output pixel's footprint mean (the box average of the high-resolution pixels it covers),
while the PSNR is measured against the antialiased (Lanczos) downsampling, which is sharper. It scores that
footprint mean, the best any Noise2Noise denoiser could reach without clean images, on exactly the patches of
the pixelation rows (``pixelated_images``: same photos, generator and draws), beside the blur's and the
shipped models' rows where the results file has them, and writes ``results/pixelation/target_gap.json``.
"""
import argparse
import datetime
import fcntl
import itertools
import json
import math
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import torch

from . import baselines, build_data
from .data import load_val, model_module, write_text
from .noises import CORRELATED, POISSON_GAUSSIAN, Gaussian, Pixelation

RESULTS_FOLDER = Path(__file__).resolve().parent / 'results' / 'robustness'
RESULTS_FILE = RESULTS_FOLDER / 'results.json'
TARGET_GAP_FILE = RESULTS_FOLDER.parent / 'pixelation' / 'target_gap.json'
PIXELATION_FACTORS = (2, 4, 8, 12, 16)
GAUSSIAN_SIGMAS = (5, 10, 15, 20, 25, 30, 35, 40, 50)
PIXELATION_NOISES = {f'pixelation-{factor}': Pixelation((factor, factor)) for factor in PIXELATION_FACTORS}
CLEAN_PATCH_NOISES = {**{f'gaussian-{sigma}': Gaussian(float(sigma)) for sigma in GAUSSIAN_SIGMAS},
                      'poisson-gaussian': POISSON_GAUSSIAN, 'correlated': CORRELATED}
NOISES = {**PIXELATION_NOISES, **CLEAN_PATCH_NOISES}
NOISE_LABELS = {**{f'pixelation-{factor}': f'pixelation, factor {factor}' for factor in PIXELATION_FACTORS},
                **{f'gaussian-{sigma}': f'Gaussian σ = {sigma}' for sigma in GAUSSIAN_SIGMAS},
                'poisson-gaussian': 'Poisson–Gaussian (gain 4, read σ 8)',
                'correlated': 'correlated (3×3 binomial, σ = 25)'}
NLM_H_OVER_SIGMA = 0.6
METHODS = ('noisy', 'blur', 'nlm', 'bm3d', 'mp2', 'mp1')
BUNDLED_PHOTOS = 'bundled'
SEED_NAMES = {'data_gaussian': 'data', 'data_val2_gaussian': 'data_val2'}
DEFAULT_BM3D_IMAGES = 64
SEED = 0


# ----------------------------------------------------------------------------------------------------
# The noisy images
# ----------------------------------------------------------------------------------------------------

def noise_generator(set_name, noise_name):
    """The generator of one set's noise: seeded by names, so that it does not depend on which rows run. The
    Gaussian sets had their rows drawn when they were ``data`` and ``data_val2``: they keep those seeds."""
    seed_name = SEED_NAMES.get(set_name, set_name)
    return np.random.default_rng([SEED, zlib.crc32(seed_name.encode()), zlib.crc32(noise_name.encode())])


def noisy_images(clean, set_name, noise_name):
    """The set's clean uint8 patches ``[N, 3, H, W]`` (numpy) with the noise ``noise_name`` (one of
    ``CLEAN_PATCH_NOISES``)."""
    return CLEAN_PATCH_NOISES[noise_name](clean, noise_generator(set_name, noise_name))


def set_photos(photos):
    """The loaded photos of ``--photos``: ``bundled`` (the data builder's bundled validation photos) or a
    folder."""
    paths = build_data.source_photos()[1] if photos == BUNDLED_PHOTOS else build_data.same_photos([photos])[1]
    return build_data.load_photos(paths, 'val')


def pixelated_images(photos, count, set_name, noise_name):
    """``(noisy, clean)``: ``count`` patches of ``photos`` (loaded) pixelated by the noise ``noise_name`` (one
    of ``PIXELATION_NOISES``), uint8 ``[count, 3, 32, 32]``."""
    clean, (noisy,) = build_data.sample_pixelated(photos, count, PIXELATION_NOISES[noise_name],
                                                  noise_generator(set_name, noise_name), copies=1)
    return noisy, clean


def bm3d_subset(count, size):
    """The sorted indices of the BM3D subset of a set of ``count`` images, seeded, the same for every noise."""
    size = min(size, count)
    return np.sort(np.random.default_rng(SEED).choice(count, size=size, replace=False))


def per_image_psnr(denoised, clean):
    """The harness's PSNR of each image: float32, images in [0, 1]."""
    denoised = torch.as_tensor(np.asarray(denoised), dtype=torch.float32)
    clean = torch.as_tensor(np.asarray(clean), dtype=torch.float32)
    return (-10 * torch.log10(((denoised - clean) ** 2).mean((1, 2, 3)))).double().numpy()


# ----------------------------------------------------------------------------------------------------
# The denoisers: uint8 noisy images [N, 3, H, W] (numpy) and the noise -> float images in [0, 1]
# ----------------------------------------------------------------------------------------------------

def noise_given(noise, noisy, clean):
    """What each image's noise is, as the classical denoisers are told it: ``bm3d_noise`` of each image, or
    under pixelation the standard deviation of its residual (``[0, 1]`` scale)."""
    if isinstance(noise, Pixelation):
        return list(baselines.residual_sigmas(noisy, clean) / 255)
    return [noise.bm3d_noise(image, index) for index, image in enumerate(clean)]


def noise_std(given):
    """A standard deviation from what ``noise_given`` says: for a power spectral density, the root of its
    mean divided by the image's pixel count (the variance of a pixel)."""
    given = np.asarray(given, dtype=np.float64)
    return float(given) if given.ndim == 0 else float(np.sqrt(given.mean() / given.size))


def denoise_blur(noisy, clean, noise, workers):
    """The Gaussian blur of ``baselines.BLUR_SIGMAS`` best on these images (tuned with their clean versions)."""
    _, best = baselines.sweep(baselines.denoise_blur, noisy / 255, clean / 255, 'sigma', baselines.BLUR_SIGMAS)
    return baselines.denoise_blur(noisy / 255, best['sigma'])


def denoise_nlm(noisy, clean, noise, workers):
    sigmas = np.array([noise_std(given) for given in noise_given(noise, noisy, clean)])
    return baselines.denoise_nlm(noisy / 255, NLM_H_OVER_SIGMA * sigmas, sigmas)


def denoise_bm3d(noisy, clean, noise, workers):
    return baselines.denoise_bm3d(noisy / 255, workers=workers, noise=noise_given(noise, noisy, clean))


def model_denoiser(model):
    def denoise(noisy, clean, noise, workers):
        with torch.no_grad():
            output = model.predict(torch.from_numpy(noisy))
        return output.detach().to('cpu', torch.float64).numpy() / 255
    return denoise


def denoisers(methods):
    """``{method: denoise}`` for the keys of ``METHODS`` in ``methods``; a model that cannot be loaded is
    reported and left out."""
    found = {'noisy': lambda noisy, clean, noise, workers: noisy / 255, 'blur': denoise_blur, 'nlm': denoise_nlm,
             'bm3d': denoise_bm3d}
    for key, number in (('mp2', 2), ('mp1', 1)):
        if key in methods:
            model, reason = baselines.load_miniproject_model(number)
            if model is None:
                print(f"robustness: {key} skipped: {reason}", file=sys.stderr)
            else:
                found[key] = model_denoiser(model)
    return {key: found[key] for key in methods if key in found}


# ----------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------

def read_results(path=RESULTS_FILE):
    return json.loads(path.read_text()) if path.exists() else {'rows': []}


def find_row(results, set_name, noise_name, method):
    for row in results['rows']:
        if (row['set'], row['noise'], row['method']) == (set_name, noise_name, method):
            return row
    return None


def store_row(row, settings, path=RESULTS_FILE):
    """Put ``row`` into the results file in place of the row of its set, noise and method: read, changed and
    rewritten under a lock, so that runs of several methods at once (BM3D beside the models) keep each
    other's rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = read_results(path)
        old = find_row(results, row['set'], row['noise'], row['method'])
        if old is not None:
            results['rows'].remove(old)
        results['rows'].append(row)
        results.update(settings)
        write_text(path, json.dumps(results, indent=1, ensure_ascii=False) + '\n')


def set_images(folder, photos, noise_names):
    """``(set name, {noise name: (noisy, clean)})`` of one ``--data`` folder: its clean patches with each noise
    of ``CLEAN_PATCH_NOISES`` among ``noise_names``, and, when ``photos`` are given, patches of them with each
    pixelation noise among them."""
    set_name = Path(folder).name
    _, clean_tensor = load_val(folder)
    clean = clean_tensor.numpy()
    images = {}
    loaded = set_photos(photos) if photos and any(name in PIXELATION_NOISES for name in noise_names) else None
    for noise_name in noise_names:
        if noise_name in CLEAN_PATCH_NOISES:
            images[noise_name] = (noisy_images(clean, set_name, noise_name), clean)
        elif loaded is not None:
            images[noise_name] = pixelated_images(loaded, len(clean), set_name, noise_name)
    return set_name, images


def run(data_folders, methods, bm3d_images=DEFAULT_BM3D_IMAGES, workers=1, force=False, path=RESULTS_FILE,
        noise_names=tuple(NOISES), log=print, photos=()):
    """Evaluate ``methods`` (``{name: denoise}``) on every set and noise, adding rows to the results file;
    ``photos`` holds each set's ``--photos`` (None where not given)."""
    done = {(row['set'], row['noise'], row['method']) for row in read_results(path)['rows']}
    photos = list(photos) + [None] * (len(data_folders) - len(photos))
    for folder, set_photos_name in zip(data_folders, photos):
        set_name, images = set_images(folder, set_photos_name, noise_names)
        skipped = [name for name in noise_names if name not in images]
        if skipped:
            log(f"{set_name}: no --photos, so no rows of {', '.join(skipped)}")
        for noise_name, (noisy, clean) in images.items():
            subset = bm3d_subset(len(clean), bm3d_images)
            for method, denoise in methods.items():
                if (set_name, noise_name, method) in done and not force:
                    continue
                indices = subset if method == 'bm3d' else np.arange(len(clean))
                start = time.perf_counter()
                denoised = denoise(noisy[indices], clean[indices], NOISES[noise_name], workers)
                seconds = time.perf_counter() - start
                scores = per_image_psnr(denoised, clean[indices] / 255)
                on_subset = scores if method == 'bm3d' else scores[subset]
                row = {'set': set_name, 'noise': noise_name, 'method': method, 'images': len(indices),
                       'psnr_db': float(scores.mean()), 'subset_psnr_db': [round(float(s), 4) for s in on_subset],
                       'seconds': seconds, 'date': datetime.datetime.now().isoformat(timespec='seconds')}
                store_row(row, {'bm3d_images': len(subset), 'seed': SEED, 'nlm_h_over_sigma': NLM_H_OVER_SIGMA},
                          path)
                log(f"{set_name:<10} {noise_name:<17} {method:<16} {row['psnr_db']:6.2f} dB  "
                    f"({len(indices)} images, {seconds:.1f} s)")


# ----------------------------------------------------------------------------------------------------
# Summary
# ----------------------------------------------------------------------------------------------------

def paired_difference(row, reference):
    """Mean and standard error of ``row``'s per-image PSNR minus ``reference``'s on the BM3D subset."""
    if len(row['subset_psnr_db']) != len(reference['subset_psnr_db']):
        raise ValueError(f"the rows of {row['method']} and {reference['method']} ({row['set']}, {row['noise']}) were "
                         f"run with other --bm3d-images: rerun one with --force")
    differences = np.array(row['subset_psnr_db']) - np.array(reference['subset_psnr_db'])
    error = differences.std(ddof=1) / math.sqrt(len(differences)) if len(differences) > 1 else float('nan')
    return float(differences.mean()), float(error)


def difference_to_blur(results, set_name, noise_name, method):
    """``method``'s PSNR minus the tuned blur's on the same images: the difference of the means over the
    set, or for BM3D the paired difference on its subset (None where a row is missing)."""
    row, blur = (find_row(results, set_name, noise_name, key) for key in (method, 'blur'))
    if row is None or blur is None:
        return None
    return paired_difference(row, blur)[0] if method == 'bm3d' else row['psnr_db'] - blur['psnr_db']


def summary_table(results, set_name, methods):
    """Markdown: one row per noise, each method's PSNR on the whole set (BM3D: on its subset); where BM3D
    was run, each other method's paired difference to it on the subset; where the blur was, each model's
    difference to it."""
    compared = [method for method in methods if method not in ('noisy', 'bm3d')] if 'bm3d' in methods else []
    models = [method for method in methods if method not in ('noisy', 'blur', 'nlm', 'bm3d')] \
        if 'blur' in methods else []
    header = ['noise', *methods, *[f'{method} − BM3D' for method in compared],
              *[f'{method} − blur' for method in models]]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for noise_name in NOISES:
        rows = {method: find_row(results, set_name, noise_name, method) for method in methods}
        if rows.get('noisy') is None:
            continue
        cells = [NOISE_LABELS[noise_name]]
        cells += [f"{rows[method]['psnr_db']:.2f}" if rows[method] else '' for method in methods]
        for method in compared:
            if rows[method] and rows.get('bm3d'):
                mean, error = paired_difference(rows[method], rows['bm3d'])
                cells.append(f"{mean:+.2f} ± {error:.2f}")
            else:
                cells.append('')
        for method in models:
            difference = difference_to_blur(results, set_name, noise_name, method)
            cells.append('' if difference is None else f"{difference:+.2f}")
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def methods_in(results):
    found = {row['method'] for row in results['rows']}
    return [method for method in METHODS if method in found]


def sets_in(results):
    """The sets of the results, those with the course's degradation first."""
    sets = list(dict.fromkeys(row['set'] for row in results['rows']))
    pixelated = {row['set'] for row in results['rows'] if row['noise'] in PIXELATION_NOISES}
    return [name for name in sets if name in pixelated] + [name for name in sets if name not in pixelated]


def _plot_pixelation(axis, results, set_name, methods):
    """PSNR minus the tuned blur's against the downsampling factor."""
    for method in [*methods, 'bm3d', 'nlm']:
        points = [(factor, difference_to_blur(results, set_name, f'pixelation-{factor}', method))
                  for factor in PIXELATION_FACTORS]
        points = [(factor, difference) for factor, difference in points if difference is not None]
        if points:
            axis.plot(*zip(*points), marker='o', label=method)
    axis.axhline(0, color='black', linewidth=0.8)
    axis.set_xticks(list(PIXELATION_FACTORS))
    axis.set_xlabel('downsampling factor')
    axis.set_title(f'{set_name}: PSNR minus the tuned Gaussian blur')


def _plot_clean_patch_noises(axis, results, set_name, methods):
    """PSNR minus BM3D's (told the noise), paired, against the Gaussian σ, then the other noises."""
    others = [name for name in CLEAN_PATCH_NOISES if not name.startswith('gaussian-')]
    positions = {**{f'gaussian-{sigma}': sigma for sigma in GAUSSIAN_SIGMAS},
                 **{name: 60 + 8 * index for index, name in enumerate(others)}}
    for method in methods:
        xs, ys, errors = [], [], []
        for noise_name, x in positions.items():
            row, reference = (find_row(results, set_name, noise_name, key) for key in (method, 'bm3d'))
            if row and reference:
                mean, error = paired_difference(row, reference)
                xs.append(x), ys.append(mean), errors.append(error)
        if xs:
            axis.errorbar(xs, ys, yerr=errors, marker='o', capsize=2, label=method)
    axis.axhline(0, color='black', linewidth=0.8)
    axis.axhline(-0.5, color='grey', linewidth=0.8, linestyle=':')
    axis.set_xticks(list(positions.values()))
    axis.set_xticklabels([str(s) for s in GAUSSIAN_SIGMAS] + ['P–G', 'corr.'])
    axis.set_xlabel('Gaussian σ (0–255), then the signal-dependent and correlated noises')
    axis.set_title(f'{set_name}: PSNR minus BM3D (σ given), paired, ± s.e.')


def plot(results, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    sets = sets_in(results)
    methods = [method for method in methods_in(results) if method not in ('noisy', 'blur', 'nlm', 'bm3d')]
    figure, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 4), squeeze=False)
    for axis, set_name in zip(axes[0], sets):
        noises = {row['noise'] for row in results['rows'] if row['set'] == set_name}
        if noises & set(PIXELATION_NOISES):
            _plot_pixelation(axis, results, set_name, methods)
        else:
            _plot_clean_patch_noises(axis, results, set_name, ['nlm', *methods])
        axis.set_ylabel('dB')
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def summary(path=RESULTS_FILE):
    results = read_results(path)
    if not results['rows']:
        raise SystemExit(f"robustness: error: no results in {path}: run `robustness run` first")
    methods = methods_in(results)
    parts = ['# Robustness: PSNR (dB) against the noise', '',
             'Made by `python -m Proj_123456_654321.Miniproject_2.others.robustness summary` from `results.json` '
             '(rows by `robustness run`; see that module\'s docstring). Each method '
             f"scores every image of the set except BM3D, which scores a seeded subset of {results['bm3d_images']} "
             'images per set; "− BM3D" is the mean of the paired per-image differences on that subset, ± its '
             'standard error; "− blur" the difference to the Gaussian blur whose σ is best on the same images. '
             'NLM and BM3D are told the noise (NLM h = '
             f"{results['nlm_h_over_sigma']:g} σ; under pixelation, σ is each image's residual standard "
             'deviation); the networks are not. Pixelation rows are patches of the set\'s photos at one '
             'factor (`build_data --factor F`); the other noises are put on the set\'s clean patches.', '']
    for set_name in sets_in(results):
        images = next((row for row in results['rows'] if row['set'] == set_name and row['method'] == 'noisy'), None)
        parts += [f"## {set_name} ({images['images'] if images else '?'} images)", '',
                  summary_table(results, set_name, methods), '']
    (path.parent / 'summary.md').write_text('\n'.join(parts))
    if 'bm3d' in methods or 'blur' in methods:
        plot(results, path.parent / 'robustness.png')
    print('\n'.join(parts))


# ----------------------------------------------------------------------------------------------------
# What Noise2Noise's target costs
# ----------------------------------------------------------------------------------------------------

class FootprintMean(Pixelation):
    """Pixelation's draws, but each output pixel is its footprint's mean instead of one pick of it. It draws
    the pick all the same, so that the generator, and every later patch, stays the pixelation's."""

    @staticmethod
    def pick(high_res, factor, rng):
        Pixelation.pick(high_res, factor, rng)
        height, width = high_res.shape[0] // factor, high_res.shape[1] // factor
        blocks = high_res.reshape(height, factor, width, factor, 3).astype(np.float64)
        return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8).transpose(2, 0, 1)


def footprint_mean_psnr(photos, count, set_name, noise_name):
    """Mean PSNR (dB, the harness's definition) of the footprint means against the clean patches, on the
    patches that ``pixelated_images`` draws for this set and noise."""
    clean, (means,) = build_data.sample_pixelated(photos, count, FootprintMean(PIXELATION_NOISES[noise_name].factors),
                                                  noise_generator(set_name, noise_name), copies=1)
    return float(per_image_psnr(means / 255, clean / 255).mean())


def target_gap(folders, photo_sources, path):
    """The footprint mean's PSNR on each set's pixelation rows, beside those of the blur and the shipped models."""
    results = read_results()
    rows = []
    print(f"{'set':<10} {'noise':<14} {'footprint mean':>14} {'blur':>7} {'mp2':>7} {'mp1':>7}  (PSNR, dB)")
    for folder, photo_source in zip(folders, photo_sources):
        set_name, count = Path(folder).name, len(load_val(folder)[1])
        photos = set_photos(photo_source)
        for noise_name in PIXELATION_NOISES:
            row = {'set': set_name, 'noise': noise_name, 'images': count,
                   'footprint_mean_db': footprint_mean_psnr(photos, count, set_name, noise_name)}
            for method in ('blur', 'mp2', 'mp1'):
                found = find_row(results, set_name, noise_name, method)
                row[f'{method}_db'] = None if found is None else found['psnr_db']
            rows.append(row)
            cells = ' '.join('      —' if row[f'{m}_db'] is None else f"{row[f'{m}_db']:7.2f}"
                             for m in ('blur', 'mp2', 'mp1'))
            print(f"{set_name:<10} {noise_name:<14} {row['footprint_mean_db']:14.2f} {cells}", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'rows': rows}, indent=1) + '\n')
    print(f"written to {path}")


def candidate(weights_files, project, data_folders, photo_sources, noise_names, results=None):
    """``candidate``: the harness's PSNR of each weights file (a ``bestmodel.pth`` of ``project``'s ``Model``)
    on the rows ``noise_names`` of each set, beside the results file's noisy, blur and shipped rows; a table."""
    results = read_results() if results is None else results
    shipped = f'mp{project}'
    models = []
    for path in weights_files:
        model = model_module(project).Model()
        model.load_pretrained_model(path)
        models.append(model_denoiser(model))
    lines = ['| set | noise | noisy | blur | shipped | ' + ' | '.join(map(str, weights_files)) + ' |',
             '|' + '---|' * (5 + len(weights_files))]
    for folder, photos in itertools.zip_longest(data_folders, photo_sources):
        set_name, images = set_images(folder, photos, noise_names)
        for noise_name, (noisy, clean) in images.items():
            stored = [find_row(results, set_name, noise_name, method) for method in ('noisy', 'blur', shipped)]
            scores = [float(per_image_psnr(denoise(noisy, clean, None, 1), clean / 255).mean()) for denoise in models]
            lines.append(f'| {set_name} | {noise_name} | ' + ' | '.join(
                '–' if row is None else f"{row['psnr_db']:.2f}" for row in stored) + ' | '
                + ' | '.join(f'{score:.2f}' for score in scores) + ' |')
            print(lines[-1], file=sys.stderr, flush=True)
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser('run')
    command.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS))
    command.add_argument('--data', action='append', required=True, help='a folder with val_data.pkl')
    command.add_argument('--photos', action='append', default=[],
                         help=f"the photos of the pixelation rows of each --data in turn: a folder, or "
                              f"'{BUNDLED_PHOTOS}' (the data builder's bundled validation photos)")
    command.add_argument('--noises', nargs='+', choices=list(NOISES), default=list(NOISES))
    command.add_argument('--bm3d-images', type=int, default=DEFAULT_BM3D_IMAGES)
    command.add_argument('--workers', type=int, default=1, help='processes for BM3D')
    command.add_argument('--threads', type=int, help="torch's CPU threads")
    command.add_argument('--force', action='store_true', help='redo rows already in the results')
    commands.add_parser('summary')
    command = commands.add_parser('target-gap')
    command.add_argument('--data', action='append', required=True, help='a folder with val_data.pkl')
    command.add_argument('--photos', action='append', default=[],
                         help="each --data's photos, as the pixelation rows of `run` were given them")
    command = commands.add_parser('candidate')
    command.add_argument('weights', nargs='+', help="bestmodel.pth files of --project's Model")
    command.add_argument('--project', type=int, choices=(1, 2), default=2)
    command.add_argument('--data', action='append', required=True, help='a folder with val_data.pkl')
    command.add_argument('--photos', action='append', default=[], help="each --data's photos, as for `run`")
    command.add_argument('--noises', nargs='+', choices=list(NOISES), default=list(NOISES))
    arguments = parser.parse_args(argv)
    if arguments.command == 'candidate':
        print(candidate(arguments.weights, arguments.project, arguments.data, arguments.photos, arguments.noises))
        return
    if arguments.command == 'summary':
        return summary()
    if arguments.command == 'target-gap':
        if len(arguments.photos) != len(arguments.data):
            parser.error('give one --photos per --data')
        return target_gap(arguments.data, arguments.photos, TARGET_GAP_FILE)
    if len(arguments.photos) > len(arguments.data):
        parser.error('more --photos than --data')
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    run(arguments.data, denoisers(arguments.methods), arguments.bm3d_images, arguments.workers, arguments.force,
        noise_names=arguments.noises, log=lambda line: print(line, flush=True), photos=arguments.photos)


if __name__ == '__main__':
    main()
