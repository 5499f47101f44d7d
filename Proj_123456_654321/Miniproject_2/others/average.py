"""Average the weights of several epochs of one run, and score the average beside each of them.

    python -m Proj_123456_654321.Miniproject_2.others.average --data data --last 4 8 12 --snapshots DIR
        [--project 2] [--out FILE]

``DIR`` holds a run's ``seedS-epochNNN.pth`` files (``others/train.py --snapshots``), in training order by name.
For each ``--last K`` the mean of the last K epochs' weights (the weights averaged, not the outputs: one network)
is scored on ``--data``'s validation pairs with the harness's PSNR, beside the last epoch alone. ``--out`` saves
the best of them. Averaging the weights of the end of a cosine cycle smooths the noise of the last steps.
"""
import argparse
from pathlib import Path

import torch

from ..model import psnr
from .data import load_val, model_module, parameters_of


def averaged(paths, model_class):
    """A ``model_class()`` holding the mean of the weights files ``paths``."""
    models = []
    for path in paths:
        models.append(model_class())
        models[-1].load_pretrained_model(path)
    average = models[0]
    for parameters in zip(*(parameters_of(model) for model in models)):
        with torch.no_grad():
            parameters[0].copy_(torch.stack(parameters).mean(0))
    return average


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='a folder with val_data.pkl')
    parser.add_argument('--snapshots', type=Path, required=True)
    parser.add_argument('--last', type=int, nargs='+', required=True, help='how many of the last epochs to average')
    parser.add_argument('--project', type=int, choices=(1, 2), default=2)
    parser.add_argument('--out', type=Path, help='save the best weights here')
    arguments = parser.parse_args(argv)
    paths = sorted(arguments.snapshots.glob('seed*-epoch*.pth'))
    if not paths or max(arguments.last) > len(paths) or min(arguments.last) < 1:
        parser.error(f"{arguments.snapshots} holds {len(paths)} snapshots; --last must be 1 to that")
    model_class = model_module(arguments.project).Model
    noisy, clean = load_val(arguments.data)
    best = None
    for last in sorted(set([1, *arguments.last])):
        model = averaged(paths[-last:], model_class)
        score = psnr(model.predict(noisy).cpu() / 255, clean.float() / 255)
        print(f"last {last:3d} epochs ({paths[-last].name} to {paths[-1].name}): {score:.3f} dB", flush=True)
        if best is None or score > best[0]:
            best = score, last, model
    print(f"best: the last {best[1]} epochs, {best[0]:.3f} dB")
    if arguments.out is not None:
        best[2].save_model(arguments.out)


if __name__ == '__main__':
    main()
