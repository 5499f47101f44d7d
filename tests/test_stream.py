"""Tests of others/stream.py: fresh training pairs every epoch, as build_data's recipe makes them."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2
from Proj_123456_654321.Miniproject_2.others import build_data, stream, train
from Proj_123456_654321.Miniproject_2.others.noises import Pixelation

from test_model import noisy_pairs


@pytest.fixture(scope='module')
def val_photos():
    """The bundled validation photos (three scenes, 300 to 640 pixels a side)."""
    return build_data.load_photos([build_data.package_file(*entry) for entry in build_data.VAL_PHOTOS], 'val')


def harness_psnr(noisy, clean):
    return mp2.psnr(noisy.float() / 255, clean.float() / 255)


@pytest.mark.parametrize('text, parts', [
    ('pixelation 2:16 3, gaussian 1:55 1', [('pixelation', (2, 16), 0.75), ('gaussian', (1.0, 55.0), 0.25)]),
    ('clean 1,poisson-gaussian 1', [('clean', None, 0.5), ('poisson-gaussian', None, 0.5)]),
    ('pixelation 4 2', [('pixelation', (4, 4), 1.0)])])
def test_a_mix_is_parsed_and_its_shares_normalised(text, parts):
    assert [(part.kind, part.low_high, part.share) for part in stream.parse_mix(text)] == parts


@pytest.mark.parametrize('text, message', [
    ('blur 2 1', 'KIND'), ('pixelation 0.5', 'LOW:HIGH and a share'), ('gaussian 1:5', 'LOW:HIGH and a share'),
    ('clean 2:3 1', 'a share'), ('pixelation 2:16 -1', 'positive'), ('pixelation 2:16 nan', 'positive'),
    ('pixelation 16:2 1', 'LOW <= HIGH'), ('', 'KIND'), ('clean 1,', 'KIND')])
def test_a_bad_mix_is_refused_with_what_a_part_is(text, message):
    with pytest.raises(ValueError, match=message):
        stream.parse_mix(text)


@pytest.mark.parametrize('pairs', [1, 7, 100, 50000])
def test_an_epoch_holds_each_parts_share_and_exactly_its_pairs(pairs):
    counts = stream.part_counts(stream.parse_mix('pixelation 2:16 0.56, clean 0.04, gaussian 1:55 0.3, '
                                                 'poisson-gaussian 0.1'), pairs)
    assert sum(counts) == pairs and min(counts) >= 0
    if pairs == 50000:
        assert counts == [28000, 2000, 15000, 5000]


def test_epochs_are_reproducible_fresh_and_uint8(val_photos):
    pair_stream = stream.PairStream(val_photos, pairs=300, seed=5)
    first, second = pair_stream.epoch(1)
    assert first.shape == second.shape == (300, 3, 32, 32) and first.dtype == second.dtype == torch.uint8
    assert all(torch.equal(a, b) for a, b in zip((first, second), pair_stream.epoch(1)))
    again = stream.PairStream(val_photos, pairs=300, seed=5).epoch(1)
    assert all(torch.equal(a, b) for a, b in zip((first, second), again))
    assert not torch.equal(first, pair_stream.epoch(2)[0])
    assert not torch.equal(first, stream.PairStream(val_photos, pairs=300, seed=6).epoch(1)[0])
    assert not torch.equal(first, second)  # two noisy copies, not one


def test_the_pyramid_reads_a_pixel_centre_exactly_and_stays_inside_the_photo():
    pixels = np.random.default_rng(0).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    pyramids = stream.Pyramids([Image.fromarray(pixels)], photo_side=None)
    assert pyramids.depths.tolist() == [2] and pyramids.sizes.tolist() == [[90, 70]]
    rows, columns = torch.meshgrid(torch.arange(70.), torch.arange(90.), indexing='ij')
    read = pyramids.read(torch.zeros(1, dtype=torch.long), columns.reshape(1, -1) + 0.5, rows.reshape(1, -1) + 0.5,
                         torch.ones(1))
    assert torch.equal(read.view(70, 90, 3), torch.from_numpy(pixels))
    # Far outside, the edge pixel; between two pixels, their mean (halves rounded up); a quarter of the way.
    corner = pyramids.read(torch.zeros(1, dtype=torch.long), torch.tensor([[-40.0, 1.0, 0.75]]),
                           torch.tensor([[-3.0, 0.5, 1.5]]), torch.ones(1))
    assert torch.equal(corner[0, 0], torch.from_numpy(pixels[0, 0]))
    rounded_mean = torch.from_numpy(pixels[0, :2]).int().sum(0).add(1).div(2, rounding_mode='floor')
    assert torch.equal(corner[0, 1], rounded_mean.to(torch.uint8))
    expected = torch.tensor([0.75, 0.25], dtype=torch.float64) @ torch.from_numpy(pixels[1, :2]).double()
    assert (corner[0, 2].double() - expected).abs().max() <= 0.5 + 1e-9


@pytest.mark.parametrize('factor', [2, 4, 8])
def test_pixelated_pairs_are_as_noisy_as_build_datas_at_each_factor(val_photos, factor):
    """The stream evaluates build_data's recipe at the points it needs (pyramid levels, bilinear reads instead
    of Lanczos at each crop's scale): its noisy input's PSNR is within 0.5 dB of build_data's."""
    part = stream.Part('pixelation', (factor, factor), 1.0)
    noisy, other, clean, factors = stream.PairStream(val_photos, photo_side=None, detail=0.0).make(
        part, 600, torch.Generator().manual_seed(0), with_clean=True)
    assert factors.eq(factor).all() and not torch.equal(noisy, other)
    reference_clean, reference_noisy = build_data.sample_pixelated(val_photos, 300, Pixelation((factor, factor)),
                                                                   np.random.default_rng(0), 1)
    reference = harness_psnr(torch.from_numpy(reference_noisy[0]), torch.from_numpy(reference_clean))
    assert abs(harness_psnr(noisy, clean) - reference) < 0.5


