"""A grid of validation images: the noisy input, each denoiser's output and the clean image, side by side.

    python -m Proj_123456_654321.Miniproject_2.others.pictures --data DIR [--noise gaussian|pixelated]
        [--count 6] [--indices I ...] [--out PATH.png] [--baselines-json PATH] [--scale 4]

One row per image of ``DIR/val_data.pkl``: ``--count`` indices evenly spaced over the set
(``linspace(0, N - 1, count)``, rounded: fixed in advance, not picked for looks), or ``--indices``. Columns
(``COLUMNS``) for a Gaussian set (the default): noisy input, Mini-project 2 (ours), non-local means, BM3D,
Mini-project 1 (U-Net), clean; for one of the course's degradation (``--noise pixelated``): noisy input, the
tuned Gaussian blur, Mini-project 2, Mini-project 1, clean. Each tile is titled with its PSNR against the
clean image (``baselines.psnr``, the harness's; the models' outputs scored unclipped, shown clipped), the
clean one with its index; the bottom line gives each column's mean. The classical methods' parameters are
those the baselines command chose on the whole set (``--baselines-json``: ``baselines_gaussian.json``'s NLM
strength, BM3D told σ = 25, or ``baselines.json``'s blur σ). Tiles are upscaled ``--scale`` times by pixel
repetition and drawn 1:1, so the PNG shows the 32×32 pixels as they are. Beside the PNG goes a JSON (same
stem) with the indices and every tile's PSNR, so any number read off the picture can be quoted from a file.
"""
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from . import baselines
from .data import load_val, write_atomically

DEFAULT_OUT = baselines.RESULTS_FOLDER / 'pictures.png'
# Per kind of set (--noise): (key, column header) of each column; the models' keys are those of
# baselines.MINIPROJECT_OF.
COLUMNS = {'gaussian': (('noisy', 'noisy input'), ('mp2', 'MP2 (ours)'), ('nlm', 'NLM'), ('bm3d', 'BM3D'),
                        ('mp1', 'MP1 (U-Net)'), ('clean', 'clean')),
           'pixelated': (('noisy', 'noisy input'), ('blur', 'blur'), ('mp2', 'MP2 (ours)'), ('mp1', 'MP1 (U-Net)'),
                         ('clean', 'clean'))}
# The baselines results each kind of set reads by default.
BASELINES_JSON = {'gaussian': baselines.RESULTS_FOLDER / 'baselines_gaussian.json',
                  'pixelated': baselines.RESULTS_FOLDER / 'baselines.json'}
# Layout in pixels at DPI dots per inch: placing every tile on whole pixels keeps the upscaled image 1:1.
DPI, FONT_SIZE, LINE, PAD, GAP = 100, 8, 14, 8, 6


def chosen_parameter(path, key, name):
    """The parameter ``name`` of the method ``key`` that the baselines script chose, from its JSON ``path``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the baselines script first "
                                f"(python -m {__package__}.baselines --data DIR)")
    try:
        rows = {row['key']: row for row in json.loads(path.read_text())['methods']}
        return rows[key]['chosen'][name]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path} holds no {baselines.METHOD_NAMES[key]} result of the baselines script "
                         f"(was it run with --skip {key}?)") from None


def classical_parameters(noise, path):
    """``(parameters, headers)`` of the classical methods of a ``noise`` set: the NLM filter strength ``h`` (on
    the [0, 1] scale) for a Gaussian one, the blur's σ for a pixelated one, and their columns' headers."""
    if noise == 'gaussian':
        factor = chosen_parameter(path, 'nlm', 'h_over_sigma')
        return ({'nlm': factor * baselines.NOISE_SIGMA, 'h_over_sigma': factor},
                {'nlm': f"NLM (h={factor:g}σ)"})
    sigma = chosen_parameter(path, 'blur', 'sigma')
    return {'blur': sigma}, {'blur': f"blur (σ={sigma:g} px)"}


def choose_indices(total, count, indices):
    """The given indices, checked, or ``count`` evenly spaced ones over ``range(total)``."""
    if indices is None:
        if not 1 <= count <= total:
            raise ValueError(f"--count must be between 1 and the {total} validation images")
        return torch.linspace(0, total - 1, count).round().long().tolist()
    bad = [index for index in indices if not 0 <= index < total]
    if bad or len(set(indices)) != len(indices):
        raise ValueError(f"--indices must be distinct and in [0, {total - 1}]; bad: {bad or 'duplicates'}")
    return list(indices)


def denoise_all(noisy, parameters, log=print):
    """``{key: float images [n, 3, H, W]}`` for every method that can run, and ``{key: reason}`` for the rest;
    the classical methods those of ``parameters`` (``classical_parameters``)."""
    outputs, skipped = {'noisy': noisy}, {}
    if 'nlm' in parameters:
        outputs['nlm'] = baselines.denoise_nlm(noisy, parameters['nlm'])
        # one process: starting 'spawn' workers (each importing torch) costs more than BM3D on a few images
        outputs['bm3d'] = baselines.denoise_bm3d(noisy, workers=1)
    if 'blur' in parameters:
        outputs['blur'] = baselines.denoise_blur(noisy, parameters['blur'])
    for key, number in baselines.MINIPROJECT_OF.items():
        model, reason = baselines.load_miniproject_model(number)
        if model is None:
            skipped[key] = reason
            log(f"{baselines.METHOD_NAMES[key]} left out: {reason}")
        else:
            outputs[key] = baselines.denoise_with_model(model, noisy)
    return outputs, skipped


def tile_box(row, column, tile):
    """``(left, top)`` pixel of a tile: each row has one title line above it, the first row two (header)."""
    return PAD + column * (tile + GAP), PAD + (row + 2) * LINE + row * (tile + GAP)


def figure_size(rows, columns, tile):
    """Width and height in pixels: the tiles, their titles and the two-line mean PSNR row at the bottom."""
    return 2 * PAD + columns * tile + (columns - 1) * GAP, tile_box(rows - 1, 0, tile)[1] + tile + 2 * LINE + PAD


def draw(images, clean, psnrs, keys, indices, scale, headers):
    """The grid as a matplotlib Figure; ``images[key]`` and ``clean`` are float ``[n, 3, H, W]``, ``headers``
    each column's header."""
    tile = clean.shape[-1] * scale
    width, height = figure_size(len(clean), len(keys), tile)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)

    def text(x, y, string, va='bottom', **options):  # x, y in pixels from the top left
        figure.text(x / width, 1 - y / height, string, fontsize=FONT_SIZE, ha='center', va=va, **options)

    for column, key in enumerate(keys):
        for row in range(len(clean)):
            left, top = tile_box(row, column, tile)
            axes = figure.add_axes((left / width, 1 - (top + tile) / height, tile / width, tile / height))
            shown = np.clip(np.rint((clean if key == 'clean' else images[key])[row] * 255), 0, 255)
            axes.imshow(shown.astype(np.uint8).transpose(1, 2, 0).repeat(scale, 0).repeat(scale, 1),
                        interpolation='nearest')
            axes.set_axis_off()
            label = f"#{indices[row]}" if key == 'clean' else f"{psnrs[key][row]:.2f} dB"
            text(left + tile / 2, top - 2, label)
            if row == 0:
                text(left + tile / 2, top - 2 - LINE, headers[key], fontweight='bold')
        mean = f"{np.mean(psnrs[key]):.2f} dB" if key != 'clean' else f"over {len(clean)} images"
        text(left + tile / 2, top + tile + 3, f"mean PSNR\n{mean}", va='top', linespacing=1.2)
    return figure


