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
import json
import time
from pathlib import Path

import torch

from ..model import Model as FrameworkModel, psnr
from .data import load_train, load_train_clean, load_val

# Command-line option -> Model() keyword, for the options a Model may take.
MODEL_OPTIONS = ('width', 'kernel_size', 'up_kernel_size', 'lr', 'batch_size', 'optimizer', 'momentum', 'loss',
                 'schedule', 'augment', 'init')


def parse_arguments(argv, model_class):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--width', type=int, help='hidden channels')
    parser.add_argument('--kernel-size', type=int, help='kernel size of the strided convolutions')
    parser.add_argument('--up-kernel-size', type=int, help='kernel size of the upsampling convolutions (odd)')
    parser.add_argument('--lr', type=float, help='learning rate')
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--optimizer', choices=('adam', 'sgd'))
    parser.add_argument('--momentum', type=float, help="SGD's momentum")
    parser.add_argument('--loss', choices=('mse', 'l1'))
    parser.add_argument('--schedule', choices=('constant', 'cosine'), help='learning-rate schedule')
    parser.add_argument('--augment', action=argparse.BooleanOptionalAction, help='random flips and transpositions')
    parser.add_argument('--init', choices=('torch', 'he'), help='weight initialisation')
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
    options = {name: getattr(arguments, name) for name in MODEL_OPTIONS if getattr(arguments, name) is not None}
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
            {'model': type(model).__name__, 'config': model.config, 'training': training_options(model),
             'clean_targets': arguments.clean_targets, 'train_size': len(noisy_1), 'data': str(arguments.data),
             'self_ensembled_validation': getattr(model, 'self_ensemble', False),
             'seed': arguments.seed, 'device': str(model.device), 'threads': torch.get_num_threads(),
             'total_seconds': total, 'best_epoch': best['epoch'], 'best_val_psnr': best['val_psnr'],
             'history': model.history}, indent=1))


def training_options(model):
    """The training options of ``model`` that the Model class has (the U-Net of Mini-project 1 has fewer)."""
    names = {'lr': 'lr', 'batch_size': 'batch_size', 'optimizer': 'optimizer_name', 'momentum': 'momentum',
             'loss': 'loss', 'schedule': 'schedule', 'augment': 'augment', 'init': 'init'}
    options = {}
    for option, attribute in names.items():
        value = getattr(model, attribute, None)
        # the loss is a block (MSE or L1); the record keeps its name
        options[option] = type(value).__name__.lower() if option == 'loss' and value is not None else value
    return options


if __name__ == '__main__':
    main()
