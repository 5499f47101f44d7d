"""Train a denoiser and keep the epoch with the best validation PSNR.

    python -m Proj_123456_654321.Miniproject_2.others.train --data data --epochs 36 [--out FILE] [--resume]
    python -m Proj_123456_654321.Miniproject_2.others.train --data data --stream [MIX] --photos DIR [DIR ...]
    python -m Proj_123456_654321.Miniproject_1.others.train ...   (the U-Net, the same options)

Training pairs come from ``--data``'s ``train_data.pkl``, the same every epoch, or with ``--stream`` fresh every
epoch from the photos under ``--photos`` and the bundled training photos (``others/stream.py``: the mix, the
photos' ``--photo-side``, the ``--detail`` of the crops, ``--pairs`` an epoch); ``--data`` then gives only the
validation pairs. The stream's seed is ``--seed``.

Options left out take ``Model()``'s defaults: the shipped network and its training. By default the result
replaces the mini-project's ``bestmodel.pth`` (written atomically, and only when the validation PSNR
improves on the best seen in this run). ``--history FILE`` writes the configuration and the per-epoch record
(loss, learning rate, validation PSNR, seconds) as JSON; ``--snapshots DIR`` keeps every epoch's weights.

A long run can be done in pieces that each finish: ``--resume`` starts from the weights in ``--out`` (only an
epoch better than they are replaces them) and appends to the ``--history`` file. Each piece is one ``train``
call, so a cosine schedule restarts from the full rate at each piece (warm restarts).

For Mini-project 2, ``--twin`` trains the identical network with torch.nn, autograd and torch.optim by the
same loop (``others/twin.py``): a comparison of our framework with torch's.
"""
import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from ..model import Model as FrameworkModel, psnr
from . import stream
from .data import load_train, load_val, write_text


