"""Distillation targets for Mini-project 2's network: the U-Net's denoising of the other noisy copy::

    python -m Proj_123456_654321.Miniproject_1.others.distill_data --data data_train --out data_distill \\
        [--weights Miniproject_1/bestmodel.pth] [--self-ensemble] [--force]

Writes ``DIR/train_data.pkl`` holding ``(noisy_imgs_1, U-Net(noisy_imgs_2))`` (the second rounded to uint8, the
course's format) and copies ``val_data.pkl``. Still Noise2Noise in spirit: the target comes from the second
noisy copy, never from a clean image; the U-Net's error takes the place of the second copy's noise, much
smaller, so a small network's gradient is far less noisy. Training on it is the usual command
(``Miniproject_2/others/train.py --data DIR``).
"""
import argparse
import sys
import time
from pathlib import Path

import torch

from ...Miniproject_2.others.data import load_train
from ...Miniproject_2.others.mix_data import write_training_set
from ..model import Model

CHUNK = 2048


def distill(model, noisy, progress=print):
    """``model.predict`` of ``noisy`` in chunks, rounded to uint8."""
    targets = torch.empty_like(noisy, dtype=torch.uint8)
    start = time.perf_counter()
    for first in range(0, len(noisy), CHUNK):
        targets[first:first + CHUNK] = model.predict(noisy[first:first + CHUNK]).round().to(torch.uint8)
        progress(f"denoised {min(first + CHUNK, len(noisy))}/{len(noisy)} targets "
                 f"({time.perf_counter() - start:.0f} s)")
    return targets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--weights', type=Path, default=Model.default_path(), help='default: %(default)s')
    parser.add_argument('--self-ensemble', action='store_true',
                        help="average the U-Net's 8 flips and transpositions (8 times slower)")
    parser.add_argument('--force', action='store_true', help='overwrite existing files')
    arguments = parser.parse_args(argv)

    def distilled_pairs():
        model = Model(self_ensemble=arguments.self_ensemble)
        model.load_pretrained_model(arguments.weights)
        noisy_1, noisy_2 = load_train(arguments.data)
        return noisy_1, distill(model, noisy_2, progress=lambda line: print(line, flush=True))

    inputs, _ = write_training_set(arguments.out, distilled_pairs, arguments.data, arguments.force)
    print(f"wrote {len(inputs)} pairs to {arguments.out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
