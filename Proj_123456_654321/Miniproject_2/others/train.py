"""Train a denoiser and keep the epoch with the best validation PSNR.

    python -m Proj_123456_654321.Miniproject_2.others.train --data data --epochs 80 [--out FILE] [--resume]
    python -m Proj_123456_654321.Miniproject_1.others.train --data data --epochs 40   (the U-Net)

By default the result replaces the mini-project's ``bestmodel.pth`` (written atomically, and only when the
validation PSNR improves on the best seen in this run). ``--history FILE`` writes the configuration and the
per-epoch record (loss, learning rate, validation PSNR, seconds) as JSON: the study (``others/study.py``)
runs this command once per configuration. Options left out take ``Model()``'s defaults.

Two comparisons for Mini-project 2: ``--twin`` trains the identical network with torch.nn, autograd and
torch.optim by the same loop (``others/twin.py``); ``--clean-targets`` trains on clean targets
(Noise2Clean) from the ``train_clean.pkl`` that ``build_data --with-clean`` writes.
"""
import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from ..model import Model as FrameworkModel, psnr
from .data import load_train, load_train_clean, load_val


def parse_arguments(argv, model_class):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--epochs', type=int, default=20)
    add_config_options(parser, model_class.Config)
    parser.add_argument('--train-size', type=int, default=None, help='use only the first N training pairs')
    parser.add_argument('--clean-targets', action='store_true',
                        help='train on clean targets (Noise2Clean) from DATA/train_clean.pkl')
    parser.add_argument('--twin', action='store_true',
                        help='train the torch.nn + autograd + torch.optim twin of the network instead')
    parser.add_argument('--threads', type=int, help='CPU threads for torch (default: torch\'s choice)')
    parser.add_argument('--seed', type=int, default=0, help='seeds the initialisation and the shuffling')
    parser.add_argument('--resume', action='store_true', help='start from the weights in --out')
    parser.add_argument('--out', type=Path, default=model_class.default_path(), help='default: %(default)s')
    parser.add_argument('--history', type=Path, default=None, help='write the configuration and the per-epoch '
                                                                   'record here (JSON)')
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1:
        parser.error('--epochs must be at least 1')
    return arguments


def main(argv=None, model_class=FrameworkModel):
    arguments = parse_arguments(argv, model_class)
    if arguments.threads is not None:
        torch.set_num_threads(arguments.threads)
    if arguments.twin:
        from .twin import TorchTwinModel
        model_class = TorchTwinModel
    torch.manual_seed(arguments.seed)
    options = {field.name: getattr(arguments, field.name) for field in dataclasses.fields(model_class.Config)
               if getattr(arguments, field.name) is not None}
    model = model_class(**options)
    if arguments.resume:
        model.load_pretrained_model(arguments.out)
        # Resuming a run is plain training: the grader's continuation settings would slow and blend it.
        model.continuation = type(model.continuation)()
    noisy_1, noisy_2 = load_train(arguments.data)
    targets = load_train_clean(arguments.data) if arguments.clean_targets else noisy_2
    if arguments.train_size is not None:
        noisy_1, targets = noisy_1[:arguments.train_size], targets[:arguments.train_size]
    val_noisy, val_clean = load_val(arguments.data)
    noisy_psnr = psnr(val_noisy.float() / 255, val_clean.float() / 255)
    print(f"training {type(model).__name__} {model.config} on {len(noisy_1)} pairs "
          f"({'clean' if arguments.clean_targets else 'noisy'} targets) on {model.device}, "
          f"{torch.get_num_threads()} threads; noisy validation PSNR {noisy_psnr:.2f} dB", flush=True)

    best = {'val_psnr': -float('inf')}

    def save_if_best(record):
        if record['val_psnr'] > best['val_psnr']:
            best.update(record)
            model.save_model(arguments.out)
            print(f"  saved epoch {record['epoch']} to {arguments.out}", flush=True)

    start = time.perf_counter()
    model.train(noisy_1, targets, arguments.epochs, validation=(val_noisy, val_clean), seed=arguments.seed,
                after_epoch=save_if_best)
    total = time.perf_counter() - start
    print(f"best validation PSNR {best['val_psnr']:.2f} dB (epoch {best['epoch']}), written to {arguments.out}; "
          f"{total / 60:.1f} min in all")
    if arguments.history is not None:
        arguments.history.parent.mkdir(parents=True, exist_ok=True)
        arguments.history.write_text(json.dumps(
            {'model': type(model).__name__, 'config': model.config.architecture(),
             'training': training_options(model),
             'clean_targets': arguments.clean_targets, 'train_size': len(noisy_1), 'data': str(arguments.data),
             'self_ensembled_validation': getattr(model, 'self_ensemble', False),
             'seed': arguments.seed, 'device': str(model.device), 'threads': torch.get_num_threads(),
             'total_seconds': total, 'best_epoch': best['epoch'], 'best_val_psnr': best['val_psnr'],
             'history': model.history}, indent=1))


def add_config_options(parser, config_class):
    """One option per field of the model's ``Config`` (``--up-kernel-size`` for ``up_kernel_size``), with its
    type, choices and help; left out, an option takes ``Model()``'s default (the option's value is None)."""
    for field in dataclasses.fields(config_class):
        flag = '--' + field.name.replace('_', '-')
        help = field.metadata.get('help')
        if field.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=help)
        else:
            parser.add_argument(flag, type=field.type, choices=getattr(config_class, 'CHOICES', {}).get(field.name),
                                help=help)


def training_options(model):
    """The model's configuration that is not saved with its weights: how it trains."""
    return {name: value for name, value in dataclasses.asdict(model.config).items()
            if name not in model.config.ARCHITECTURE}


if __name__ == '__main__':
    main()
