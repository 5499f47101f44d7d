"""Bias-free variants of Mini-project 2's network, for the study of a denoiser blind to the noise level.

    python -m Proj_123456_654321.Miniproject_2.others.blind VARIANT TRAIN_OPTIONS...

trains ``VARIANT`` (``bias``, the plain ``Model``; ``bias-free``; or ``output-bias``) with the training
command (``others/train.py``, which takes the same ``TRAIN_OPTIONS``); ``robustness candidate NAME PATH
--model-class Proj_123456_654321.Miniproject_2.others.blind:BiasFreeModel`` evaluates the weights it wrote
(``make blind-study`` at commit c61896f ran the study; docs/history.md).

A network without additive constants is positively homogeneous, ``f(a·x) = a·f(x)`` for ``a > 0``: Mohan et
al. (ICLR 2020, "Robust and interpretable blind image denoising via bias-free CNNs") found that this lets
a denoiser trained on some noise levels work at others. The required shape ends in a sigmoid, which no
bias-free network before it makes homogeneous (and whose output at a zero input is 1/2), so whether it
helps here is measured: ``BiasFreeModel`` has no bias anywhere, ``OutputBiasModel`` keeps the last
convolution's (the sigmoid's offset) only. The study's runs and figures are in ``results/blind/``.
"""
import sys

from ..model import Conv2d, Model, Sequential, TransposeConv2d, Upsampling
from . import train


def without_bias(block):
    """``block`` rebuilt without its bias if it is a convolution, else ``block`` itself."""
    if isinstance(block, TransposeConv2d):
        return TransposeConv2d(block.in_channels, block.out_channels, block.kernel_size, block.stride, block.padding,
                               block.output_padding, block.dilation, bias=False)
    if isinstance(block, Upsampling):
        return Upsampling(block.in_channels, block.out_channels, block.kernel_size, block.scale_factor,
                          block.stride, block.padding, block.dilation, bias=False)
    if isinstance(block, Conv2d):
        return Conv2d(block.in_channels, block.out_channels, block.kernel_size, block.stride, block.padding,
                      block.dilation, bias=False)
    return block


class BiasFreeModel(Model):
    """``Model`` whose convolutions have no bias."""
    BIASED_BLOCKS = ()

    @classmethod
    def _build_network(cls, **architecture):
        blocks = Model._build_network(**architecture).modules
        return Sequential(*(block if index in cls.BIASED_BLOCKS else without_bias(block)
                            for index, block in enumerate(blocks)))


class OutputBiasModel(BiasFreeModel):
    """``Model`` whose convolutions have no bias but the last one (block 6, before the sigmoid)."""
    BIASED_BLOCKS = (6,)


VARIANTS = {'bias': Model, 'bias-free': BiasFreeModel, 'output-bias': OutputBiasModel}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in VARIANTS:
        raise SystemExit(f"usage: python -m Proj_123456_654321.Miniproject_2.others.blind "
                         f"{{{','.join(VARIANTS)}}} TRAIN_OPTIONS...")
    train.main(argv[1:], model_class=VARIANTS[argv[0]])


if __name__ == '__main__':
    main()
