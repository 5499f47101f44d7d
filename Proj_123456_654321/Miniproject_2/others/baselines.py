"""Classical denoisers and our two trained models on the same validation images.

    python -m Proj_123456_654321.Miniproject_2.others.baselines --data DIR [--limit N] [--workers K]
        [--sigma 25] [--skip blur median nlm bm3d mp2 mp1] [--keep blur median nlm bm3d] [--json PATH]

Evaluates on ``DIR/val_data.pkl`` (its first ``--limit`` images if given). The methods that take the
noise's standard deviation σ are told, by default, each image's own: the standard deviation of its residual
``noisy − clean`` (an oracle, as the tuning is; the course's pixelation has no one σ), or with ``--sigma``
one σ on the 0-255 scale for every image (the Gaussian sets: ``--sigma 25``). Methods, in this order (keys
for ``--skip`` in brackets):

* **noisy input**: the identity, the reference for the gains;
* **Gaussian blur** [blur]: ``scipy.ndimage.gaussian_filter`` per channel (H and W only, reflected edges),
  its σ swept over ``BLUR_SIGMAS`` pixels;
* **median** [median]: ``scipy.ndimage.median_filter`` per channel over a square window (reflected edges),
  its side swept over ``MEDIAN_SIZES`` pixels;
* **non-local means** [nlm]: ``skimage.restoration.denoise_nl_means`` on the RGB image (5×5 patches,
  searched within 6 pixels, ``fast_mode``, ``sigma`` = σ), its filter strength ``h`` swept over
  ``NLM_H_FACTORS`` × σ;
* **BM3D** [bm3d]: ``bm3d.bm3d_rgb`` with ``sigma_psd`` = σ, no parameter to tune; about 1 s per
  32×32 image, so the images are spread over ``--workers`` processes (default: all CPUs), each BM3D
  single-threaded (which also makes it deterministic);
* **Mini-project 2 (ours)** [mp2] and **Mini-project 1 (U-Net)** [mp1]: ``Model()``,
  ``load_pretrained_model()``, ``predict(uint8 images)``, exactly as the course harness calls them. A model
  whose ``model.py`` or ``bestmodel.pth`` is missing, or that fails to load, is skipped with the reason.

Tuning is *oracle*: the blur σ and the NLM ``h`` are the best on the evaluated images themselves, with their
clean versions, which favours the baselines (a real user has no clean images), so a model that beats them
beats them for real. Their outputs are clipped to [0, 1] (which can only raise their PSNR); the models'
are scored as the harness scores them. **PSNR** is the harness's (``model.psnr``, float32), **gain** the
PSNR minus the noisy input's, **seconds** the time to denoise all images once (blur and NLM with the chosen
parameter; BM3D with all ``--workers``, start-up included; the models' ``predict`` call, not the loading).
Everything printed is also written as JSON (default ``results/baselines.json``) with every sweep's
per-parameter PSNR and time.

``--keep`` takes the named methods' rows from the existing ``--json`` file instead of running them again
(each says from which run, ``kept_from``): the classical denoisers are deterministic, so when only a model
changed its row is all that needs measuring. The file must be of the same images (same ``--limit`` and
noisy-input PSNR) and σ, else the command stops.
"""
import argparse
import datetime
import importlib.metadata
import json
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

import bm3d
import numpy as np
import scipy
import skimage
import torch
from scipy.ndimage import gaussian_filter, median_filter
from skimage.restoration import denoise_nl_means

from .data import PROJECT_FOLDER, load_val, model_module
from ..model import Progress, psnr as tensor_psnr

RESULTS_FOLDER = Path(__file__).resolve().parent / 'results'
DEFAULT_JSON = RESULTS_FOLDER / 'baselines.json'

NOISE_SIGMA = 25 / 255
BLUR_SIGMAS = (0.4, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0)
MEDIAN_SIZES = (2, 3, 4, 5)
NLM_H_FACTORS = (0.4, 0.6, 0.8, 1.0, 1.2)
# Suited to 32×32 images: an 11×11 patch would cover a third of the image.
NLM_PATCH_SIZE = 5
NLM_PATCH_DISTANCE = 6
TUNING = 'oracle, on the evaluated images'

