"""The classical baselines script ``Miniproject_2/others/baselines.py``: its PSNR is the harness's, each
denoiser helps on smooth noisy images, and a tiny end-to-end run writes the JSON it promises."""
import json

import numpy as np
import pytest
import torch

from Proj_123456_654321.Miniproject_2.others import baselines


def harness_psnr(denoised, clean):
    """test.py's formula, copied (importing ``test`` would find the standard library's package)."""
    mse = ((denoised - clean) ** 2).mean((1, 2, 3))
    return (-10 * torch.log10(mse)).mean().item()


def smooth_pairs(count=3, seed=0):
    """``count`` smooth 32×32 RGB images (uint8) and their noisy versions made as the data recipe does:
    ``clamp(round(clean + 25·N(0, 1)), 0, 255)``."""
    generator = torch.Generator().manual_seed(seed)
    coordinates = torch.linspace(0, 1, 32)
    rows, columns = coordinates.view(32, 1), coordinates.view(1, 32)
    clean = torch.empty(count, 3, 32, 32)
    for index in range(count):
        for channel in range(3):
            a, b, c, d = (torch.rand(4, generator=generator) * 2 * torch.pi).tolist()
            clean[index, channel] = 128 + 60 * torch.sin(2 * rows + a) * torch.cos(3 * columns + b) \
                + 30 * torch.sin(4 * (rows + columns) + c + d)
    clean = clean.round().clamp(0, 255)
    noisy = (clean + 25 * torch.randn(clean.shape, generator=generator)).round().clamp(0, 255)
    return noisy.to(torch.uint8), clean.to(torch.uint8)


@pytest.fixture(scope='module')
def smooth_images():
    noisy, clean = smooth_pairs()
    return noisy.double().numpy() / 255, clean.double().numpy() / 255


def test_psnr_of_a_constant_error_of_one_tenth_is_20_db():
    clean = np.full((2, 3, 4, 4), 0.5)
    assert baselines.psnr(clean + 0.1, clean) == pytest.approx(20, abs=1e-4)


def test_psnr_averages_the_per_image_values_like_the_harness():
    clean = np.zeros((2, 3, 4, 4))
    denoised = clean + np.array([0.1, 0.01]).reshape(2, 1, 1, 1)
    assert baselines.psnr(denoised, clean) == pytest.approx(30, abs=1e-4)  # (20 + 40) / 2, not 25.2
    generator = torch.Generator().manual_seed(0)
    clean, denoised = torch.rand(5, 3, 8, 8, generator=generator), torch.rand(5, 3, 8, 8, generator=generator)
    assert baselines.psnr(denoised.numpy(), clean.numpy()) == harness_psnr(denoised, clean)


def test_blur_with_a_tiny_sigma_is_the_identity(smooth_images):
    noisy, _ = smooth_images
    np.testing.assert_allclose(baselines.denoise_blur(noisy, 0.05), noisy, atol=1e-12)


def assert_improves(denoised, noisy, clean):
    assert denoised.shape == noisy.shape and denoised.min() >= 0 and denoised.max() <= 1
    assert baselines.psnr(denoised, clean) > baselines.psnr(noisy, clean) + 3


@pytest.mark.parametrize('denoise', [lambda noisy: baselines.denoise_blur(noisy, 1.0),
                                     lambda noisy: baselines.denoise_nlm(noisy, 0.8 * baselines.NOISE_SIGMA)],
                         ids=['blur', 'nlm'])
def test_blur_and_nlm_improve_smooth_noisy_images(smooth_images, denoise):
    noisy, clean = smooth_images
    assert_improves(denoise(noisy), noisy, clean)


def test_bm3d_improves_smooth_noisy_images_and_its_workers_change_nothing(smooth_images):
    noisy, clean = smooth_images[0][:2], smooth_images[1][:2]
    serial = baselines.denoise_bm3d(noisy, workers=1)
    assert_improves(serial, noisy, clean)
    progress = []
    parallel = baselines.denoise_bm3d(noisy, workers=2, progress=lambda done, total: progress.append((done, total)))
    assert progress == [(1, 2), (2, 2)]
    np.testing.assert_array_equal(parallel, serial)  # in order, and single-threaded BM3D is deterministic


def test_a_missing_model_is_skipped_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(baselines, 'PROJECT_FOLDER', tmp_path / 'Proj_0_0')
    model, reason = baselines.load_miniproject_model(1)
    assert model is None and 'Miniproject_1/model.py does not exist' in reason


