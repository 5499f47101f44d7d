"""Tests of the robustness evaluation (others/robustness.py) on a small validation set."""
import json

import numpy as np
import pytest
import torch

from Proj_123456_654321.Miniproject_2.others import baselines, noises, robustness
from Proj_123456_654321.Miniproject_2.others.noises import Pixelation


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp('small_val')
    # Smooth images (gradients of random slopes), which denoisers can tell from the noise.
    rng = np.random.default_rng(0)
    rows, columns = np.mgrid[0:32, 0:32]
    clean = np.stack([60 + rng.uniform(0, 3) * rows + rng.uniform(0, 3) * columns for _ in range(12 * 3)])
    clean = torch.from_numpy(clean.reshape(12, 3, 32, 32).astype(np.uint8))
    torch.save((clean, clean), folder / 'val_data.pkl')
    return folder


def test_the_noisy_images_depend_only_on_the_set_and_the_noise():
    clean = np.full((4, 3, 32, 32), 100, np.uint8)
    first = robustness.noisy_images(clean, 'data', 'gaussian-25')
    assert np.array_equal(first, robustness.noisy_images(clean, 'data', 'gaussian-25'))
    assert not np.array_equal(first, robustness.noisy_images(clean, 'data_val2', 'gaussian-25'))
    assert not np.array_equal(first, robustness.noisy_images(clean, 'data', 'gaussian-30'))


def test_the_bm3d_subset_is_seeded_sorted_and_distinct():
    subset = robustness.bm3d_subset(1000, 64)
    assert np.array_equal(subset, robustness.bm3d_subset(1000, 64))
    assert len(set(subset)) == 64 and np.all(np.diff(subset) > 0) and subset.max() < 1000
    assert len(robustness.bm3d_subset(10, 64)) == 10


def test_per_image_psnr_is_the_harness_s():
    clean = torch.rand(5, 3, 8, 8)
    noisy = (clean + 0.1 * torch.randn_like(clean)).clamp(0, 1)
    expected = -10 * torch.log10(((noisy - clean) ** 2).mean((1, 2, 3)))
    assert np.allclose(robustness.per_image_psnr(noisy.numpy(), clean.numpy()), expected.double().numpy())


def test_noise_std_of_a_psd_is_the_pixel_std():
    given = robustness.CORRELATED.bm3d_noise(np.zeros((3, 32, 32)), 0)
    assert robustness.noise_std(given) == pytest.approx(25 / 255)
    assert robustness.noise_std(0.1) == 0.1


def test_paired_difference():
    row, reference = {'subset_psnr_db': [30.0, 31.0, 29.0, 30.0]}, {'subset_psnr_db': [29.0, 29.0, 29.0, 29.0]}
    mean, error = robustness.paired_difference(row, reference)
    assert mean == pytest.approx(1.0) and error == pytest.approx(np.std([1, 2, 0, 1], ddof=1) / 2)
    other_subset = {'subset_psnr_db': [29.0, 29.0], 'method': 'bm3d', 'set': 's', 'noise': 'n'}
    with pytest.raises(ValueError, match='--bm3d-images'):
        robustness.paired_difference(dict(row, method='mp2', set='s', noise='n'), other_subset)