def weights_digest(number):
    """First 12 hex digits of the model's ``bestmodel.pth`` SHA-256, to tell which weights made the picture."""
    path = baselines.PROJECT_FOLDER / f'Miniproject_{number}' / 'bestmodel.pth'
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else None


def main(argv=None):
    parser = argparse.ArgumentParser(description='Validation images denoised by every method, with PSNRs.')
    parser.add_argument('--data', type=Path, default=Path('data'), help='folder with val_data.pkl')
    parser.add_argument('--noise', choices=tuple(COLUMNS), default='gaussian',
                        help="the set's noise, which chooses the classical methods (default: %(default)s)")
    parser.add_argument('--count', type=int, default=6, help='images, evenly spaced over the set (default 6)')
    parser.add_argument('--indices', type=int, nargs='+', help='these validation images instead of --count')
    parser.add_argument('--out', type=Path, default=DEFAULT_OUT, help=f'PNG to write (default {DEFAULT_OUT})')
    parser.add_argument('--baselines-json', type=Path,
                        help="results of the baselines script, for the classical methods' parameters (default: "
                             "results/baselines_gaussian.json for a Gaussian set, results/baselines.json for a "
                             "pixelated one)")
    parser.add_argument('--scale', type=int, default=4, help='pixel repetition of the 32×32 tiles (default 4)')
    arguments = parser.parse_args(argv)
    if arguments.scale < 1:
        parser.exit(1, "error: --scale must be at least 1\n")
    try:
        noisy_uint8, clean_uint8 = load_val(arguments.data)
        baselines_json = arguments.baselines_json or BASELINES_JSON[arguments.noise]
        parameters, classical_headers = classical_parameters(arguments.noise, baselines_json)
        indices = choose_indices(len(noisy_uint8), arguments.count, arguments.indices)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(1, f"error: {error}\n")

    noisy = noisy_uint8[indices].numpy().astype(np.float64) / 255
    clean = clean_uint8[indices].numpy().astype(np.float64) / 255
    # before loading: a training run may replace bestmodel.pth meanwhile
    weights = {key: weights_digest(number) for key, number in baselines.MINIPROJECT_OF.items()}
    outputs, skipped = denoise_all(noisy, parameters)
    columns = COLUMNS[arguments.noise]
    keys = [key for key, _ in columns if key == 'clean' or key in outputs]
    psnrs = {key: [baselines.psnr(outputs[key][i:i + 1], clean[i:i + 1]) for i in range(len(indices))]
             for key in keys if key != 'clean'}

    figure = draw(outputs, clean, psnrs, keys, indices, arguments.scale, {**dict(columns), **classical_headers})
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(arguments.out, lambda path: figure.savefig(path, dpi=DPI, format='png'))
    summary = {
        'data': str(arguments.data), 'noise': arguments.noise, 'indices': indices,
        'selection': 'given (--indices)' if arguments.indices else f'{len(indices)} evenly spaced over the set',
        'classical_parameters': {**parameters, 'from': str(baselines_json)},
        'weights_sha256_12': weights,
        'psnr_db': psnrs, 'mean_psnr_db': {key: float(np.mean(values)) for key, values in psnrs.items()},
        'methods': {key: baselines.METHOD_NAMES[key] for key in psnrs}, 'skipped': skipped,
    }
    json_path = arguments.out.with_suffix('.json')
    text = json.dumps(summary, indent=2, ensure_ascii=False) + '\n'
    write_atomically(json_path, lambda path: path.write_text(text))
    means = ', '.join(f"{key} {value:.2f}" for key, value in summary['mean_psnr_db'].items())
    print(f"images {indices}; mean PSNR (dB): {means}")
    print(f"written {arguments.out} ({figure.get_figwidth() * DPI:.0f}×{figure.get_figheight() * DPI:.0f} px) "
          f"and {json_path}")
    return summary


if __name__ == '__main__':
    main()
