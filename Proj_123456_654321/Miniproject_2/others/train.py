"""Train a denoiser and keep the epoch with the best validation PSNR.

    python -m Proj_123456_654321.Miniproject_2.others.train --data data --epochs 80 [--out FILE] [--resume]
    python -m Proj_123456_654321.Miniproject_1.others.train --data data --epochs 40   (the U-Net)

By default the result replaces the mini-project's ``bestmodel.pth`` (written atomically, and only when the
validation PSNR improves on the best seen in this run). ``--history FILE`` writes the per-epoch record as JSON.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from ..model import Model as FrameworkModel
from .data import load_train, load_val


def parse_arguments(argv, model_class):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--width', type=int, default=None, help="hidden channels (default: Model()'s)")
    parser.add_argument('--lr', type=float, default=None, help="Adam's learning rate (default: Model()'s)")
    parser.add_argument('--batch-size', type=int, default=None, help="default: Model()'s")
    parser.add_argument('--train-size', type=int, default=None, help='use only the first N training pairs')
    parser.add_argument('--seed', type=int, default=0, help='seeds the initialisation and the shuffling')
    parser.add_argument('--resume', action='store_true', help='start from the weights in --out')
    parser.add_argument('--out', type=Path, default=model_class.default_path(), help='default: %(default)s')
    parser.add_argument('--history', type=Path, default=None, help='write the per-epoch record here (JSON)')
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1:
        parser.error('--epochs must be at least 1')
    return arguments


def main(argv=None, model_class=FrameworkModel):
    arguments = parse_arguments(argv, model_class)
    torch.manual_seed(arguments.seed)
    options = {name: value for name, value in
               (('width', arguments.width), ('lr', arguments.lr), ('batch_size', arguments.batch_size))
               if value is not None}
    model = model_class(**options)
    if arguments.resume:
        model.load_pretrained_model(arguments.out)
    noisy_1, noisy_2 = load_train(arguments.data)
    if arguments.train_size is not None:
        noisy_1, noisy_2 = noisy_1[:arguments.train_size], noisy_2[:arguments.train_size]
    val_noisy, val_clean = load_val(arguments.data)
    noisy_psnr = -10 * ((val_noisy.float() - val_clean.float()) / 255).pow(2).flatten(1).mean(1).log10().mean()
    print(f"training {model.config} on {len(noisy_1)} pairs on {model.device}; "
          f"noisy validation PSNR {noisy_psnr:.2f} dB", flush=True)

    best = {'val_psnr': -float('inf')}

    def save_if_best(record):
        if record['val_psnr'] > best['val_psnr']:
            best.update(record)
            model.save_model(arguments.out)
            print(f"  saved epoch {record['epoch']} to {arguments.out}", flush=True)

    start = time.perf_counter()
    model.train(noisy_1, noisy_2, arguments.epochs, validation=(val_noisy, val_clean), seed=arguments.seed,
                after_epoch=save_if_best)
    total = time.perf_counter() - start
    print(f"best validation PSNR {best['val_psnr']:.2f} dB (epoch {best['epoch']}), written to {arguments.out}; "
          f"{total / 60:.1f} min in all")
    if arguments.history is not None:
        arguments.history.write_text(json.dumps(
            {'config': model.config, 'batch_size': arguments.batch_size or model.batch_size, 'lr': arguments.lr,
             'train_size': len(noisy_1), 'device': str(model.device), 'total_seconds': total,
             'best_epoch': best['epoch'], 'history': model.history}, indent=1))


if __name__ == '__main__':
    main()
