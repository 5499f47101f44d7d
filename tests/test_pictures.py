"""The picture grid ``Miniproject_2/others/pictures.py`` on a tiny validation set: its layout, its PSNRs (the
JSON beside the PNG), its choice of images and its one-line errors. The models are stand-ins, so the test
does not depend on the trained weights; NLM and BM3D are the real ones, on two or three 32×32 images."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from Proj_123456_654321.Miniproject_2.others import baselines, pictures
from Proj_123456_654321.Miniproject_2.others.build_data import add_noise

SCALE = 4
TILE = 32 * SCALE


class IdentityModel:
    """Returns its uint8 input as floats, as a model that learnt nothing would."""

    def predict(self, images):
        return images.float()


def smooth_set(count=3):
    """``(noisy, clean)`` uint8 ``[count, 3, 32, 32]``: colour gradients, noised as the data recipe does."""
    ramp = np.linspace(0, 1, 32)
    clean = np.empty((count, 3, 32, 32))
    for index in range(count):
        for channel in range(3):
            clean[index, channel] = 40 + 170 * np.add.outer(ramp * (channel + 1) / 3, ramp * (index + 1) / 4) / 2
    clean = np.rint(clean).astype(np.uint8)
    noisy = add_noise(clean, np.random.default_rng(0))
    return torch.from_numpy(noisy), torch.from_numpy(clean)


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """Data folder and baselines JSON in ``tmp_path``, stand-in models; returns the common arguments."""
    torch.save(smooth_set(), tmp_path / 'val_data.pkl')
    results = {'methods': [{'key': 'noisy', 'psnr_db': 20.0},
                           {'key': 'nlm', 'psnr_db': 27.0, 'chosen': {'h_over_sigma': 0.8, 'h': 0.08}}]}
    (tmp_path / 'baselines.json').write_text(json.dumps(results))
    monkeypatch.setattr(baselines, 'load_miniproject_model', lambda number: (IdentityModel(), None))
    return ['--data', str(tmp_path), '--baselines-json', str(tmp_path / 'baselines.json'),
            '--out', str(tmp_path / 'out' / 'pictures.png')]


def test_default_images_are_evenly_spaced_over_the_set():
    assert pictures.choose_indices(1000, 6, None) == [0, 200, 400, 599, 799, 999]
    assert pictures.choose_indices(3, 2, None) == [0, 2]
    assert pictures.choose_indices(3, 6, [2, 1]) == [2, 1]


def test_main_draws_the_grid_and_writes_every_psnr(inputs, tmp_path, capsys):
    summary = pictures.main(inputs + ['--count', '2'])
    png, written = tmp_path / 'out' / 'pictures.png', tmp_path / 'out' / 'pictures.json'
    assert f"written {png}" in capsys.readouterr().out
    assert sorted(path.name for path in png.parent.iterdir()) == ['pictures.json', 'pictures.png']  # no temp left

    pixels = np.asarray(Image.open(png).convert('RGB'))
    height, width = pixels.shape[:2]
    assert (width, height) == pictures.figure_size(2, 6, TILE)
    # 6 columns by 2 rows of 128-pixel tiles, plus margins and one line of text per row
    assert 6 * TILE < width < 6 * TILE + 80 and 2 * TILE < height < 2 * TILE + 120
    noisy, clean = smooth_set()
    for row, index in enumerate([0, 2]):  # nearest-neighbour upscale, drawn 1:1, in its place
        for column, image in ((0, noisy[index]), (5, clean[index])):
            left, top = pictures.tile_box(row, column, TILE)
            expected = image.numpy().transpose(1, 2, 0).repeat(SCALE, 0).repeat(SCALE, 1)
            np.testing.assert_array_equal(pixels[top:top + TILE, left:left + TILE], expected)

    assert json.loads(written.read_text()) == summary
    assert summary['indices'] == [0, 2] and summary['classical_parameters']['h_over_sigma'] == 0.8
    assert list(summary['psnr_db']) == ['noisy', 'mp2', 'nlm', 'bm3d', 'mp1'] and summary['skipped'] == {}
    noisy, clean = noisy[[0, 2]].double().numpy() / 255, clean[[0, 2]].double().numpy() / 255
    expected = [baselines.psnr(noisy[i:i + 1], clean[i:i + 1]) for i in range(2)]
    assert summary['psnr_db']['noisy'] == expected
    assert summary['psnr_db']['mp2'] == expected  # the identity stand-in
    assert summary['mean_psnr_db']['noisy'] == pytest.approx(np.mean(expected))
    for key in ('nlm', 'bm3d'):
        assert min(summary['psnr_db'][key]) > max(expected) + 3


def test_a_pixelated_set_shows_the_tuned_blur_between_the_input_and_the_models(inputs, tmp_path):
    results = {'methods': [{'key': 'noisy', 'psnr_db': 20.0}, {'key': 'blur', 'psnr_db': 24.0,
                                                                'chosen': {'sigma': 0.6}}]}
    (tmp_path / 'baselines.json').write_text(json.dumps(results))
    summary = pictures.main(inputs + ['--noise', 'pixelated', '--count', '2'])
    assert list(summary['psnr_db']) == ['noisy', 'blur', 'mp2', 'mp1']
    assert summary['noise'] == 'pixelated' and summary['classical_parameters']['blur'] == 0.6
    noisy, clean = (images[[0, 2]].double().numpy() / 255 for images in smooth_set())
    blurred = baselines.denoise_blur(noisy, 0.6)
    assert summary['psnr_db']['blur'] == [baselines.psnr(blurred[i:i + 1], clean[i:i + 1]) for i in range(2)]
    width, height = Image.open(tmp_path / 'out' / 'pictures.png').size
    assert (width, height) == pictures.figure_size(2, 5, TILE)


def test_a_model_that_cannot_load_leaves_its_column_out(inputs, tmp_path, monkeypatch):
    monkeypatch.setattr(baselines, 'load_miniproject_model',
                        lambda number: (None, 'gone') if number == 1 else (IdentityModel(), None))
    summary = pictures.main(inputs + ['--indices', '1', '--scale', '2'])
    assert summary['indices'] == [1] and summary['selection'] == 'given (--indices)'
    assert summary['skipped'] == {'mp1': 'gone'} and 'mp1' not in summary['psnr_db']
    width, height = Image.open(tmp_path / 'out' / 'pictures.png').size
    assert (width, height) == pictures.figure_size(1, 5, 64)


@pytest.mark.parametrize('change, message', [
    (['--data', 'nowhere'], 'val_data.pkl not found'),
    (['--baselines-json', 'nowhere.json'], 'run the baselines script first'),
    (['--indices', '0', '3'], 'bad: [3]'),
    (['--indices', '1', '1'], 'duplicates'),
    (['--count', '4'], '--count must be between 1 and the 3'),
    (['--scale', '0'], '--scale must be at least 1'),
], ids=['data', 'baselines', 'index', 'duplicate', 'count', 'scale'])
def test_bad_inputs_end_with_a_one_line_error(inputs, tmp_path, capsys, change, message):
    with pytest.raises(SystemExit) as exit_info:
        pictures.main(inputs + change)
    error = capsys.readouterr().err
    assert exit_info.value.code == 1 and message in error and error.count('\n') == 1
    assert not (tmp_path / 'out').exists()


def test_a_baselines_json_without_nlm_is_refused(inputs, tmp_path, capsys):
    (tmp_path / 'baselines.json').write_text(json.dumps({'methods': [{'key': 'noisy'}]}))
    with pytest.raises(SystemExit):
        pictures.main(inputs)
    assert 'no non-local means result' in capsys.readouterr().err