METHOD_NAMES = {
    'noisy': 'noisy input',
    'blur': 'Gaussian blur',
    'median': 'median',
    'nlm': 'non-local means',
    'bm3d': 'BM3D',
    'mp2': 'Mini-project 2 (ours)',
    'mp1': 'Mini-project 1 (U-Net)',
}
SKIPPABLE = tuple(key for key in METHOD_NAMES if key != 'noisy')
MINIPROJECT_OF = {'mp2': 2, 'mp1': 1}


# ----------------------------------------------------------------------------------------------------
# Score
# ----------------------------------------------------------------------------------------------------

def psnr(denoised, clean):
    """Mean over images of the per-image PSNR (dB) of ``[N, C, H, W]`` arrays or tensors in [0, 1]: the
    model's ``psnr`` (the harness's definition) of them as float32 tensors, the harness's precision."""
    return tensor_psnr(torch.as_tensor(np.asarray(denoised), dtype=torch.float32),
                       torch.as_tensor(np.asarray(clean), dtype=torch.float32))


# ----------------------------------------------------------------------------------------------------
# Denoisers: float arrays [N, 3, H, W] in [0, 1] -> the same
# ----------------------------------------------------------------------------------------------------

def denoise_blur(noisy, sigma):
    """Gaussian blur of standard deviation ``sigma`` pixels, each channel on its own."""
    blurred = gaussian_filter(np.asarray(noisy, dtype=np.float64), sigma=(0, 0, sigma, sigma), mode='reflect')
    return np.clip(blurred, 0, 1)


def denoise_median(noisy, size):
    """The median over a ``size`` × ``size`` window, each channel on its own."""
    return median_filter(np.asarray(noisy, dtype=np.float64), size=(1, 1, size, size), mode='reflect')


def residual_sigmas(noisy, clean):
    """Each image's residual standard deviation ``[N]``, on the images' scale: the σ an oracle tells."""
    residual = np.asarray(noisy, dtype=np.float64) - np.asarray(clean, dtype=np.float64)
    return residual.reshape(len(residual), -1).std(axis=1)


def denoise_nlm(noisy, h, sigma=NOISE_SIGMA):
    """Non-local means with filter strength ``h`` for noise of standard deviation ``sigma`` (both on the
    [0, 1] scale; each a number, or one per image); patches compare all 3 channels."""
    denoised = np.empty(np.shape(noisy))
    hs, sigmas = np.broadcast_to(h, len(denoised)), np.broadcast_to(sigma, len(denoised))
    for index, image in enumerate(np.asarray(noisy, dtype=np.float64)):
        denoised[index] = denoise_nl_means(
            image.transpose(1, 2, 0), h=float(hs[index]), sigma=float(sigmas[index]), fast_mode=True, patch_size=NLM_PATCH_SIZE,
            patch_distance=NLM_PATCH_DISTANCE, channel_axis=-1).transpose(2, 0, 1)
    return np.clip(denoised, 0, 1)


def _bm3d_one_image(image_and_noise):
    """BM3D of one ``[3, H, W]`` image given its noise (a standard deviation or a power spectral density
    ``[H, W]``, [0, 1] scale), single-threaded: the parallelism is over images, and bm3d's own threads give
    nothing on 32×32 images and make the output vary slightly between runs."""
    image, noise = image_and_noise
    profile = bm3d.BM3DProfile()
    profile.num_threads = 1
    return bm3d.bm3d_rgb(image.transpose(1, 2, 0), sigma_psd=noise, profile=profile).transpose(2, 0, 1)


# bm4d 4.2.5 (which bm3d calls) integrates a noise spectrum with np.trapz, which NumPy 2.4 removed under
# that name; set here, it is also set in the 'spawn' workers, which import this module.
if not hasattr(np, 'trapz'):
    np.trapz = np.trapezoid