def test_run_stores_rows_resumes_and_summarises(small_set, tmp_path):
    path = tmp_path / 'results.json'
    calls = []

    def identity(noisy, clean, noise, workers):
        calls.append(len(noisy))
        return noisy / 255

    methods = {'noisy': identity, 'nlm': robustness.denoise_nlm}
    noises = ('gaussian-10', 'correlated')
    robustness.run([small_set], methods, bm3d_images=4, path=path, noise_names=noises, log=lambda line: None)
    rows = json.loads(path.read_text())['rows']
    assert len(rows) == 4 and {row['images'] for row in rows} == {12}
    assert all(len(row['subset_psnr_db']) == 4 for row in rows)
    nlm = robustness.find_row({'rows': rows}, small_set.name, 'gaussian-10', 'nlm')
    noisy = robustness.find_row({'rows': rows}, small_set.name, 'gaussian-10', 'noisy')
    assert nlm['psnr_db'] > noisy['psnr_db']
    # A second run finds its rows done; --force redoes them.
    robustness.run([small_set], methods, bm3d_images=4, path=path, noise_names=noises, log=lambda line: None)
    assert len(calls) == 2
    robustness.run([small_set], {'noisy': identity}, bm3d_images=4, path=path, noise_names=noises, force=True,
                   log=lambda line: None)
    assert len(calls) == 4 and len(json.loads(path.read_text())['rows']) == 4

    # BM3D on its subset, told the correlated noise's spectrum, beats the input.
    robustness.run([small_set], {'bm3d': robustness.denoise_bm3d}, bm3d_images=4, path=path,
                   noise_names=('correlated',), log=lambda line: None)
    results = json.loads(path.read_text())
    bm3d = robustness.find_row(results, small_set.name, 'correlated', 'bm3d')
    noisy = robustness.find_row(results, small_set.name, 'correlated', 'noisy')
    assert bm3d['images'] == 4 and np.mean(bm3d['subset_psnr_db']) > np.mean(noisy['subset_psnr_db']) + 3
    robustness.summary(path)
    text = (tmp_path / 'summary.md').read_text()
    assert 'correlated (3×3 binomial, σ = 25)' in text and 'nlm − BM3D' in text
    assert (tmp_path / 'robustness.png').stat().st_size > 0


def test_bm3d_takes_a_psd_per_image():
    clean = np.full((1, 3, 32, 32), 0.5)
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    psd = noises.Correlated(sigma=25.5, kernel=((1,),)).bm3d_noise(clean[0], 0)
    assert np.allclose(baselines.denoise_bm3d(noisy, noise=[psd]), baselines.denoise_bm3d(noisy, noise=0.1),
                       atol=1e-3)


def test_the_gaussian_sets_keep_the_seeds_of_their_former_names():
    clean = np.full((4, 3, 32, 32), 100, np.uint8)
    assert np.array_equal(robustness.noisy_images(clean, 'data_gaussian', 'gaussian-25'),
                          robustness.noisy_images(clean, 'data', 'gaussian-25'))
    assert np.array_equal(robustness.noisy_images(clean, 'data_val2_gaussian', 'correlated'),
                          robustness.noisy_images(clean, 'data_val2', 'correlated'))


def test_classical_denoisers_are_told_each_image_s_residual_under_pixelation():
    clean = np.full((2, 3, 4, 4), 100.0)
    noisy = clean.copy()
    noisy[1, :, 0, 0] = 100 + 255
    given = robustness.noise_given(robustness.NOISES['pixelation-4'], noisy, clean)
    assert given[0] == 0 and given[1] == pytest.approx(np.std([1] * 3 + [0] * 45))


@pytest.fixture(scope='module')
def photo_folder(tmp_path_factory):
    """Three smooth photos of 256 pixels a side, textured so that pixelation leaves a residual."""
    from PIL import Image
    folder = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(1)
    rows, columns = np.mgrid[0:256, 0:256]
    for index in range(3):
        image = np.stack([128 + 100 * np.sin((rows * rng.uniform(0.05, 0.3) + columns * rng.uniform(0.05, 0.3)))
                          for _ in range(3)], axis=-1)
        Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(folder / f'photo{index}.png')
    return folder


def test_pixelation_rows_come_from_the_set_s_photos(small_set, photo_folder, tmp_path):
    path = tmp_path / 'results.json'
    lines = []
    methods = {'noisy': lambda noisy, clean, noise, workers: noisy / 255, 'blur': robustness.denoise_blur}
    noise_names = ('pixelation-2', 'pixelation-8', 'gaussian-25')
    robustness.run([small_set, small_set], methods, bm3d_images=4, path=path, noise_names=noise_names,
                   photos=[str(photo_folder)], log=lines.append)
    results = robustness.read_results(path)
    # The first set has photos: all three noises; the second (the same folder, so the same name) is told
    # none and says which rows it leaves out.
    assert {(row['noise'], row['method']) for row in results['rows']} == \
        {(noise, method) for noise in noise_names for method in methods}
    assert any('no --photos, so no rows of pixelation-2, pixelation-8' in line for line in lines)
    name = small_set.name
    noisy_8, clean_8 = robustness.pixelated_images(robustness.set_photos(str(photo_folder)), 12, name,
                                                   'pixelation-8')
    assert noisy_8.shape == clean_8.shape == (12, 3, 32, 32)
    expected = robustness.per_image_psnr(noisy_8 / 255, clean_8 / 255).mean()
    assert robustness.find_row(results, name, 'pixelation-8', 'noisy')['psnr_db'] == pytest.approx(expected)
    # The factor sets the level: factor 8 leaves more of the texture in the residual than factor 2.
    psnr = {noise: robustness.find_row(results, name, noise, 'noisy')['psnr_db'] for noise in noise_names}
    assert psnr['pixelation-8'] < psnr['pixelation-2']
    for noise in noise_names:
        assert robustness.find_row(results, name, noise, 'blur')['psnr_db'] > psnr[noise]
    robustness.summary(path)
    text = (tmp_path / 'summary.md').read_text()
    assert 'pixelation, factor 8' in text
    assert (tmp_path / 'robustness.png').stat().st_size > 0


