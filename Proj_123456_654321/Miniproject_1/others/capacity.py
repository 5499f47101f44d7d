"""U-Net shapes that spend the epoch where it pays (Mini-project 1), with Mini-project 2's capacity commands::

    python -m Proj_123456_654321.Miniproject_1.others.capacity train NAME --data DIR --epochs N
    python -m Proj_123456_654321.Miniproject_1.others.capacity time [--pairs 50000] [--rounds 2] NAME ...
    python -m Proj_123456_654321.Miniproject_1.others.capacity evaluate --data data --data data_val2
    python -m Proj_123456_654321.Miniproject_1.others.capacity summary

'shipped' is the U-Net shipped before (width 48 at every level, 40 epochs on data_diverse); a candidate must
train no slower. 'w32-tapered-residual' won, and was shipped until issue 36 made it lighter. Files and
results go to ``results/capacity/`` beside this file.
"""
import sys
from pathlib import Path

from ...Miniproject_2.others.capacity import Study, main
from ..model import Model

STUDY = Study(
    model_class=Model,
    candidates={
        'shipped': {'width': 48, 'shape': 'flat', 'residual': False, 'lr': 1e-3},
        # Fewer channels at full resolution, more below (32, 64, 96, 128), the output added to the input:
        # 0.88x the former U-Net's training step in a probe (2 threads, batch 32), 1.65x its weights.
        'w32-tapered-residual': {'width': 32, 'shape': 'tapered', 'residual': True, 'lr': 1e-3},
        # A third piece of that run, kept apart (`train w32-tapered-residual-3 --from w32-tapered-residual`):
        # its best epoch on the first validation set is worse on the second.
        'w32-tapered-residual-3': {'width': 32, 'shape': 'tapered', 'residual': True, 'lr': 1e-3},
        # Shipped since issue 36: 'w32-tapered-residual' pruned to a narrower decoder (others/prune.py) and
        # trained on the pixelation mix (the Makefile's train-unet), for a float32 epoch within 4 minutes. Not
        # trained by this study: others/speed.py's `budget` times it.
        'w32-light-residual': {'width': 32, 'shape': 'light', 'residual': True, 'lr': 1e-3},
        # The network shipped before issue 36 as it trained before bfloat16 autocast and channels-last (issue
        # 27): the reference of `time`.
        'w32-tapered-residual-float32': {'width': 32, 'shape': 'tapered', 'residual': True, 'lr': 1e-3,
                                         'channels_last': False, 'bfloat16': False},
    },
    folder=Path(__file__).resolve().parent / 'results' / 'capacity',
    epoch_time_limit=1.0,
    title='What the U-Net shape buys')

if __name__ == '__main__':
    sys.exit(main(study=STUDY))