def denoise_bm3d(noisy, workers=1, progress=None, noise=NOISE_SIGMA):
    """BM3D (the noise known: ``noise`` a standard deviation, or a list of one standard deviation or power
    spectral density per image) of every image, over ``workers`` processes; ``progress(done, total)`` is
    called as images finish, in order."""
    noisy = np.asarray(noisy, dtype=np.float64)
    total = len(noisy)
    denoised = np.empty(noisy.shape)
    tasks = zip(noisy, noise if isinstance(noise, list) else [noise] * total)
    if workers <= 1 or total <= 1:
        results = map(_bm3d_one_image, tasks)
        pool = None
    else:
        # 'spawn', not fork: a forked child would inherit torch's thread pools in whatever state they are.
        pool = multiprocessing.get_context('spawn').Pool(min(workers, total))
        results = pool.imap(_bm3d_one_image, tasks, chunksize=1)
    try:
        for index, image in enumerate(results):
            denoised[index] = image
            if progress is not None:
                progress(index + 1, total)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return np.clip(denoised, 0, 1)


def denoise_with_model(model, noisy):
    """A ``Model`` of the mini-projects, fed uint8 images as the harness does; its output is not clipped."""
    images = torch.from_numpy(np.rint(np.asarray(noisy) * 255).astype(np.uint8))
    with torch.no_grad():
        output = model.predict(images)
    return output.detach().to('cpu', torch.float64).numpy() / 255


def load_miniproject_model(number):
    """``(model, None)`` with the pretrained weights loaded, or ``(None, reason)`` when that is not possible."""
    folder = PROJECT_FOLDER / f'Miniproject_{number}'
    for name in ('model.py', 'bestmodel.pth'):
        if not (folder / name).is_file():
            return None, f"{folder.relative_to(PROJECT_FOLDER.parent) / name} does not exist"
    try:
        model = model_module(number).Model()
        model.load_pretrained_model()
    except Exception as error:  # a model being written may fail in any way: report it, evaluate the rest
        return None, f"loading it failed: {type(error).__name__}: {error}"
    return model, None


# ----------------------------------------------------------------------------------------------------
# Evaluation
# ----------------------------------------------------------------------------------------------------

def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def sweep(denoise, noisy, clean, name, values):
    """Run ``denoise(noisy, value)`` for every value; return the sweep's rows and the best row."""
    rows = []
    for value in values:
        denoised, seconds = _timed(denoise, noisy, value)
        rows.append({name: value, 'psnr_db': psnr(denoised, clean), 'seconds': seconds})
    best = dict(max(rows, key=lambda row: row['psnr_db']))
    # the best value on the grid's edge means the grid may not hold the true optimum
    best['at_grid_edge'] = best[name] in (min(values), max(values))
    return rows, best


