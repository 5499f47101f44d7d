"""Tests of the stand-in data set builder (others/build_data.py)."""

import hashlib
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

# Lets a plain `pytest` (not only `python -m pytest`) import the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from Proj_123456_654321.Miniproject_2.others import build_data, noises  # noqa: E402

N_TRAIN, N_VAL = 64, 16
SHAPE = (3, 32, 32)


def build_small(out_dir, **kwargs):
    kwargs = {"n_train": N_TRAIN, "n_val": N_VAL, "progress": False, **kwargs}
    return build_data.build(str(out_dir), **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A pixelated set: the default."""
    return build_small(tmp_path_factory.mktemp("built"), seed=3)


@pytest.fixture(scope="module")
def built_gaussian(tmp_path_factory):
    return build_small(tmp_path_factory.mktemp("built_gaussian"), seed=3, noise=(25.0, 25.0))


def content_digest(paths):
    digest = hashlib.sha256()
    for path in paths:
        for tensor in torch.load(path, weights_only=True):
            digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:24]


# The tensors of small sets built by the code before pixelation became the default (commit f52f00d):
# the Gaussian and the other noises' sets must stay what they were.
BEFORE_PIXELATION = {(25.0, 25.0): "0b18adc31bdd6edf83a8346c", (5.0, 55.0): "2e93d57401756831d2bc7555",
                     "correlated": "122c202201854f3f4ab8affc"}


@pytest.mark.parametrize("noise", list(BEFORE_PIXELATION))
def test_gaussian_and_other_noises_build_the_sets_they_built_before(noise, tmp_path):
    built = build_small(tmp_path, seed=3, noise=build_data.NAMED_NOISES.get(noise, noise))
    assert content_digest(built) == BEFORE_PIXELATION[noise]


def save_random_png(path, size, seed):
    pixels = np.random.default_rng(seed).integers(
        0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def image_folder(tmp_path):
    """Twenty usable photos (some nested, one .JPG), plus files to skip."""
    folder = tmp_path / "photos"
    (folder / "nested").mkdir(parents=True)
    for i in range(20):
        save_random_png(folder / ("nested" if i % 2 else "") / f"p{i}.png",
                        (48 + i, 40), seed=i)
    Image.open(folder / "p0.png").save(folder / "nested" / "photo.JPG", quality=95)
    (folder / "notes.txt").write_text("not a photo")
    (folder / "broken.png").write_bytes(b"not really a png")
    save_random_png(folder / "tiny.png", (40, 16), seed=99)
    return folder


def test_files_have_the_course_format(built):
    train_path, val_path = built
    assert os.path.basename(train_path) == "train_data.pkl"
    assert os.path.basename(val_path) == "val_data.pkl"
    for path, n in ((train_path, N_TRAIN), (val_path, N_VAL)):
        for data in (torch.load(path, weights_only=True), torch.load(path)):
            assert isinstance(data, tuple) and len(data) == 2
            for tensor in data:
                assert isinstance(tensor, torch.Tensor)
                assert tensor.dtype == torch.uint8
                assert tensor.shape == (n, *SHAPE)
                assert tensor.is_contiguous()


def test_same_seed_gives_identical_files(built, tmp_path):
    again = build_small(tmp_path, seed=3)
    for first, second in zip(built, again):
        assert Path(first).read_bytes() == Path(second).read_bytes()


def test_different_seed_gives_different_data(built, tmp_path):
    other = build_small(tmp_path, seed=4)
    for first, second in zip(built, other):
        a, b = torch.load(first), torch.load(second)
        assert not torch.equal(a[0], b[0])
        assert not torch.equal(a[1], b[1])


def test_validation_does_not_depend_on_train_size(built, tmp_path):
    _, val_path = build_small(tmp_path, seed=3, n_train=N_TRAIN + 1)
    for a, b in zip(torch.load(built[1]), torch.load(val_path)):
        assert torch.equal(a, b)


def test_training_inputs_are_two_noises_on_the_same_patch(built_gaussian):
    noisy_1, noisy_2 = (t.double() for t in torch.load(built_gaussian[0]))
    assert not torch.equal(noisy_1, noisy_2)
    difference = noisy_1 - noisy_2
    assert abs(difference.mean().item()) < 1.0
    # 25 * sqrt(2) = 35.4, a little less where values were clipped.
    assert 30.0 < difference.std().item() < 37.0
    # Pairing with another image's noise leaves scene differences in.
    mismatched = noisy_1 - noisy_2.roll(1, dims=0)
    assert mismatched.std().item() > difference.std().item() + 5.0


def test_validation_residual_is_gaussian_noise_of_std_25(built_gaussian):
    noisy, clean = (t.double() for t in torch.load(built_gaussian[1]))
    assert not torch.equal(noisy, clean)
    # Three standard deviations away from 0 and 255, clipping is negligible.
    unclipped = (clean >= 75) & (clean <= 180)
    assert unclipped.sum() > 5000
    residual = (noisy - clean)[unclipped]
    assert abs(residual.mean().item()) < 1.0
    assert 23.5 < residual.std().item() < 26.5


def test_default_set_is_pixelated_like_the_course_data(tmp_path):
    """The residual of the default validation set: heavy-tailed, shared across channels, white in space."""
    _, val_path = build_small(tmp_path, seed=3, n_val=300)
    noisy, clean = torch.load(val_path)
    statistics = build_data.residual_statistics(noisy, clean)
    assert statistics["kurtosis"] > 8
    assert statistics["corr_rg"] > 0.8
    assert abs(statistics["corr_adjacent"]) < 0.1
    assert statistics["zero_pct"] > 3
    assert 18 < statistics["psnr_db"] < 24


def position_coded_photo(side):
    """A photo whose pixel (row, column) is (row, column, row + column mod 256): a pick says where it is."""
    rows, columns = np.mgrid[0:side, 0:side]
    return np.stack([rows, columns, (rows + columns) % 256], axis=-1).astype(np.uint8)


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_each_pixelated_pixel_is_one_pixel_of_its_footprint(factor):
    """A photo of 32·factor pixels a side is its own whole scene at the resolution of the factor, so every
    noisy pixel must be one of its footprint's pixels (or the mirror's), the same for the three channels,
    and the two copies independent picks."""
    pixels = position_coded_photo(32 * factor)
    rng = np.random.default_rng(0)
    clean, (first, second) = build_data.sample_pixelated(
        [Image.fromarray(pixels)], 20, noises.Pixelation((factor, factor)), rng, copies=2)
    assert clean.shape == first.shape == second.shape == (20, *SHAPE)
    row_of, column_of, sum_of = (copy.astype(int) for copy in np.moveaxis(np.stack([first, second]), 2, 0))
    # The same source pixel for the three channels.
    assert np.array_equal(sum_of, (row_of + column_of) % 256)
    # Inside the output pixel's footprint: its row, and its column or the mirrored one.
    index = np.arange(32)
    assert np.array_equal(row_of // factor, np.broadcast_to(index[:, None], row_of.shape))
    mirrored = (32 * factor - 1 - column_of) // factor
    straight = column_of // factor
    columns = np.broadcast_to(index, straight.shape)
    per_patch = np.all((straight == columns) | (mirrored == columns), axis=(0, 2, 3))
    assert per_patch.all()
    if factor > 1:
        assert not np.array_equal(first, second)
    else:
        assert np.array_equal(first, second)


def test_pixelated_clean_patch_is_the_antialiased_downsampling():
    """A photo whose 8x8 blocks are flat: every pick equals the block's value, and so does the clean patch
    (Lanczos of flat blocks keeps their inner values; near block edges it may ring)."""
    blocks = np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)
    photo = np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)
    clean, (noisy,) = build_data.sample_pixelated(
        [Image.fromarray(photo)], 6, noises.Pixelation((8, 8)), np.random.default_rng(0), copies=1)
    for patch_clean, patch_noisy in zip(clean, noisy):
        as_photo = patch_noisy.transpose(1, 2, 0)
        assert np.array_equal(as_photo, blocks) or np.array_equal(as_photo, blocks[:, ::-1])
        assert np.abs(patch_clean.astype(int) - patch_noisy).mean() < 25


def test_add_noise_rounds_and_clips():
    rng = np.random.default_rng(0)
    mid = build_data.add_noise(np.full((200, *SHAPE), 128, np.uint8), rng)
    assert mid.dtype == np.uint8
    assert abs(mid.mean() - 128) < 0.2 and abs(mid.std() - 25) < 0.2
    dark = build_data.add_noise(np.zeros((10, *SHAPE), np.uint8), rng)
    # Half the draws are negative and clip to 0.
    assert 0.45 < (dark == 0).mean() < 0.55


def test_patches_of_a_32_pixel_photo_are_the_photo_or_its_mirror():
    pixels = np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)
    photo, mirror = pixels.transpose(2, 0, 1), pixels[:, ::-1].transpose(2, 0, 1)
    patches = build_data.sample_clean_patches(
        [Image.fromarray(pixels)], 40, np.random.default_rng(0))
    assert patches.dtype == np.uint8 and patches.shape == (40, *SHAPE)
    is_photo = [np.array_equal(p, photo) for p in patches]
    is_mirror = [np.array_equal(p, mirror) for p in patches]
    assert all(a or b for a, b in zip(is_photo, is_mirror))
    assert any(is_photo) and any(is_mirror)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA"])
def test_load_photo_converts_to_rgb(tmp_path, mode):
    gray = np.random.default_rng(0).integers(0, 256, (40, 50), np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(gray).convert(mode).save(path)
    photo = build_data.load_photo(path)
    assert photo.mode == "RGB" and photo.size == (50, 40)
    if mode in ("L", "LA"):
        rgb = np.asarray(photo)
        assert np.array_equal(rgb[..., 0], gray)
        assert np.array_equal(rgb[..., 1], gray) and np.array_equal(rgb[..., 2], gray)


def test_default_sources_are_the_bundled_photos():
    train, val = build_data.source_photos()
    assert len(train) == len(build_data.TRAIN_PHOTOS) == 15
    assert len(val) == len(build_data.VAL_PHOTOS) == 3
    assert not set(train) & set(val)
    assert all(os.path.isfile(path) for path in train + val)
    names = [os.path.basename(path) for path in train]
    assert {"motorcycle_left.png", "motorcycle_right.png"} <= set(names)


def test_refuses_to_overwrite_without_force(tmp_path):
    real_data = b"the real course data"
    for existing in ("train_data.pkl", "val_data.pkl"):
        folder = tmp_path / existing
        folder.mkdir()
        (folder / existing).write_bytes(real_data)
        with pytest.raises(FileExistsError, match="--force"):
            build_small(folder)
        assert (folder / existing).read_bytes() == real_data
        assert os.listdir(folder) == [existing]


def test_force_overwrites(tmp_path):
    (tmp_path / "train_data.pkl").write_bytes(b"old")
    (tmp_path / "val_data.pkl").write_bytes(b"old")
    train_path, val_path = build_small(tmp_path, force=True)
    assert torch.load(train_path)[0].shape == (N_TRAIN, *SHAPE)
    assert torch.load(val_path)[0].shape == (N_VAL, *SHAPE)
    assert sorted(os.listdir(tmp_path)) == ["train_data.pkl", "val_data.pkl"]


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def failing_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(build_data.torch, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        build_small(tmp_path)
    assert os.listdir(tmp_path) == []


def test_added_photos_split_by_content_hash(image_folder):
    default_train, default_val = build_data.source_photos()
    train, val = build_data.source_photos([str(image_folder)])
    assert build_data.source_photos([str(image_folder)]) == (train, val)
    added_train = [p for p in train if p not in default_train]
    added_val = [p for p in val if p not in default_val]
    assert not set(train) & set(val)
    # 20 pngs + the .JPG + broken.png + tiny.png; not notes.txt.
    assert len(added_train) + len(added_val) == 23
    assert added_train and added_val
    for path in added_train + added_val:
        digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()
        assert (int(digest, 16) % 5 == 0) == (path in added_val)
    assert added_train == sorted(added_train) and added_val == sorted(added_val)


def test_copies_of_a_photo_are_used_once(image_folder):
    chelsea = build_data.package_file("skimage", "data/chelsea.png")
    shutil.copy(chelsea, image_folder / "cat.png")
    shutil.copy(image_folder / "p0.png", image_folder / "nested" / "p0_copy.png")
    train, val = build_data.source_photos([str(image_folder)])
    names = [os.path.basename(path) for path in train + val]
    assert "cat.png" not in names
    assert ("p0.png" in names) != ("p0_copy.png" in names)


def test_unusable_photos_are_skipped_with_a_warning(image_folder, capsys):
    paths = sorted(str(p) for p in image_folder.rglob("*.png"))
    photos = build_data.load_photos(paths, "train")
    assert len(photos) == len(paths) - 2
    err = capsys.readouterr().err
    assert "broken.png" in err and "tiny.png" in err
    with pytest.raises(ValueError, match="no usable photo for the val split"):
        build_data.load_photos([str(image_folder / "tiny.png")], "val")


def test_build_with_added_photos(image_folder, tmp_path, capsys):
    out = tmp_path / "out"
    first = build_small(out, image_dirs=[str(image_folder)])
    assert "broken.png" in capsys.readouterr().err
    second = build_small(tmp_path / "again", image_dirs=[str(image_folder)])
    for a, b in zip(first, second):
        assert Path(a).read_bytes() == Path(b).read_bytes()
    plain = build_small(tmp_path / "plain")
    assert Path(first[0]).read_bytes() != Path(plain[0]).read_bytes()


def test_train_images_all_go_to_training_and_leave_validation_unchanged(image_folder, tmp_path):
    default_train, default_val = build_data.source_photos()
    train, val = build_data.source_photos(train_image_dirs=[str(image_folder)])
    assert val == default_val
    assert len(train) == len(default_train) + 23
    first = build_small(tmp_path / "out", train_image_dirs=[str(image_folder)])
    plain = build_small(tmp_path / "plain")
    assert Path(first[1]).read_bytes() == Path(plain[1]).read_bytes()
    assert Path(first[0]).read_bytes() != Path(plain[0]).read_bytes()


def test_val_images_all_go_to_validation_and_stay_out_of_training(image_folder, tmp_path):
    default_train, default_val = build_data.source_photos()
    train, val = build_data.source_photos(val_image_dirs=[str(image_folder)])
    assert train == default_train and len(val) == 23 and not set(val) & set(default_val)
    # A training folder holding a copy of a validation photo: the copy stays out of training.
    copies = tmp_path / "copies"
    copies.mkdir()
    shutil.copyfile(image_folder / "p4.png", copies / "copy_of_p4.png")
    save_random_png(copies / "other.png", (50, 44), seed=123)
    train, val = build_data.source_photos(train_image_dirs=[str(copies)], val_image_dirs=[str(image_folder)])
    assert [Path(path).name for path in train[len(default_train):]] == ["other.png"]
    first = build_small(tmp_path / "out", val_image_dirs=[str(image_folder)])
    plain = build_small(tmp_path / "plain")
    assert Path(first[0]).read_bytes() == Path(plain[0]).read_bytes()
    assert Path(first[1]).read_bytes() != Path(plain[1]).read_bytes()


def test_residual_stats_compares_each_set_with_the_course(tmp_path, capsys):
    build_small(tmp_path / "a", seed=3, n_val=300)
    build_small(tmp_path / "b", noise=(25.0, 25.0))
    assert build_data.main(["--residual-stats", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert f"| statistic of noisy − clean | course | {tmp_path / 'a'} | {tmp_path / 'b'} |" in out
    assert "| kurtosis | 11.4 |" in out and out.count("within 10% of the course's") == 2
    # A Gaussian residual is not heavy-tailed: its kurtosis is about 3, far outside the goal.
    assert "kurtosis" in next(line for line in out.splitlines() if line.startswith(f"{tmp_path / 'b'}:"))
    with pytest.raises(SystemExit) as missing:
        build_data.main(["--residual-stats", str(tmp_path / "none")])
    assert missing.value.code == 1 and "val_data.pkl not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as no_out:
        build_data.main(["--train", "8"])
    assert no_out.value.code == 2 and "--out is required" in capsys.readouterr().err


def test_missing_image_folder_is_an_error(tmp_path):
    missing = str(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_small(tmp_path / "out", image_dirs=[missing])
    assert not (tmp_path / "out").exists()


def test_main_builds_and_reports_progress(tmp_path, capsys):
    assert build_data.main(["--out", str(tmp_path), "--train", "20",
                            "--val", "10", "--seed", "5"]) == 0
    err = capsys.readouterr().err
    assert "train: 20/20 patches" in err and "val: 10/10 patches" in err
    assert "train_data.pkl" in err and "MB" in err
    assert "| kurtosis | 11.4 |" in err and "built in" in err and "peak memory" in err
    noisy_1, noisy_2 = torch.load(tmp_path / "train_data.pkl", weights_only=True)
    assert noisy_1.shape == noisy_2.shape == (20, *SHAPE)


def test_main_quiet_and_errors(tmp_path, capsys):
    argv = ["--out", str(tmp_path), "--train", "8", "--val", "4", "--quiet"]
    assert build_data.main(argv) == 0
    assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit) as refused:
        build_data.main(argv)
    assert refused.value.code == 1
    assert "--force" in capsys.readouterr().err
    assert build_data.main(argv + ["--force"]) == 0
    with pytest.raises(SystemExit) as missing:
        build_data.main(argv + ["--force", "--images", str(tmp_path / "none")])
    assert missing.value.code == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("argv, noise", [
    ([], noises.Pixelation((6, 16))), (["--factor", "8"], noises.Pixelation((8, 8))),
    (["--noise", "pixelation", "--factor", "2:4"], noises.Pixelation((2, 4))),
    (["--sigma", "5:55"], (5.0, 55.0)), (["--noise", "gaussian"], (25.0, 25.0)),
    (["--noise", "correlated"], noises.CORRELATED)])
def test_main_chooses_the_noise(tmp_path, monkeypatch, argv, noise):
    chosen = []
    monkeypatch.setattr(build_data, "build", lambda *args, **kwargs: chosen.append(kwargs["noise"]))
    assert build_data.main(["--out", str(tmp_path)] + argv) == 0
    assert chosen == [noise]


@pytest.mark.parametrize("argv, message", [
    (["--factor", "8", "--sigma", "25"], "--factor is pixelation's"),
    (["--noise", "gaussian", "--factor", "8"], "--factor is pixelation's"),
    (["--noise", "correlated", "--sigma", "25"], "--sigma is the Gaussian noise's level")])
def test_main_refuses_a_level_of_another_noise(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as error:
        build_data.main(["--out", str(tmp_path)] + argv)
    assert error.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--train", "0"], ["--val", "-1"],
                                 ["--seed", "-1"], ["--train", "many"],
                                 ["--factor", "0"], ["--factor", "8:4"], ["--factor", "2.5"]])
def test_main_rejects_bad_arguments(tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as error:
        build_data.main(["--out", str(tmp_path)] + bad)
    assert error.value.code == 2
    assert f"argument {bad[0]}" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_same_photos_feed_both_splits_and_nothing_else(image_folder, tmp_path):
    shutil.copy(image_folder / "p0.png", image_folder / "nested" / "p0_copy.png")
    train, val = build_data.same_photos([str(image_folder)])
    assert train == val
    names = [os.path.basename(path) for path in train]
    assert ("p0.png" in names) != ("p0_copy.png" in names)
    assert not set(train) & set(build_data.source_photos()[0] + build_data.source_photos()[1])
    first = build_small(tmp_path / "out", same_photo_dirs=[str(image_folder)])
    plain = build_small(tmp_path / "plain")
    for mine, bundled in zip(first, plain):
        assert Path(mine).read_bytes() != Path(bundled).read_bytes()
    with pytest.raises(ValueError, match="--same-photos cannot be combined"):
        build_small(tmp_path / "both", same_photo_dirs=[str(image_folder)], image_dirs=[str(image_folder)])


def test_val_photos_write_only_a_validation_set_of_those_photos(image_folder, tmp_path):
    out = tmp_path / "val_only"
    path = build_data.build_validation(str(out), [str(image_folder)], n_val=N_VAL, progress=False)
    assert os.listdir(out) == ["val_data.pkl"]
    noisy, clean = torch.load(path, weights_only=True)
    assert noisy.shape == clean.shape == (N_VAL,) + SHAPE and noisy.dtype == clean.dtype == torch.uint8
    # The same patches as the validation split of a --same-photos build with the same seed.
    _, same_val = build_small(tmp_path / "same", same_photo_dirs=[str(image_folder)])
    assert all(torch.equal(a, b) for a, b in zip(torch.load(same_val, weights_only=True), (noisy, clean)))
    # And not the bundled photos' validation set.
    _, bundled_val = build_small(tmp_path / "bundled")
    assert not torch.equal(torch.load(bundled_val, weights_only=True)[1], clean)
    with pytest.raises(FileExistsError):
        build_data.build_validation(str(out), [str(image_folder)], n_val=N_VAL, progress=False)


def test_val_photos_refuse_the_other_sources(image_folder, tmp_path, capsys):
    for other in (["--images", str(image_folder)], ["--same-photos", str(image_folder)]):
        with pytest.raises(SystemExit) as error:
            build_data.main(["--out", str(tmp_path / "x"), "--val-photos", str(image_folder)] + other)
        assert error.value.code == 2
        assert "--val-photos cannot be combined" in capsys.readouterr().err
    assert build_data.main(["--out", str(tmp_path / "v"), "--val-photos", str(image_folder), "--val", "4",
                            "--quiet"]) == 0
    assert os.listdir(tmp_path / "v") == ["val_data.pkl"]
