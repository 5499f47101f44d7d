"""Mini-project 1's others/prune.py: a smaller U-Net started from a larger one's channels."""
import pytest
import torch

from Proj_123456_654321.Miniproject_1.model import Model, UNet
from Proj_123456_654321.Miniproject_1.others import prune


def network(width, shape, seed):
    torch.manual_seed(seed)
    return UNet(width, shape)


@pytest.mark.parametrize('seed', range(3))
def test_the_same_shape_copies_every_weight(seed):
    large, small = network(8, 'tapered', seed), network(8, 'tapered', seed + 100)
    prune.prune(large, small)
    for (name, expected), actual in zip(large.state_dict().items(), small.state_dict().values()):
        assert torch.equal(actual, expected), name


@pytest.mark.parametrize('seed', range(5))
def test_channels_nothing_reads_are_dropped_and_the_output_kept(seed):
    """Channels whose readers give them zero weight are the least important: the pruned network computes the
    large one's output exactly, up to the order of the sums."""
    large, small = network(8, 'tapered', seed), network(8, 'light', seed + 100)
    generator = torch.Generator().manual_seed(seed)
    convolutions = dict(large.named_modules())
    module_making = {made: module for module, made, _ in prune.LAYERS}
    readers = {'decode_3a': ('decode_3.1.0', 0), 'decode_3': ('decode_2.0.0', 0),
               'decode_2a': ('decode_2.1.0', 0), 'decode_2': ('decode_1.0.0', 0)}
    with torch.no_grad():
        for made, (reader, start) in readers.items():
            module = module_making[made]
            count = convolutions[module].out_channels
            keep = dict(small.named_modules())[module].out_channels
            dropped = torch.randperm(count, generator=generator)[:count - keep]
            convolutions[reader].weight[:, start + dropped] = 0
    prune.prune(large, small)
    images = torch.rand(4, 3, 32, 32, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(small(images), large(images), rtol=1e-5, atol=1e-5)


def test_a_wider_network_is_refused():
    with pytest.raises(ValueError, match='more than'):
        prune.prune(network(8, 'light', 0), network(8, 'tapered', 1))


def test_the_command_writes_a_file_the_smaller_model_loads(tmp_path, capsys):
    torch.manual_seed(0)
    large = Model(width=8, shape='tapered')
    weights = large.save_model(tmp_path / 'large.pth')
    prune.main(['--weights', str(weights), '--from-width', '8', '--from-shape', 'tapered', '--width', '8',
                '--shape', 'light', '--out', str(tmp_path / 'small.pth')])
    assert 'light' in capsys.readouterr().out
    small = Model(width=8, shape='light')
    small.load_pretrained_model(tmp_path / 'small.pth')
    assert small.network.decode_2[0][0].out_channels == 16
