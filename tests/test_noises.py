"""Tests of the noises (others/noises.py) and of the data builder's per-pair noise levels (build_data --sigma)."""
import numpy as np
import pytest
import torch

from Proj_123456_654321.Miniproject_2.others import build_data, noises

SHAPE = (3, 32, 32)


def grey(count, value=128):
    return np.full((count, *SHAPE), value, np.uint8)


def the_former_recipe(clean, rng):
    """build_data's noise before noises.py existed, kept here as the reference the σ-25 sets must equal."""
    values = rng.standard_normal(clean.shape, dtype=np.float32)
    values *= 25.0
    values += clean
    np.rint(values, out=values)
    np.clip(values, 0, 255, out=values)
    return values.astype(np.uint8)


@pytest.mark.parametrize('seed', range(5))
def test_gaussian_25_is_the_former_recipe_bit_for_bit(seed):
    clean = np.random.default_rng(100 + seed).integers(0, 256, (50, *SHAPE), dtype=np.uint8)
    assert np.array_equal(noises.Gaussian(25.0)(clean, np.random.default_rng(seed)),
                          the_former_recipe(clean, np.random.default_rng(seed)))


def test_gaussian_with_one_sigma_per_patch():
    sigmas = np.array([5, 20, 40, 0], dtype=np.float32).repeat(50)
    noisy = noises.Gaussian(sigmas)(grey(len(sigmas)), np.random.default_rng(0)).astype(float) - 128
    stds = noisy.reshape(4, -1).std(axis=1)
    assert np.allclose(stds[:3], [5, 20, 40], rtol=0.02) and stds[3] == 0


def test_gaussian_sigma_per_patch_spans_the_chunks(monkeypatch):
    monkeypatch.setattr(noises, 'NOISE_CHUNK', 3)
    sigmas = np.arange(10, dtype=np.float32) * 5
    noisy = noises.Gaussian(sigmas)(grey(10), np.random.default_rng(0)).astype(float) - 128
    assert np.allclose(noisy.reshape(10, -1).std(axis=1)[1:], sigmas[1:], rtol=0.06)


@pytest.mark.parametrize('value', [64, 96, 128, 160])
def test_poisson_gaussian_has_the_variance_of_its_model(value):
    noise = noises.PoissonGaussian(gain=4.0, read_sigma=8.0)
    noisy = noise(grey(300, value), np.random.default_rng(value)).astype(float)
    expected = np.sqrt(4.0 * value + 64)
    # Levels whose noise stays clear of 0 and 255 within 3 standard deviations: clipping would narrow it.
    assert abs(noisy.mean() - value) < 0.5 and abs(noisy.std() / expected - 1) < 0.03
    assert noise.bm3d_noise(grey(1, value)[0], 0) == pytest.approx(expected / 255)


def test_correlated_noise_has_its_std_and_its_kernel_s_correlation():
    noise = noises.Correlated(sigma=25.0, kernel=((1, 2, 1), (2, 4, 2), (1, 2, 1)))
    noisy = noise(grey(400), np.random.default_rng(0)).astype(float) - 128
    assert abs(noisy.std() - 25) < 0.3
    # [1, 2, 1] ⊗ [1, 2, 1]: horizontal neighbours correlate by (1·2 + 2·1) / (1 + 4 + 1) = 2/3.
    right = np.roll(noisy, 1, axis=3)
    correlation = (noisy * right).mean() / noisy.var()
    assert abs(correlation - 2 / 3) < 0.02


def test_the_psd_given_to_bm3d_is_white_noise_for_a_one_tap_kernel_and_keeps_the_variance():
    white = noises.Correlated(sigma=25.0, kernel=((1,),)).bm3d_noise(grey(1)[0], 0)
    assert np.allclose(white, (25 / 255) ** 2 * 32 * 32)
    blurred = noises.Correlated(sigma=25.0, kernel=((1, 2, 1), (2, 4, 2), (1, 2, 1))).bm3d_noise(grey(1)[0], 0)
    assert blurred.mean() == pytest.approx((25 / 255) ** 2 * 32 * 32)


@pytest.mark.parametrize('text, expected', [('25', (25.0, 25.0)), ('5:55', (5.0, 55.0)), ('0:0', (0.0, 0.0))])
def test_parse_sigma(text, expected):
    assert noises.parse_sigma(text) == expected


@pytest.mark.parametrize('text', ['55:5', '-1', 'nan', '5:inf', 'x', '5:'])
def test_parse_sigma_refuses(text):
    if text == '5:':
        assert noises.parse_sigma(text) == (5.0, 5.0)
        return
    with pytest.raises(ValueError):
        noises.parse_sigma(text)


def test_pair_sigmas_draw_nothing_for_one_value():
    rng = np.random.default_rng(0)
    assert noises.pair_sigmas((25.0, 25.0), 10, rng) == 25.0
    assert rng.random() == np.random.default_rng(0).random()
    drawn = noises.pair_sigmas((5.0, 55.0), 1000, rng)
    assert drawn.shape == (1000,) and 5 <= drawn.min() and drawn.max() <= 55 and 25 < drawn.mean() < 35


