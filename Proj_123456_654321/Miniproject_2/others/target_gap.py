"""What Noise2Noise's target costs under the course's pixelation: the footprint's mean against the clean image.

    python -m Proj_123456_654321.Miniproject_2.others.target_gap [--data data --photos bundled ...]

Trained on pairs of independent picks with the MSE, a network's best output is the mean of a pick given the
noisy input; at the very best, each output pixel's footprint mean (the box average of the high-resolution
pixels it covers). The PSNR is measured against the antialiased (Lanczos) downsampling, which is sharper.
This script scores that footprint mean, the best any Noise2Noise denoiser could reach without clean images,
on exactly the patches of the robustness evaluation's pixelation rows (``robustness.pixelated_images``: same
photos, same generator, same draws), beside the tuned Gaussian blur's and the shipped models' rows of
``results/robustness/results.json`` when they are there. It writes ``results/pixelation/target_gap.json``.
"""
import argparse
import json
from pathlib import Path

import numpy as np

from . import build_data, robustness
from .baselines import RESULTS_FOLDER
from .data import load_val
from .noises import Pixelation

RESULTS_FILE = RESULTS_FOLDER / 'pixelation' / 'target_gap.json'


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
    patches that ``robustness.pixelated_images`` draws for this set and noise."""
    footprint_mean = FootprintMean(robustness.PIXELATION_NOISES[noise_name].factors)
    clean, (means,) = build_data.sample_pixelated(photos, count, footprint_mean,
                                                  robustness.noise_generator(set_name, noise_name), copies=1)
    return float(robustness.per_image_psnr(means / 255, clean / 255).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', action='append', help='a folder with val_data.pkl (default: data, data_val2)')
    parser.add_argument('--photos', action='append', help="each --data's photos (default: bundled, photos_indomain)")
    arguments = parser.parse_args(argv)
    folders = arguments.data or ['data', 'data_val2']
    photo_sources = arguments.photos or ['bundled', 'photos_indomain']
    if len(photo_sources) != len(folders):
        parser.error('give one --photos per --data')
    results = robustness.read_results()
    rows = []
    print(f"{'set':<10} {'noise':<14} {'footprint mean':>14} {'blur':>7} {'mp2':>7} {'mp1':>7}  (PSNR, dB)")
    for folder, photo_source in zip(folders, photo_sources):
        set_name, count = Path(folder).name, len(load_val(folder)[1])
        photos = robustness.set_photos(photo_source)
        for noise_name in robustness.PIXELATION_NOISES:
            row = {'set': set_name, 'noise': noise_name, 'images': count,
                   'footprint_mean_db': footprint_mean_psnr(photos, count, set_name, noise_name)}
            for method in ('blur', 'mp2', 'mp1'):
                found = robustness.find_row(results, set_name, noise_name, method)
                row[f'{method}_db'] = None if found is None else found['psnr_db']
            rows.append(row)
            cells = ' '.join('      —' if row[f'{m}_db'] is None else f"{row[f'{m}_db']:7.2f}"
                             for m in ('blur', 'mp2', 'mp1'))
            print(f"{set_name:<10} {noise_name:<14} {row['footprint_mean_db']:14.2f} {cells}", flush=True)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({'rows': rows}, indent=1) + '\n')
    print(f"written to {RESULTS_FILE}")


if __name__ == '__main__':
    main()