def parse_arguments(argv, model_class):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder with train_data.pkl and val_data.pkl')
    parser.add_argument('--epochs', type=int, default=20)
    add_config_options(parser, model_class.Config)
    parser.add_argument('--train-size', type=int, default=None, help='use only the first N training pairs')
    parser.add_argument('--stream', nargs='?', const=stream.DEFAULT_MIX, metavar='MIX',
                        help='fresh pairs every epoch from --photos by this mix (default: %(const)s)')
    parser.add_argument('--photos', nargs='+', default=[], help="the stream's photo folders")
    parser.add_argument('--pairs', type=int, default=50000, help="the stream's pairs an epoch")
    parser.add_argument('--photo-side', type=int, default=stream.PHOTO_SIDE,
                        help="the stream's photos reduced to this short side (0: as they are; default: %(default)s)")
    parser.add_argument('--detail', type=float, default=stream.DETAIL,
                        help="the stream's crops drawn in proportion to their detail to this power (0: uniformly; "
                             "default: %(default)s)")
    parser.add_argument('--twin', action='store_true',
                        help='train the torch.nn + autograd + torch.optim twin of the network instead')
    parser.add_argument('--threads', type=int, help='CPU threads for torch (default: torch\'s choice)')
    parser.add_argument('--seed', type=int, default=0, help='seeds the initialisation and the shuffling')
    parser.add_argument('--resume', action='store_true',
                        help='start from the weights in --out, which only a better epoch replaces; with --history, '
                             'append to that file')
    parser.add_argument('--out', type=Path, default=model_class.default_path(), help='default: %(default)s')
    parser.add_argument('--history', type=Path, default=None, help='write the configuration and the per-epoch '
                                                                   'record here (JSON)')
    parser.add_argument('--snapshots', type=Path, default=None,
                        help="keep every epoch's weights in this folder, as seedS-epochNNN.pth (for others/average.py)")
    arguments = parser.parse_args(argv)
    if arguments.epochs < 1:
        parser.error('--epochs must be at least 1')
    if arguments.stream is None and arguments.photos:
        parser.error('--photos is for --stream')
    if arguments.stream is not None and arguments.train_size is not None:
        parser.error('--train-size is for fixed pairs; a stream makes --pairs an epoch')
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
    pairs = None
    if arguments.stream is not None:
        pairs = stream.PairStream.of_folders(arguments.photos, arguments.stream, arguments.pairs, arguments.seed,
                                             arguments.photo_side, arguments.detail)
        noisy_1, targets = pairs.timed_epoch(1)
    else:
        noisy_1, targets = load_train(arguments.data)
        if arguments.train_size is not None:
            noisy_1, targets = noisy_1[:arguments.train_size], targets[:arguments.train_size]
    val_noisy, val_clean = load_val(arguments.data)
    noisy_psnr = psnr(val_noisy.float() / 255, val_clean.float() / 255)
    print(f"training {type(model).__name__} {model.config} on {len(noisy_1)} pairs on {model.device}, "
          f"{torch.get_num_threads()} threads; noisy validation PSNR {noisy_psnr:.2f} dB", flush=True)

    # Made now rather than found missing after the first epoch.
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    best = {'epoch': None, 'val_psnr': -float('inf')}
    earlier = None
    if arguments.resume:
        # The resumed weights are the best so far: an epoch must beat them to replace the file.
        best.update(epoch=0, val_psnr=psnr(model.predict(val_noisy).cpu().float() / 255, val_clean.float() / 255))
        print(f"resumed from {arguments.out}: validation PSNR {best['val_psnr']:.2f} dB", flush=True)
        if arguments.history is not None and arguments.history.exists():
            earlier = json.loads(arguments.history.read_text())
            if earlier['config'] != model.config.architecture():
                raise ValueError(f"{arguments.history} is the history of another architecture "
                                 f"({earlier['config']}, not {model.config.architecture()}): give a new --history")
    start = time.perf_counter()

    def write_history():
        """The record so far, rewritten after each epoch so that a run stopped midway keeps it."""
        record = {'model': type(model).__name__, 'config': model.config.architecture(),
                  'training': training_options(model),
                  'train_size': len(noisy_1), 'data': str(arguments.data),
                  **({} if pairs is None else {'stream': pairs.description()}),
                  'self_ensembled_validation': getattr(model, 'self_ensemble', False),
                  'seed': arguments.seed, 'device': str(model.device), 'threads': torch.get_num_threads(),
                  'total_seconds': time.perf_counter() - start, 'best_epoch': best['epoch'],
                  'best_val_psnr': best['val_psnr'], 'history': model.history}
        if earlier is not None:
            record = continued_history(earlier, record)
        arguments.history.parent.mkdir(parents=True, exist_ok=True)
        write_text(arguments.history, json.dumps(record, indent=1))

    def after_epoch(record):
        if arguments.snapshots is not None:
            arguments.snapshots.mkdir(parents=True, exist_ok=True)
            model.save_model(arguments.snapshots / f"seed{arguments.seed}-epoch{record['epoch']:03d}.pth")
        if pairs is not None:
            record['pairs_seconds'] = pairs.seconds[record['epoch']]
        if record['val_psnr'] > best['val_psnr']:
            best.update(record)
            model.save_model(arguments.out)
            print(f"  saved epoch {record['epoch']} to {arguments.out}", flush=True)
        if arguments.history is not None:
            write_history()

    model.train(noisy_1, targets, arguments.epochs, validation=(val_noisy, val_clean), seed=arguments.seed,
                after_epoch=after_epoch, epoch_pairs=None if pairs is None else pairs.timed_epoch)
    source = {None: 'no epoch had a finite validation PSNR',
              0: 'the resumed weights, no epoch beat them'}.get(best['epoch'], f"epoch {best['epoch']}")
    print(f"best validation PSNR {best['val_psnr']:.2f} dB ({source}), in {arguments.out}; "
          f"{(time.perf_counter() - start) / 60:.1f} min in all")


def continued_history(earlier, record):
    """The history of a resumed run: ``earlier`` (the history file of the runs before) followed by ``record``,
    epochs numbered on, each run's epochs, data and seconds in ``runs``, and the best epoch over all of them."""
    offset = len(earlier['history'])
    epochs = earlier['history'] + [dict(epoch, epoch=epoch['epoch'] + offset) for epoch in record['history']]
    resumed_better = (record['best_epoch'] or 0) > 0
    runs = earlier.get('runs', [_run_summary(earlier)]) + [_run_summary(record)]
    return dict(record, history=epochs, runs=runs,
                total_seconds=earlier['total_seconds'] + record['total_seconds'],
                best_epoch=record['best_epoch'] + offset if resumed_better else earlier['best_epoch'],
                best_val_psnr=record['best_val_psnr'] if resumed_better else earlier['best_val_psnr'])


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


def _run_summary(record):
    return {'epochs': len(record['history']), 'data': record['data'], 'training': record['training'],
            'seconds': record['total_seconds'], **({'stream': record['stream']} if 'stream' in record else {})}


if __name__ == '__main__':
    main()
