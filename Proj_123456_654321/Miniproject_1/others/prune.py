"""A smaller U-Net started from a larger one's trained weights: the channels that matter most, kept::

    python -m Proj_123456_654321.Miniproject_1.others.prune --weights runs/unet-tapered.pth \\
        [--from-width 32 --from-shape tapered] --shape light --out Miniproject_1/bestmodel.pth

Each convolution of the smaller network (``--width`` and ``--shape``, see ``UNet``) takes its weights from the
same convolution of the larger one (``--weights``, a file of ``--from-width`` and ``--from-shape``). Where a
feature map has fewer channels, it keeps those whose weights carry the most: the norm of the channel's filter
times, for each convolution reading the map, the norm of the weights it gives the channel. The pruned
network denoises worse than the one it comes from, and training it on (``others/train.py --resume``)
recovers far sooner than training from scratch (docs/degradation.md).
"""
import argparse
import sys
from pathlib import Path

import torch

from ..model import Model

# The U-Net's convolutions in the order forward runs them: (module, the feature map it makes, the feature maps
# it reads, concatenated in this order). 'image' and 'output' have 3 channels in every network.
LAYERS = (
    ('encode_1.0.0', 'encode_1a', ('image',)),
    ('encode_1.1.0', 'encode_1', ('encode_1a',)),
    ('encode_2.0', 'encode_2', ('encode_1',)),
    ('encode_3.0', 'encode_3', ('encode_2',)),
    ('bottleneck.0', 'bottleneck', ('encode_3',)),
    ('decode_3.0.0', 'decode_3a', ('bottleneck', 'encode_3')),
    ('decode_3.1.0', 'decode_3', ('decode_3a',)),
    ('decode_2.0.0', 'decode_2a', ('decode_3', 'encode_2')),
    ('decode_2.1.0', 'decode_2', ('decode_2a',)),
    ('decode_1.0.0', 'decode_1a', ('decode_2', 'encode_1')),
    ('decode_1.1.0', 'decode_1', ('decode_1a',)),
    ('output', 'output', ('decode_1',)),
)


def channels_to_keep(large, small):
    """For each feature map, the indices of the large network's channels that the small one keeps (sorted):
    all where the counts agree, else the ``count`` of highest importance (see the module's docstring); and
    each feature map's channel count in the large network."""
    convolutions = dict(large.named_modules())
    counts = {'image': 3}
    for module, made, _ in LAYERS:
        counts[made] = convolutions[module].out_channels
    importance = {name: convolutions[module].weight.detach().flatten(1).norm(dim=1)
                  for module, name, _ in LAYERS}
    for module, _, reads in LAYERS:
        weight = convolutions[module].weight.detach()              # [out, sum of the read maps' channels, 3, 3]
        start = 0
        for name in reads:
            if name != 'image':
                importance[name] = importance[name] * weight[:, start:start + counts[name]].transpose(0, 1) \
                    .flatten(1).norm(dim=1)
            start += counts[name]
    small_convolutions = dict(small.named_modules())
    kept = {'image': torch.arange(3)}
    for module, made, _ in LAYERS:
        count = small_convolutions[module].out_channels
        if count > counts[made]:
            raise ValueError(f"{module} has {count} output channels, more than the {counts[made]} it is pruned from")
        kept[made] = importance[made].topk(count).indices.sort().values
    return kept, counts


def prune(large, small):
    """Copy into ``small`` (a ``UNet`` no wider than ``large`` at any convolution) the weights of ``large``'s
    channels that ``channels_to_keep`` chooses."""
    kept, counts = channels_to_keep(large, small)
    large_modules, small_modules = dict(large.named_modules()), dict(small.named_modules())
    with torch.no_grad():
        for module, made, reads in LAYERS:
            offsets, start = [], 0
            for name in reads:
                offsets.append(kept[name] + start)
                start += counts[name]
            inputs = torch.cat(offsets)
            source, target = large_modules[module], small_modules[module]
            target.weight.copy_(source.weight[kept[made]][:, inputs])
            target.bias.copy_(source.bias[kept[made]])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--weights', type=Path, required=True, help='the larger network, as save_model writes it')
    parser.add_argument('--from-width', type=int, default=32, help="the file's width (default: %(default)s)")
    parser.add_argument('--from-shape', default='tapered', choices=Model.Config.CHOICES['shape'],
                        help="the file's shape (default: %(default)s)")
    parser.add_argument('--width', type=int, default=Model.Config.width, help='default: %(default)s')
    parser.add_argument('--shape', default=Model.Config.shape, choices=Model.Config.CHOICES['shape'],
                        help='default: %(default)s')
    parser.add_argument('--out', type=Path, required=True, help='the pruned network, as save_model writes it')
    arguments = parser.parse_args(argv)
    large = Model(width=arguments.from_width, shape=arguments.from_shape)
    large.load_pretrained_model(arguments.weights)
    small = Model(width=arguments.width, shape=arguments.shape, residual=large.config.residual)
    prune(large.network, small.network)
    small.save_model(arguments.out)
    print(f"pruned {arguments.weights} ({large.config.architecture()}) to {arguments.out} "
          f"({small.config.architecture()})")


if __name__ == '__main__':
    sys.exit(main())
