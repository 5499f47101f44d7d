"""The upsampling stages as transposed convolutions (issue 40), with the capacity study's commands::

    python -m Proj_123456_654321.Miniproject_2.others.upsampling_study train NAME --data data_study --epochs 4
    python -m Proj_123456_654321.Miniproject_2.others.upsampling_study time [--pairs N] [--rounds 2] NAME ...
    python -m Proj_123456_654321.Miniproject_2.others.upsampling_study evaluate --data data --data data_val2
    python -m Proj_123456_654321.Miniproject_2.others.upsampling_study summary

Every candidate trains from random weights, the same epochs on the same pairs (``make upsampling-study`` at
commit c61896f, docs/history.md), so that the table compares architectures and not histories: 'nearest-w112'
is the race's other side, the shape shipped before (nearest upsampling + 5×5 convolution) trained as the
transposed candidates are. 'shipped' is the ``bestmodel.pth`` shipped before the study (about 50 epochs of
50,000 pairs), copied to ``shipped.pth``: the reference of ``evaluate``'s paired differences and of ``time``.
Files and results go to ``results/upsampling/`` beside this file.
"""
import sys
from pathlib import Path

from .capacity import Study, main
from ..model import Model

# The rate of the network shipped before (width 112), for every candidate but the one that says otherwise.
RATE = 1.5e-3
NEAREST = {'width': 112, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest', 'lr': RATE}
TRANSPOSED = {'width': 112, 'kernel_size': 3, 'up_kernel_size': 4, 'upsampling': 'transposed', 'lr': RATE}

STUDY = Study(
    model_class=Model,
    candidates={
        'shipped': NEAREST,
        'nearest-w112': NEAREST,
        # The transposed convolution's kernel: 2 (each output pixel from one input pixel), 3 (output padding 1),
        # 4 (each output pixel from 2×2 input pixels).
        't2-w112': {**TRANSPOSED, 'up_kernel_size': 2},
        't3-w112': {**TRANSPOSED, 'up_kernel_size': 3},
        't4-w112': TRANSPOSED,
        # The strided convolutions' kernel.
        't4-w112-k4': {**TRANSPOSED, 'kernel_size': 4},
        # The width the cheaper upsampling buys inside the epoch budget.
        't4-w160': {**TRANSPOSED, 'width': 160},
        # Each pair's two copies exchanged at random (Config.swap).
        't4-w112-swap': {**TRANSPOSED, 'swap': True},
        # The kernel that led at width 112 (3), wider: at 160 with t4-w160's rate (the kernel alone differs),
        # at 224 with the rate scaled down as 1 / width from 160's, rounded.
        't3-w160': {**TRANSPOSED, 'up_kernel_size': 3, 'width': 160},
        't3-w224': {**TRANSPOSED, 'up_kernel_size': 3, 'width': 224, 'lr': 1e-3},
        # The shipped configuration on a mix with more pairs of low σ (data_study_lowsigma: 2,000 of the
        # pixelated pairs replaced by Gaussian pairs of σ 1 to 10), for the low-noise rows.
        't3-w160-lowsigma': {**TRANSPOSED, 'up_kernel_size': 3, 'width': 160},
    },
    folder=Path(__file__).resolve().parent / 'results' / 'upsampling',
    # The contract's budget: 4 minutes per 50,000 pairs; the shipped network took about 2.5.
    epoch_time_limit=1.6,
    title='The upsampling stages as transposed convolutions',
    module='upsampling_study')

if __name__ == '__main__':
    sys.exit(main(study=STUDY))
