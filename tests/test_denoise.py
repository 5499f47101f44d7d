"""The denoise command: outputs, --add-noise, PSNR report, tiling, refusals and errors."""
import re

import numpy as np
import pytest
from PIL import Image

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2
from Proj_123456_654321.Miniproject_2.others.denoise import denoise, main, psnr

PSNR_LINE = re.compile(r'PSNR noisy ([\d.]+) dB, denoised ([\d.]+) dB')


def gradient(height, width, low=64, high=192):
    """A smooth uint8 RGB image [H, W, 3]: noise is all a denoiser should remove."""
    y, x = np.mgrid[0:height, 0:width]
    ramp = low + (high - low) * (x / max(width - 1, 1) + y / max(height - 1, 1)) / 2
    return np.stack([ramp, ramp[::-1], np.full_like(ramp, (low + high) / 2)], -1).round().astype(np.uint8)


def save(path, pixels, mode=None, **options):
    image = Image.fromarray(pixels)
    (image.convert(mode) if mode else image).save(path, **options)
    return str(path)


def pixels(path):
    return np.asarray(Image.open(path))


def reported_psnrs(output):
    return [tuple(map(float, match)) for match in PSNR_LINE.findall(output)]


def test_outputs_are_rgb_images_of_the_input_size(tmp_path, capsys):
    image = gradient(29, 37)
    inputs = [save(tmp_path / 'rgb.png', image), save(tmp_path / 'photo.jpg', image),
              save(tmp_path / 'grey.png', image, 'L'), save(tmp_path / 'alpha.png', image, 'RGBA'),
              save(tmp_path / 'palette.png', image, 'P')]
    out = tmp_path / 'out'
    main([*inputs, '--out', str(out)])
    names = ['rgb', 'photo', 'grey', 'alpha', 'palette']
    assert sorted(p.name for p in out.iterdir()) == sorted(f'{name}_denoised.png' for name in names)
    for name in names:
        with Image.open(out / f'{name}_denoised.png') as result:
            assert result.size == (37, 29) and result.mode == 'RGB'
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(inputs) and all('37×29' in line and 'PSNR' not in line for line in lines)


def test_exif_orientation_and_16_bit_pngs_are_honoured(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: viewers show the 37×29 pixels as 29×37
    rotated = save(tmp_path / 'rotated.jpg', gradient(29, 37), exif=exif)
    deep = tmp_path / 'deep.png'
    Image.fromarray((gradient(32, 32)[..., 0].astype(np.uint16) * 257)).save(deep)
    main([rotated, str(deep), '--out', str(tmp_path)])
    assert Image.open(tmp_path / 'rotated_denoised.png').size == (29, 37)
    # Clipping 16-bit values to 8 bits would give a white image.
    assert abs(pixels(tmp_path / 'deep_denoised.png').mean() - gradient(32, 32)[..., 0].mean()) < 10


def test_add_noise_is_reproducible_and_reports_the_noisy_psnr(tmp_path, capsys):
    clean = gradient(29, 37, low=120, high=136)
    image = save(tmp_path / 'grey.png', clean)
    for out, seed in [('a', '0'), ('b', '0'), ('c', '1')]:
        main([image, '--out', str(tmp_path / out), '--add-noise', '--seed', seed])
    (noisy, denoised), = reported_psnrs(capsys.readouterr().out)[:1]
    first, again, other = ((tmp_path / out / 'grey_noisy.png').read_bytes() for out in 'abc')
    assert first == again and first != other
    expected = psnr(pixels(tmp_path / 'a' / 'grey_noisy.png'), clean)
    assert noisy == pytest.approx(expected, abs=0.005)
    assert 19.5 < noisy < 21.5  # σ = 25 on the 0-255 scale: 20.17 dB before clipping
    assert denoised == pytest.approx(psnr(pixels(tmp_path / 'a' / 'grey_denoised.png'), clean), abs=0.005)


def test_the_shipped_model_denoises_a_smooth_image(tmp_path, capsys):
    clean = gradient(64, 64)
    main([save(tmp_path / 'smooth.png', clean), '--out', str(tmp_path / 'out'), '--add-noise'])
    (noisy, denoised), = reported_psnrs(capsys.readouterr().out)
    assert denoised > noisy + 3


def test_miniproject_1_works_too(tmp_path, capsys):
    clean = gradient(32, 32)
    main([save(tmp_path / 'smooth.png', clean), '--out', str(tmp_path), '--add-noise', '--miniproject', '1'])
    (noisy, denoised), = reported_psnrs(capsys.readouterr().out)
    assert denoised > noisy
    assert Image.open(tmp_path / 'smooth_denoised.png').size == (32, 32)


@pytest.mark.parametrize('model_class', [mp2.Model, mp1.Model])
def test_tiles_give_the_image_of_one_pass(model_class):
    model = model_class(width=8)  # untrained: the receptive field does not depend on the weights
    noisy = np.random.default_rng(0).integers(0, 256, (3, 150, 130), dtype=np.uint8)
    whole = denoise(model, noisy, tile_size=1024)
    tiled = denoise(model, noisy, tile_size=48)
    assert np.abs(tiled.astype(int) - whole).max() <= 1  # float summation order may flip a rounding
    assert not np.array_equal(denoise(model, noisy, tile_size=48, margin=0), whole), 'the margin matters'


def test_existing_outputs_are_kept_unless_forced(tmp_path, capsys):
    image = save(tmp_path / 'x.png', gradient(29, 37))
    out = tmp_path / 'out'
    main([image, '--out', str(out), '--add-noise'])
    before = (out / 'x_noisy.png').read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        main([image, '--out', str(out), '--add-noise', '--seed', '1'])
    assert exit_info.value.code == 1 and '--force' in capsys.readouterr().err
    assert (out / 'x_noisy.png').read_bytes() == before
    main([image, '--out', str(out), '--add-noise', '--seed', '1', '--force'])
    assert (out / 'x_noisy.png').read_bytes() != before
    assert sorted(p.name for p in out.iterdir()) == ['x_denoised.png', 'x_noisy.png'], 'no temporary files left'


def missing_input(tmp_path):
    return [str(tmp_path / 'missing.png')]


def unreadable_input(tmp_path):
    (tmp_path / 'bad.png').write_bytes(b'not an image')
    return [str(tmp_path / 'bad.png')]


def out_is_a_file(tmp_path):
    return ['--out', save(tmp_path / 'file.png', gradient(4, 4))]


def two_inputs_one_output(tmp_path):
    return [save(tmp_path / 'x.png', gradient(4, 4)), save(tmp_path / 'x.jpg', gradient(4, 4))]


def model_of_another_configuration(tmp_path):
    mp2.Model(width=8).save_model(tmp_path / 'other.pth')
    return ['--model', str(tmp_path / 'other.pth')]


@pytest.mark.parametrize('problem, expected', [
    (missing_input, 'missing.png'), (unreadable_input, 'bad.png'), (out_is_a_file, 'not a folder'),
    (two_inputs_one_output, 'both write'), (model_of_another_configuration, 'width=8'),
])
def test_errors_exit_with_one_line_and_write_nothing(tmp_path, capsys, problem, expected):
    good = save(tmp_path / 'good.png', gradient(8, 8))
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as exit_info:
        main([good, '--out', str(out), *problem(tmp_path)])
    error = capsys.readouterr().err
    assert exit_info.value.code == 1 and error.startswith('denoise: error: ') and error.count('\n') == 1
    assert expected in error and 'Traceback' not in error
    assert not out.exists() or not any(out.iterdir())