def test_detail_weighted_crops_are_more_detailed(val_photos):
    generator = torch.Generator().manual_seed(0)
    part = stream.Part('pixelation', (4, 4), 1.0)
    plain, weighted = (stream.PairStream(val_photos, photo_side=None, detail=detail).make(
        part, 600, generator, with_clean=True) for detail in (0.0, 1.0))
    assert harness_psnr(weighted[0], weighted[2]) < harness_psnr(plain[0], plain[2]) - 1


def test_only_pixelated_pairs_are_cut_from_whole_scenes(val_photos):
    """As build_data: a pixelated pair's crop is the whole scene half of the time; a clean patch (under the other
    kinds) is a crop of a side log-uniform in [32, short side], never the whole scene."""
    pair_stream = stream.PairStream(val_photos, photo_side=None, detail=0.0)
    factors = torch.full((2000,), 4)
    for whole_scenes, low, high in ((True, 0.45, 0.55), (False, 0.0, 0.0)):
        photo, _, _, side = pair_stream._crops(factors, torch.Generator().manual_seed(0), whole_scenes)
        whole = side == pair_stream.pyramids.sizes[photo].min(1).values.float()
        assert low <= whole.float().mean().item() <= high


def test_the_other_kinds_go_on_the_clean_patch(val_photos):
    pair_stream = stream.PairStream(val_photos)
    generator = torch.Generator().manual_seed(0)
    noisy, other, clean, factors = pair_stream.make(stream.Part('clean', None, 1.0), 50, generator)
    assert torch.equal(noisy, clean) and torch.equal(other, clean) and factors.eq(1).all()
    noisy, other, clean, _ = pair_stream.make(stream.Part('gaussian', (20.0, 20.0), 1.0), 400, generator)
    residual = noisy.float() - clean.float()
    inside = (clean > 70) & (clean < 185)  # away from the clamping at 0 and 255
    assert abs(residual[inside].std().item() - 20) < 0.5 and abs(residual[inside].mean().item()) < 0.3
    assert not torch.equal(noisy, other)
    noisy, _, clean, _ = pair_stream.make(stream.Part('poisson-gaussian', None, 1.0), 400, generator)
    # Shot noise: brighter pixels are noisier (variance gain · v + read²).
    residual, value = noisy.float() - clean.float(), clean.float()
    dark, bright = (value > 20) & (value < 60), (value > 150) & (value < 200)
    assert residual[dark].var() < residual[bright].var()


def test_a_stream_refuses_nonsense(val_photos):
    with pytest.raises(ValueError, match='at least 1 pair'):
        stream.PairStream(val_photos, pairs=0)
    with pytest.raises(ValueError, match='detail'):
        stream.PairStream(val_photos, detail=-1)
    for photo_side in (-1, 16):
        with pytest.raises(ValueError, match='photo_side'):
            stream.PairStream(val_photos, photo_side=photo_side)