# The target gap (`robustness target-gap`): the footprint-mean "noise", the box average of each output pixel's
# footprint, drawn on the pixelation's own generator, so that every patch after it is the pixelation's.

@pytest.mark.parametrize('seed', range(20))
def test_footprint_mean_is_the_box_average_and_draws_as_the_pick_does(seed):
    rng = np.random.default_rng(seed)
    factor = int(rng.integers(1, 7))
    height, width = (int(side) for side in rng.integers(1, 9, size=2))
    high_res = rng.integers(0, 256, size=(height * factor, width * factor, 3), dtype=np.uint8)
    picked = np.random.default_rng(seed + 100)
    means = robustness.FootprintMean((factor, factor)).pick(high_res, factor, picked)
    expected = np.empty((3, height, width))
    for row in range(height):
        for column in range(width):
            block = high_res[row * factor:(row + 1) * factor, column * factor:(column + 1) * factor]
            expected[:, row, column] = block.reshape(-1, 3).mean(axis=0)
    assert means.dtype == np.uint8 and means.shape == (3, height, width)
    assert np.abs(means - expected).max() <= 0.5
    reference = np.random.default_rng(seed + 100)
    Pixelation.pick(high_res, factor, reference)
    assert picked.integers(1 << 30) == reference.integers(1 << 30)


def test_target_gap_scores_the_footprint_mean_of_every_pixelation_row(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(robustness, 'TARGET_GAP_FILE', tmp_path / 'target_gap.json')
    images = torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8)
    torch.save((images, images), tmp_path / 'val_data.pkl')
    robustness.main(['target-gap', '--data', str(tmp_path), '--photos', 'bundled'])
    rows = json.loads((tmp_path / 'target_gap.json').read_text())['rows']
    assert [row['noise'] for row in rows] == list(robustness.PIXELATION_NOISES)
    # no robustness rows of this set: the columns of the other methods are empty
    assert all(row['images'] == 3 and row['set'] == tmp_path.name and row['mp2_db'] is None for row in rows)
    assert all(15 < row['footprint_mean_db'] < 60 for row in rows)
    assert 'footprint mean' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        robustness.main(['target-gap', '--data', str(tmp_path)])


def test_candidate_scores_weights_files_beside_the_stored_rows(small_set, photo_folder, tmp_path):
    from Proj_123456_654321.Miniproject_2 import model as mp2
    paths = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        paths.append(mp2.Model().save_model(tmp_path / f'weights{seed}.pth'))
    stored = {'rows': [{'set': small_set.name, 'noise': 'gaussian-10', 'method': method, 'psnr_db': value}
                       for method, value in (('noisy', 28.123), ('mp2', 31.456))]}
    table = robustness.candidate(paths, 2, [small_set], [str(photo_folder)], ['gaussian-10', 'pixelation-4'],
                                 results=stored)
    lines = table.splitlines()
    assert len(lines) == 4 and str(paths[1]) in lines[0]
    assert lines[2].startswith(f'| {small_set.name} | gaussian-10 | 28.12 | – | 31.46 | ')
    assert lines[3].startswith(f'| {small_set.name} | pixelation-4 | – | – | – | ')
    # Each file's own score: two random networks score differently.
    first, second = (float(cell) for cell in lines[2].strip(' |').split(' | ')[-2:])
    assert first != second
