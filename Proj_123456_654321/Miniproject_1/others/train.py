"""Train the Mini-project 1 U-Net and keep the epoch with the best validation PSNR:

    python -m Proj_123456_654321.Miniproject_1.others.train --data data --epochs 40

Same options as Mini-project 2's training command, whose code it runs with this U-Net.
"""
from ...Miniproject_2.others.train import main
from ..model import Model

if __name__ == '__main__':
    main(model_class=Model)
