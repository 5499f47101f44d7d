"""Train the Mini-project 2 denoiser and keep the epoch with the best validation PSNR.

    python -m Proj_123456_654321.Miniproject_2.others.train --data data --epochs 20 [--out FILE] [--resume]

By default the result replaces ``Miniproject_2/bestmodel.pth`` (written atomically, only when the validation
PSNR improves on the best seen in this run). ``--history FILE`` writes the per-epoch record as JSON.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from ..model import Model, psnr
from .data import load_train, load_val


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--width', type=int, default=None, help="hidden channels (default: Model()'s)")
    parser.add_argument('--lr', type=float, default=None, help="Adam's learning rate (default: Model()'s)")
    parser.add_argument('--batch-size', type=int, default=None, help="default: Model()'s")
    parser.add_argument('--train-size', type=int, default=None, help='use only the first N training pairs')
    parser.add_argument('--seed', type=int, default=0, help='seeds the initialisation and the shuffling')
    parser.add_argument('--resume', action='store_true', help='start from the weights in --out')
    parser.add_argument('--out', type=Path, default=Model.default_path(), help='default: %(default)s')
    parser.add_argument('--history', type=Path, default=None, help='write the per-epoch record here (JSON)')
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1:
        parser.error('--epochs must be at least 1')
    return arguments


def main(argv=None):
    arguments = parse_arguments(argv)
    torch.manual_seed(arguments.seed)
    options = {name: value for name, value in
               (('width', arguments.width), ('lr', arguments.lr), ('batch_size', arguments.batch_size))
               if value is not None}
    model = Model(**options)
    if arguments.resume:
        model.load_pretrained_model(arguments.out)
    noisy_1, noisy_2 = load_train(arguments.data)
    if arguments.train_size is not None:
        noisy_1, noisy_2 = noisy_1[:arguments.train_size], noisy_2[:arguments.train_size]
    val_noisy, val_clean = load_val(arguments.data)
    print(f"training {model.config} on {len(noisy_1)} pairs on {model.device}; "
          f"noisy validation PSNR {psnr(val_noisy / 255, val_clean / 255):.2f} dB", flush=True)

    best = -float('inf')
    start = time.perf_counter()
    for epoch in range(arguments.epochs):
        record = model.train(noisy_1, noisy_2, 1, validation=(val_noisy, val_clean),
                             seed=arguments.seed * 100_003 + epoch, verbose=False)[-1]
        improved = record['val_psnr'] > best
        if improved:
            best = record['val_psnr']
            model.save_model(arguments.out)
        print(f"epoch {epoch + 1}/{arguments.epochs}  loss {record['loss']:.6f}  {record['seconds']:.1f} s  "
              f"val PSNR {record['val_psnr']:.2f} dB" + ("  saved" if improved else ""), flush=True)
    total = time.perf_counter() - start
    print(f"best validation PSNR {best:.2f} dB, written to {arguments.out}; {total / 60:.1f} min in all")
    if arguments.history is not None:
        arguments.history.write_text(json.dumps(
            {'config': model.config, 'batch_size': model.batch_size, 'lr': model.optimizer.lr,
             'train_size': len(noisy_1), 'device': str(model.device), 'total_seconds': total,
             'history': model.history}, indent=1))


if __name__ == '__main__':
    main()