@pytest.fixture(scope='module')
def blind_and_plain(tmp_path_factory):
    folders = {}
    for name, sigma in (('plain', (25.0, 25.0)), ('blind', (5.0, 55.0))):
        folder = tmp_path_factory.mktemp(name)
        build_data.build(str(folder), n_train=400, n_val=200, seed=1, progress=False, noise=sigma)
        folders[name] = [torch.load(folder / file, weights_only=True) for file in ('train_data.pkl', 'val_data.pkl')]
    return folders


def test_blind_sets_keep_the_clean_patches_and_vary_the_noise_per_pair(blind_and_plain):
    (_, _), (plain_noisy, plain_clean) = blind_and_plain['plain']
    (first, second), (blind_noisy, blind_clean) = blind_and_plain['blind']
    assert torch.equal(plain_clean, blind_clean)
    # The two copies of a pair carry the same σ: their difference has std √2 σ, from under 10 to over 70.
    pair_stds = (first.float() - second.float()).flatten(1).std(dim=1)
    assert pair_stds.min() < 12 and pair_stds.max() > 65
    validation_stds = (blind_noisy.float() - blind_clean.float()).flatten(1).std(dim=1)
    assert validation_stds.min() < 9 and validation_stds.max() > 40


def test_the_command_line_takes_a_sigma_range(tmp_path):
    assert build_data.main(['--out', str(tmp_path), '--train', '40', '--val', '8', '--sigma', '10:20',
                            '--quiet']) == 0
    first, second = torch.load(tmp_path / 'train_data.pkl', weights_only=True)
    stds = (first.float() - second.float()).flatten(1).std(dim=1) / 2 ** 0.5
    assert 8 < stds.min() and stds.max() < 22
    with pytest.raises(SystemExit):
        build_data.main(['--out', str(tmp_path / 'x'), '--sigma', '20:10'])


def neighbour_correlation(noise):
    """The correlation of horizontally adjacent values of ``noise`` ``[N, 3, H, W]``."""
    noise = noise - noise.mean()
    return ((noise[..., :-1] * noise[..., 1:]).mean() / noise.pow(2).mean()).item()


def test_the_command_line_builds_a_set_of_another_noise_on_both_copies_and_validation(tmp_path):
    assert build_data.main(['--out', str(tmp_path / 'plain'), '--train', '200', '--val', '100', '--noise', 'gaussian',
                            '--quiet']) == 0
    assert build_data.main(['--out', str(tmp_path / 'correlated'), '--train', '200', '--val', '100',
                            '--noise', 'correlated', '--quiet']) == 0
    (plain_first, plain_second), (_, plain_clean) = (
        torch.load(tmp_path / 'plain' / file, weights_only=True) for file in ('train_data.pkl', 'val_data.pkl'))
    (first, second), (noisy, clean) = (
        torch.load(tmp_path / 'correlated' / file, weights_only=True) for file in ('train_data.pkl', 'val_data.pkl'))
    assert torch.equal(clean, plain_clean)
    # Two independent draws: their difference is noise alone, correlated between neighbours as the kernel says
    # (0.67 for the binomial blur, before clipping), where the plain set's is not.
    assert neighbour_correlation(first.float() - second.float()) > 0.55
    assert abs(neighbour_correlation(plain_first.float() - plain_second.float())) < 0.05
    assert neighbour_correlation(noisy.float() - clean.float()) > 0.55


def test_the_command_line_refuses_a_noise_with_a_sigma(tmp_path, capsys):
    with pytest.raises(SystemExit) as refused:
        build_data.main(['--out', str(tmp_path), '--noise', 'poisson-gaussian', '--sigma', '10'])
    assert refused.value.code == 2 and '--noise poisson-gaussian cannot take it' in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('text, expected', [('8', (8, 8)), ('6:16', (6, 16)), ('1', (1, 1))])
def test_parse_factors(text, expected):
    assert noises.parse_factors(text) == expected


@pytest.mark.parametrize('text', ['0', '8:4', '2.5', 'x', ':4', '-2'])
def test_parse_factors_refuses(text):
    with pytest.raises(ValueError, match='downsampling factor'):
        noises.parse_factors(text)


def test_pixelation_draws_each_factor_of_its_range():
    rng = np.random.default_rng(0)
    drawn = noises.Pixelation((4, 6)).draw_factors(3000, rng)
    assert sorted(set(drawn.tolist())) == [4, 5, 6]
    assert noises.Pixelation((8, 8)).draw_factors(5, rng).tolist() == [8] * 5


def test_pixelation_picks_one_pixel_of_each_footprint_for_all_channels():
    factor = 3
    rows, columns = np.mgrid[0:4 * factor, 0:5 * factor]
    high_res = np.stack([rows, columns, rows * 16 + columns], axis=-1).astype(np.uint8)
    picks = [noises.Pixelation.pick(high_res, factor, np.random.default_rng(seed)) for seed in range(50)]
    for noisy in picks:
        assert noisy.shape == (3, 4, 5) and noisy.dtype == np.uint8
        row, column, code = noisy.astype(int)
        assert np.array_equal(code, row * 16 + column)
        assert np.array_equal(row // factor, np.broadcast_to(np.arange(4)[:, None], (4, 5)))
        assert np.array_equal(column // factor, np.broadcast_to(np.arange(5), (4, 5)))
    # Every pixel of a footprint is picked some time.
    seen = {(int(r), int(c)) for noisy in picks for r, c in zip(noisy[0].ravel(), noisy[1].ravel())}
    assert len(seen) == high_res.shape[0] * high_res.shape[1]