@pytest.mark.parametrize('model_class', [mp2.Model, mp1.Model])
def test_train_takes_each_epochs_pairs_from_epoch_pairs(model_class):
    torch.manual_seed(0)
    model = model_class(width=8)
    noisy, other, _ = noisy_pairs(32)
    asked = []

    def epoch_pairs(epoch):
        asked.append(epoch)
        return noisy_pairs(32, seed=epoch)[:2]
    model.train(noisy, other, 3, batch_size=8, verbose=False, seed=0, epoch_pairs=epoch_pairs)
    assert asked == [2, 3]
    # Fresh pairs change the training: the same call with the first pairs every epoch ends elsewhere.
    torch.manual_seed(0)
    repeated = model_class(width=8)
    repeated.train(noisy, other, 3, batch_size=8, verbose=False, seed=0)
    assert any(not torch.equal(a, b) for a, b in zip(parameters_of(model), parameters_of(repeated)))
    with pytest.raises(ValueError, match='two tensors of shape'):
        model_class(width=8).train(noisy, other, 2, batch_size=8, verbose=False,
                                   epoch_pairs=lambda epoch: noisy_pairs(16)[:2])


def parameters_of(model):
    return [parameter.clone() for parameter in (model.network.parameters() if hasattr(model.network, 'parameters')
                                                 else (p for p, _ in model.network.param()))]


def test_the_training_command_records_the_stream(tmp_path, val_photos, monkeypatch):
    monkeypatch.setattr(stream.PairStream, 'of_folders',
                        classmethod(lambda cls, folders, *options: cls(val_photos, *options)))
    val = noisy_pairs(8)
    (tmp_path / 'data').mkdir()
    torch.save((val[0], val[2].round().to(torch.uint8)), tmp_path / 'data' / 'val_data.pkl')
    train.main(['--data', str(tmp_path / 'data'), '--stream', 'pixelation 2:4 1, clean 1', '--pairs', '64',
                '--epochs', '2', '--width', '8', '--out', str(tmp_path / 'best.pth'), '--history',
                str(tmp_path / 'history.json'), '--seed', '3', '--snapshots', str(tmp_path / 'snapshots')])
    record = json.loads((tmp_path / 'history.json').read_text())
    assert record['stream'] == {'mix': 'pixelation 2:4 1, clean 1', 'pairs': 64, 'photos': 3,
                                'photo_side': stream.PHOTO_SIDE, 'detail': stream.DETAIL, 'seed': 3}
    assert record['train_size'] == 64 and len(record['history']) == 2
    assert all(epoch['pairs_seconds'] > 0 for epoch in record['history'])
    assert sorted(path.name for path in (tmp_path / 'snapshots').iterdir()) == ['seed3-epoch001.pth',
                                                                                'seed3-epoch002.pth']
    with pytest.raises(SystemExit):
        train.main(['--data', str(tmp_path / 'data'), '--photos', 'photos'])


def test_the_command_writes_an_epoch_and_measures_detail(tmp_path, val_photos, monkeypatch, capsys):
    monkeypatch.setattr(stream.PairStream, 'of_folders',
                        classmethod(lambda cls, folders, *options: cls(val_photos, *options)))
    val = noisy_pairs(4)
    (tmp_path / 'data').mkdir()
    torch.save((val[0], val[1]), tmp_path / 'data' / 'val_data.pkl')
    stream.main(['write', '--out', str(tmp_path / 'fixed'), '--pairs', '40', '--seed', '2', '--mix', 'clean 1',
                 '--val-from', str(tmp_path / 'data')])
    first, second = torch.load(tmp_path / 'fixed' / 'train_data.pkl', weights_only=True)
    expected = stream.PairStream(val_photos, 'clean 1', 40, 2).epoch(1)
    assert torch.equal(first, expected[0]) and torch.equal(second, expected[1])
    assert torch.equal(torch.load(tmp_path / 'fixed' / 'val_data.pkl', weights_only=True)[1], val[1])

    (tmp_path / 'reference').mkdir()
    val_photos[0].save(tmp_path / 'reference' / 'one.png')
    stream.main(['detail', '--reference', str(tmp_path / 'reference'), '--settings', 'none:0', '400:1',
                 '--pairs', '50'])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[0].startswith('| photos | photo side | detail | factor 2 |')
    assert lines[2].startswith(f"| {tmp_path / 'reference'} | as they are | 0 | ")
    assert lines[3].startswith('| bundled | as they are | 0 | ') and lines[4].startswith('| bundled | 400 | 1 | ')
    plain, weighted = ([float(cell) for cell in line.strip(' |').split(' | ')[3:]] for line in lines[3:])
    assert all(a > b for a, b in zip(plain, weighted))  # detail-weighted crops are noisier at every factor
    with pytest.raises(SystemExit, match='at least 1 pair'):
        stream.main(['write', '--out', str(tmp_path / 'none'), '--pairs', '0'])