def evaluate(noisy_uint8, clean_uint8, skip=(), workers=None, log=print, sigma=None):
    """Evaluate every method not in ``skip`` on uint8 ``[N, 3, H, W]`` images; return a JSON-ready dict.
    ``sigma`` ([0, 1] scale) is the noise level told to NLM and BM3D; None tells each image's residual's.

    ``log`` receives one line per method as it finishes; BM3D's progress goes to standard output.
    """
    workers = workers or os.cpu_count() or 1
    noisy = noisy_uint8.numpy().astype(np.float64) / 255
    clean = clean_uint8.numpy().astype(np.float64) / 255
    sigmas = residual_sigmas(noisy, clean) if sigma is None else np.full(len(noisy), sigma)
    told = 'σ per image' if sigma is None else f"σ={sigma * 255:g} given"
    rows, skipped = [], []

    def add(key, psnr_db, seconds, parameter=None, **details):
        gain = psnr_db - rows[0]['psnr_db'] if rows else 0.0
        row = {'key': key, 'method': METHOD_NAMES[key], 'parameter': parameter, 'psnr_db': psnr_db,
               'gain_db': gain, 'seconds': seconds, **details}
        rows.append(row)
        log(f"{row['method']:<24} {parameter or '':<14} {psnr_db:6.2f} dB  {gain:+6.2f} dB  {seconds:8.2f} s")
        if details.get('at_grid_edge'):
            log(f"  note: the best {METHOD_NAMES[key]} parameter is at the edge of its grid")

    add('noisy', psnr(noisy, clean), 0.0)

    for key, denoise, name, values, label in (('blur', denoise_blur, 'sigma', BLUR_SIGMAS, 'σ={:g} px'),
                                              ('median', denoise_median, 'size', MEDIAN_SIZES, '{}×{} px')):
        if key in skip:
            continue
        sweep_rows, best = sweep(denoise, noisy, clean, name, values)
        add(key, best['psnr_db'], best['seconds'], label.format(best[name], best[name]),
            chosen={name: best[name]}, at_grid_edge=best['at_grid_edge'], sweep=sweep_rows,
            sweep_seconds=sum(row['seconds'] for row in sweep_rows))

    if 'nlm' not in skip:
        sweep_rows, best = sweep(lambda images, factor: denoise_nlm(images, factor * sigmas, sigmas), noisy, clean,
                                 'h_over_sigma', NLM_H_FACTORS)
        add('nlm', best['psnr_db'], best['seconds'], f"h={best['h_over_sigma']:g}σ",
            chosen={'h_over_sigma': best['h_over_sigma'], 'patch_size': NLM_PATCH_SIZE,
                    'patch_distance': NLM_PATCH_DISTANCE},
            at_grid_edge=best['at_grid_edge'], sweep=sweep_rows,
            sweep_seconds=sum(row['seconds'] for row in sweep_rows))

    if 'bm3d' not in skip:
        total = len(noisy)
        log(f"  BM3D: {total} images over {min(workers, total)} worker processes")
        progress = Progress(total, '  BM3D')
        denoised, seconds = _timed(denoise_bm3d, noisy, workers=workers,
                                   progress=lambda done, _: progress.update(done), noise=list(sigmas))
        progress.close()
        add('bm3d', psnr(denoised, clean), seconds, told, workers=min(workers, total))

    for key in ('mp2', 'mp1'):
        if key in skip:
            continue
        model, reason = load_miniproject_model(MINIPROJECT_OF[key])
        if model is None:
            skipped.append({'key': key, 'method': METHOD_NAMES[key], 'reason': reason})
            log(f"{METHOD_NAMES[key]:<24} skipped: {reason}")
            continue
        denoised, seconds = _timed(denoise_with_model, model, noisy)
        device = getattr(model, 'device', None)
        add(key, psnr(denoised, clean), seconds, 'bestmodel.pth',
            device=None if device is None else str(device))

    return {
        'images': len(noisy),
        'noise_sigma_255': None if sigma is None else sigma * 255,
        'sigma_given': 'each image\'s residual standard deviation (oracle)' if sigma is None else 'one for all',
        'tuning': TUNING,
        'psnr': 'mean over images of -10 log10(mean over C,H,W of (denoised - clean)^2), images in [0, 1]',
        'baseline_outputs_clipped_to_unit_range': True,
        'methods': rows,
        'skipped': skipped,
    }


def kept_rows(json_path, keys, data, limit, noisy_psnr, sigma_255=None):
    """The rows of ``keys`` in the results file ``json_path``, each marked with the date of the run it comes
    from. That run must have evaluated the same images: the same ``limit`` and the same noisy input PSNR
    ``noisy_psnr`` (to float64 rounding; the folder ``data`` may have been renamed since: the Gaussian sets'
    files were written when ``data/`` held that set), telling the same σ (``sigma_255``, None for each
    image's own); and every key must be there."""
    if not keys:
        return {}
    if not json_path.exists():
        raise SystemExit(f"baselines: error: --keep needs the results of an earlier run in {json_path}, "
                         f"which does not exist")
    earlier = json.loads(json_path.read_text())
    rows = {row['key']: row for row in earlier['methods']}
    if earlier.get('limit') != limit or abs(rows['noisy']['psnr_db'] - noisy_psnr) > 1e-9:
        raise SystemExit(f"baselines: error: {json_path} evaluated other images (--data {earlier.get('data')}, "
                         f"--limit {earlier.get('limit')}, noisy input {rows['noisy']['psnr_db']:.6f} dB; now "
                         f"--data {data}, --limit {limit}, {noisy_psnr:.6f} dB): nothing to keep")
    if earlier.get('noise_sigma_255') != sigma_255:
        raise SystemExit(f"baselines: error: {json_path} told σ = {earlier.get('noise_sigma_255')}, now "
                         f"{sigma_255}: nothing to keep")
    missing = [key for key in keys if key not in rows]
    if missing:
        raise SystemExit(f"baselines: error: {json_path} has no row for {', '.join(missing)}")
    return {key: {**rows[key], 'kept_from': earlier.get('date')} for key in keys}