def test_main_writes_the_table_as_json(tmp_path, capsys):
    torch.save(smooth_pairs(count=4, seed=1), tmp_path / 'val_data.pkl')
    output = tmp_path / 'results' / 'baselines.json'
    baselines.main(['--data', str(tmp_path), '--limit', '4', '--workers', '1', '--skip', 'mp1', 'bm3d',
                    '--json', str(output)])
    results = json.loads(output.read_text())

    assert results['tuning'] == 'oracle, on the evaluated images'
    assert results['images'] == 4 and results['limit'] == 4
    assert [row['key'] for row in results['methods']] == ['noisy', 'blur', 'median', 'nlm', 'mp2']
    for row in results['methods']:
        assert {'method', 'parameter', 'psnr_db', 'gain_db', 'seconds'} <= set(row)
    noisy_row, blur, median, nlm, _ = results['methods']
    assert noisy_row['gain_db'] == 0
    assert [entry['sigma'] for entry in blur['sweep']] == list(baselines.BLUR_SIGMAS)
    assert [entry['size'] for entry in median['sweep']] == list(baselines.MEDIAN_SIZES)
    assert median['psnr_db'] == max(entry['psnr_db'] for entry in median['sweep']) and median['gain_db'] > 0
    assert results['noise_sigma_255'] is None
    assert [entry['h_over_sigma'] for entry in nlm['sweep']] == list(baselines.NLM_H_FACTORS)
    assert blur['psnr_db'] == max(entry['psnr_db'] for entry in blur['sweep'])
    assert nlm['chosen']['h_over_sigma'] in baselines.NLM_H_FACTORS
    assert blur['gain_db'] > 0 and nlm['gain_db'] > 0
    assert results['skipped'] == []
    printed = capsys.readouterr().out
    assert 'Gaussian blur' in printed and 'BM3D' not in printed and 'Mini-project 1' not in printed


def test_keep_takes_rows_from_the_earlier_run_of_the_same_images_only(tmp_path, capsys):
    torch.save(smooth_pairs(count=4, seed=2), tmp_path / 'val_data.pkl')
    output = tmp_path / 'baselines.json'
    common = ['--data', str(tmp_path), '--workers', '1', '--json', str(output)]
    baselines.main([*common, '--limit', '3', '--skip', 'nlm', 'bm3d', 'mp2', 'mp1'])
    first = json.loads(output.read_text())

    baselines.main([*common, '--limit', '3', '--keep', 'blur', '--skip', 'median', 'bm3d', 'mp2', 'mp1'])
    second = json.loads(output.read_text())
    assert [row['key'] for row in second['methods']] == ['noisy', 'blur', 'nlm']
    kept_blur = second['methods'][1]
    assert kept_blur['kept_from'] == first['date']
    assert {key: value for key, value in kept_blur.items() if key != 'kept_from'} == first['methods'][1]
    assert '(kept from the run of' in capsys.readouterr().out

    with pytest.raises(SystemExit, match='evaluated other images'):
        baselines.main([*common, '--limit', '4', '--keep', 'blur', '--skip', 'nlm', 'bm3d', 'mp2', 'mp1'])
    # Other images under the same folder name: the noisy input's PSNR tells them apart.
    torch.save(smooth_pairs(count=4, seed=3), tmp_path / 'val_data.pkl')
    with pytest.raises(SystemExit, match='evaluated other images'):
        baselines.main([*common, '--limit', '3', '--keep', 'blur', '--skip', 'nlm', 'bm3d', 'mp2', 'mp1'])
    torch.save(smooth_pairs(count=4, seed=2), tmp_path / 'val_data.pkl')
    with pytest.raises(SystemExit, match='has no row for bm3d'):
        baselines.main([*common, '--limit', '3', '--keep', 'bm3d', '--skip', 'blur', 'nlm', 'mp2', 'mp1'])
    assert json.loads(output.read_text()) == second, 'a refused --keep leaves the file as it was'
    with pytest.raises(SystemExit, match='told σ = None, now 25'):
        baselines.main([*common, '--limit', '3', '--sigma', '25', '--keep', 'blur', '--skip', 'median', 'nlm', 'bm3d',
                        'mp2', 'mp1'])
    with pytest.raises(SystemExit):
        baselines.main([*common, '--keep', 'blur', '--skip', 'blur'])


def test_median_takes_the_median_of_each_channel_s_window():
    image = np.zeros((1, 3, 5, 5))
    image[0, 1, 2, 2] = 1.0
    image[0, 2] = 0.5
    denoised = baselines.denoise_median(image, 3)
    assert np.array_equal(denoised[0, 1], np.zeros((5, 5))) and np.array_equal(denoised[0, 2], image[0, 2])


def test_nlm_and_bm3d_are_told_each_image_s_residual_or_the_given_sigma(monkeypatch):
    told = []
    monkeypatch.setattr(baselines, 'denoise_bm3d', lambda noisy, workers, progress, noise: told.append(noise) or noisy)
    clean = torch.full((2, 3, 8, 8), 100, dtype=torch.uint8)
    noisy = clean.clone()
    noisy[1, :, 0, 0] = 200
    baselines.evaluate(noisy, clean, skip={'blur', 'median', 'nlm', 'mp2', 'mp1'}, workers=1, log=lambda line: None)
    residual = np.array([100 / 255] * 3 + [0] * 189)
    assert told[0] == [0.0, pytest.approx(residual.std())]
    baselines.evaluate(noisy, clean, skip={'blur', 'median', 'nlm', 'mp2', 'mp1'}, workers=1, log=lambda line: None,
                       sigma=25 / 255)
    assert told[1] == [25 / 255, 25 / 255]
