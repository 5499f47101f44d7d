"""One training set from several: a share of each set's training pairs, shuffled together.

    python -m Proj_123456_654321.Miniproject_2.others.mix_data --out data_train --take data_train_pixelated:30000 \\
        --take data_train_gaussian:15000 --take data_train_pg:5000 --val data [--seed 0] [--force]

Writes ``DIR/train_data.pkl``: the first ``COUNT`` training pairs of each ``--take DIR:COUNT``, in an order
drawn by ``--seed`` (so a batch mixes the degradations), and ``DIR/val_data.pkl``: a copy of ``--val``'s
validation pairs, the set that chooses the epoch to keep. The data of a denoiser trained on several
degradations at once: the course's pixelation beside the Gaussian family (``build_data``'s sets).
"""
import argparse
import os
import shutil
import sys

import numpy as np
import torch

from .build_data import check_out_folder, refuse_to_overwrite
from .data import TRAIN_FILE, VAL_FILE, load_train, save_tensors


def parse_take(text):
    folder, _, count = text.rpartition(':')
    try:
        count = int(count)
    except ValueError:
        count = 0
    if not folder or count < 1:
        raise argparse.ArgumentTypeError(f"expected DIR:COUNT with COUNT >= 1, got {text!r}")
    return folder, count


def mix(out_dir, takes, val_dir, seed=0, force=False):
    """Write the mixed ``train_data.pkl`` and the copied ``val_data.pkl`` into ``out_dir``; return the number
    of pairs. The folder is checked, and existing files refused with ``FileExistsError`` unless ``force``,
    before any set is read; ``ValueError`` when a set holds fewer pairs than taken."""
    check_out_folder(out_dir)
    train_path, val_path = os.path.join(out_dir, TRAIN_FILE), os.path.join(out_dir, VAL_FILE)
    refuse_to_overwrite((train_path, val_path), force)
    firsts, seconds = [], []
    for folder, count in takes:
        first, second = load_train(folder)
        if len(first) < count:
            raise ValueError(f"{folder} holds {len(first)} training pairs, fewer than the {count} taken")
        firsts.append(first[:count])
        seconds.append(second[:count])
    order = torch.from_numpy(np.random.default_rng(seed).permutation(sum(count for _, count in takes)))
    os.makedirs(out_dir, exist_ok=True)
    save_tensors((torch.cat(firsts)[order].contiguous(), torch.cat(seconds)[order].contiguous()), train_path)
    shutil.copyfile(os.path.join(val_dir, VAL_FILE), val_path)
    return len(order)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--take', type=parse_take, action='append', required=True, metavar='DIR:COUNT',
                        help='the first COUNT training pairs of the set in DIR (repeat for each set)')
    parser.add_argument('--val', required=True, help='the folder whose val_data.pkl is copied')
    parser.add_argument('--seed', type=int, default=0, help='seeds the order of the pairs (default 0)')
    parser.add_argument('--force', action='store_true', help='overwrite existing files')
    arguments = parser.parse_args(argv)
    try:
        pairs = mix(arguments.out, arguments.take, arguments.val, arguments.seed, arguments.force)
    except (OSError, ValueError) as error:
        parser.exit(1, f"mix_data: error: {' '.join(str(error).split())}\n")
    print(f"wrote {pairs} pairs to {arguments.out}", file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