def format_table(results):
    header = f"{'method':<24} {'parameter':<14} {'PSNR (dB)':>9} {'gain (dB)':>9} {'seconds':>9}"
    lines = [header, '-' * len(header)]
    for row in results['methods']:
        kept = f"  (kept from the run of {row['kept_from']})" if 'kept_from' in row else ''
        lines.append(f"{row['method']:<24} {row['parameter'] or '—':<14} {row['psnr_db']:9.2f} "
                     f"{row['gain_db']:+9.2f} {row['seconds']:9.2f}{kept}")
    for row in results['skipped']:
        lines.append(f"{row['method']:<24} skipped: {row['reason']}")
    return '\n'.join(lines)


def environment():
    return {'python': platform.python_version(), 'platform': platform.platform(), 'cpu_count': os.cpu_count(),
            'torch': torch.__version__, 'numpy': np.__version__, 'scipy': scipy.__version__,
            'scikit-image': skimage.__version__, 'bm3d': importlib.metadata.version('bm3d')}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Classical denoisers (oracle-tuned) and the mini-project models on the validation set.')
    parser.add_argument('--data', type=Path, default=Path('data'), help='folder with val_data.pkl')
    parser.add_argument('--limit', type=int, help='evaluate the first N validation images only')
    parser.add_argument('--workers', type=int, default=os.cpu_count() or 1, help='processes for BM3D')
    parser.add_argument('--skip', nargs='*', default=[], choices=SKIPPABLE, metavar='METHOD',
                        help=f"methods to leave out, among: {' '.join(SKIPPABLE)}")
    parser.add_argument('--keep', nargs='*', default=[], choices=SKIPPABLE, metavar='METHOD',
                        help='methods whose rows to take from the existing --json file instead of running them')
    parser.add_argument('--json', type=Path, default=DEFAULT_JSON, help=f'output JSON (default {DEFAULT_JSON})')
    parser.add_argument('--sigma', type=float, help='the noise σ (0-255) told to NLM and BM3D for every image '
                                                    '(default: each image\'s residual standard deviation)')
    arguments = parser.parse_args(argv)
    if set(arguments.keep) & set(arguments.skip):
        parser.error('a method cannot be both kept and skipped')
    if arguments.limit is not None and arguments.limit < 1:
        parser.error('--limit must be at least 1')
    if arguments.workers < 1:
        parser.error('--workers must be at least 1')
    if arguments.sigma is not None and not (0 < arguments.sigma < float('inf')):
        parser.error('--sigma must be a positive number')

    noisy, clean = load_val(arguments.data)
    if arguments.limit is not None:
        noisy, clean = noisy[:arguments.limit], clean[:arguments.limit]
    print(f"{len(noisy)} validation images from {arguments.data}; tuning: {TUNING}", flush=True)

    noisy_psnr = psnr(noisy.numpy().astype(np.float64) / 255, clean.numpy().astype(np.float64) / 255)
    kept = kept_rows(arguments.json, arguments.keep, str(arguments.data), arguments.limit, noisy_psnr,
                     arguments.sigma)
    results = evaluate(noisy, clean, skip=set(arguments.skip) | set(kept), workers=arguments.workers,
                       sigma=None if arguments.sigma is None else arguments.sigma / 255,
                       log=lambda line: print(line, flush=True))
    order = list(METHOD_NAMES)
    results['methods'] = sorted(results['methods'] + list(kept.values()), key=lambda row: order.index(row['key']))
    print('\n' + format_table(results))

    results = {'data': str(arguments.data), 'limit': arguments.limit,
               'date': datetime.datetime.now().isoformat(timespec='seconds'),
               'arguments': list(sys.argv[1:] if argv is None else argv),
               'environment': environment(), **results}
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + '\n')
    print(f"\nwritten to {arguments.json}")
    return results


if __name__ == '__main__':
    main()
