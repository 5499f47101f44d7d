"""Build a stand-in for the course's Noise2Noise data set, and measure how close a set's degradation is to
the course's.

    python -m Proj_123456_654321.Miniproject_2.others.build_data --out DIR [--train 50000] [--val 1000]
        [--seed 0] [--images DIR ...] [--train-images DIR ...] [--val-images DIR ...] [--same-photos DIR ...]
        [--val-photos DIR ...] [--factor LOW[:HIGH] | --noise gaussian [--sigma 25 | LOW:HIGH] | --noise NAME]
        [--force] [--quiet]
    python -m Proj_123456_654321.Miniproject_2.others.build_data --residual-stats DIR [DIR ...]

The course's files are not available here, so this module makes files of their format from photographs that
ship inside installed Python packages (scikit-image, scikit-learn, matplotlib), plus the user's own photos;
nothing is downloaded. ``DIR/train_data.pkl`` holds ``(noisy_imgs_1, noisy_imgs_2)``, two uint8 tensors
``[N, 3, 32, 32]``, two independent noisy versions of the same clean patches; ``DIR/val_data.pkl``
``(noisy_imgs, clean_imgs)``. Both hold tensors only (``torch.load`` reads them with ``weights_only=True``).

The course's degradation (the default), for each pair: a photo uniformly among the split's photos, a
downsampling factor ``f`` uniformly among the integers of ``--factor`` (default 6:16, which puts the
validation set's noisy input at about the course's 20.72 dB), and a square crop, with probability 1/2 the
whole scene (the photo's short side), else of a side drawn log-uniformly in ``[min(32 f, short side), short
side]`` at a uniformly random position; the crop resized to ``32 f x 32 f`` with Lanczos (the high-resolution
image), flipped horizontally with probability 1/2. The clean patch is its Lanczos downsampling to 32 x 32;
each noisy copy takes one high-resolution pixel at random inside each output pixel's ``f x f`` footprint, the
same for the three channels (``noises.Pixelation``). Training pairs two picks, validation one and the clean
patch.

The other noises (``--noise gaussian`` or ``--sigma``, and the robustness evaluation's, ``others/noises.py``)
go on clean patches: a random square crop of side ``32 s`` (``s`` log-uniform in ``[1, short side / 32]``)
resized to 32 x 32 with Lanczos and flipped with probability 1/2, then ``clamp(round(clean + 25 N(0, 1)), 0,
255)`` per pixel and channel (or that noise), drawn independently for each copy. ``--sigma LOW:HIGH`` draws
each pair's σ (both copies the same) and each validation patch's uniformly: a denoiser blind to the level.

Photos are read as 8-bit RGB (``data.to_rgb``; 32-bit and unreadable ones are skipped with a warning). All
draws come from generators derived from ``--seed``, one per split (so validation does not change with
``--train``): the same seed and sources give byte-identical files. Sources: the photos of ``TRAIN_PHOTOS`` /
``VAL_PHOTOS``, plus the JPEG/PNG regular files under the ``--images`` folders, split 1 in 5 to validation by
a hash of their content, and those under ``--train-images`` folders, all for training. ``--val-images``
folders hold the validation photos instead of the bundled ones (a training photo of the same content is left
out of training); ``--same-photos`` builds both splits from its folders alone (validation: other crops of the
training photos, an in-domain set); ``--val-photos`` writes only ``val_data.pkl``, from its folders alone.
Existing files are never overwritten without ``--force`` (they may be the real course data); an unwritable
``--out`` is refused before the build; every error ends the command with status 1 and a one-line message.

``--residual-stats`` builds nothing: it prints the statistics of each ``DIR/val_data.pkl``'s residual
``noisy − clean`` (0–255 scale; a build prints them for its validation set) beside the course's
(``COURSE``): the noisy input's PSNR (the harness's definition), the residual's standard deviation and
kurtosis (3 for a Gaussian), the fractions exactly 0, within ±5 and beyond ±50, the R–G and R–B and
neighbours' correlations, and the fraction of noisy values at 0. A stand-in should match ``GOAL_STATISTICS``
within ``TOLERANCE`` (relative) and the PSNR within ``PSNR_TOLERANCE_DB``.
"""
import argparse
import hashlib
import importlib.util
import os
import resource
import sys
import time

import numpy as np
import torch
from PIL import Image

from .data import TRAIN_FILE, VAL_FILE, load_val, save_tensors, to_rgb
from .noises import NAMED_NOISES, Gaussian, Pixelation, pair_sigmas, parse_factors, parse_sigma

PATCH_SIZE = 32
NOISE_STD = 25.0
DEFAULT_FACTORS = (6, 16)
# The share of pixelated pairs cut from the whole scene (the course's images are whole scenes).
WHOLE_SCENE_PROBABILITY = 0.5
# PIL first shrinks a large crop by an integer box reduction down to 3x the target size, then Lanczos: ten
# times faster on a whole photo, no visible difference.
REDUCING_GAP = 3.0
DEFAULT_NOISE = Pixelation(DEFAULT_FACTORS)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# One added photo in VAL_HASH_MODULUS goes to validation.
VAL_HASH_MODULUS = 5

# (package, path inside the package). Validation photos are disjoint from training photos so that validation
# measures generalisation to unseen scenes; the two motorcycle views show one scene, so they share a split.
TRAIN_PHOTOS = (*(("skimage", f"data/{name}") for name in (
    "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png",
    "hubble_deep_field.jpg", "retina.jpg", "ihc.png", "camera.png", "moon.png", "gravel.png", "brick.png",
    "grass.png", "coins.png")), ("sklearn", "datasets/images/china.jpg"))
VAL_PHOTOS = (
    ("skimage", "data/chelsea.png"),
    ("sklearn", "datasets/images/flower.jpg"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
)


def warn(message):
    print(f"build_data: warning: {message}", file=sys.stderr)


def package_file(package, relative_path):
    """Path of a file shipped inside an installed package."""
    # find_spec locates the package without importing it (importing
    # scikit-learn or matplotlib alone takes seconds).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed")
    path = os.path.join(spec.submodule_search_locations[0], relative_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} not found (another {package} version?)")
    return path


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def find_images(folder):
    """Sorted paths of the JPEG/PNG files under ``folder``, recursively.

    Only regular files: the others (FIFOs, devices) are skipped with a
    warning and never opened, as opening a FIFO waits for a writer."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"image folder {folder!r} does not exist")
    found = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if not name.lower().endswith(IMAGE_EXTENSIONS):
                continue
            if os.path.isfile(path):
                found.append(path)
            else:
                warn(f"skipping {path}: not a regular file")
    return sorted(found)


def source_photos(image_dirs=(), train_image_dirs=(), val_image_dirs=()):
    """Return ``(train_paths, val_paths)``: the default photos (the bundled
    validation photos only without ``val_image_dirs``, whose photos are then
    the validation ones), plus those found under ``image_dirs``, split by a
    hash of their content, and those found under ``train_image_dirs``, all for
    training."""
    train = [package_file(*entry) for entry in TRAIN_PHOTOS]
    val = [] if val_image_dirs else [package_file(*entry) for entry in VAL_PHOTOS]
    # Identical files are kept once, so a copy of a photo can never end up
    # in both splits; validation folders come first, so such a copy stays
    # out of training. The bundled validation photos stay out of training
    # either way.
    seen = {file_digest(path) for path in train}
    seen |= {file_digest(package_file(*entry)) for entry in VAL_PHOTOS}
    folders = [(folder, 'val') for folder in val_image_dirs]
    folders += [(folder, 'hash') for folder in image_dirs]
    folders += [(folder, 'train') for folder in train_image_dirs]
    for folder, split in folders:
        for path in find_images(folder):
            try:
                digest = file_digest(path)
            except OSError as error:
                warn(f"skipping {path}: cannot read it ({error})")
                continue
            if digest in seen:
                warn(f"skipping {path}: same content as another photo")
                continue
            seen.add(digest)
            if split == 'val' or split == 'hash' and int(digest, 16) % VAL_HASH_MODULUS == 0:
                val.append(path)
            else:
                train.append(path)
    return train, val


def same_photos(folders):
    """The photos under ``folders`` (identical files kept once), for both splits."""
    paths, seen = [], set()
    for folder in folders:
        for path in find_images(folder):
            digest = file_digest(path)
            if digest not in seen:
                seen.add(digest)
                paths.append(path)
    return paths, paths


def load_photo(path):
    """The photo at ``path`` as an 8-bit RGB PIL image, fully read into memory
    (16-bit photos scaled, as the denoise command reads them)."""
    with Image.open(path) as image:
        return to_rgb(image, path)


def load_photos(paths, split):
    """Load the usable photos among ``paths``, warning about the others."""
    photos = []
    for path in paths:
        try:
            photo = load_photo(path)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            warn(f"skipping {path}: cannot read it ({error})")
            continue
        if min(photo.size) < PATCH_SIZE:
            warn(f"skipping {path}: {photo.size[0]}x{photo.size[1]} is smaller "
                 f"than {PATCH_SIZE} px on a side")
            continue
        photos.append(photo)
    if not photos:
        raise ValueError(f"no usable photo for the {split} split")
    return photos


def sample_clean_patches(photos, n, rng, progress=None):
    """``n`` clean patches, uint8 numpy ``[n, 3, 32, 32]``, following the
    recipe in the module docstring.  ``progress(done)`` is called every ~10%."""
    patches = np.empty((n, 3, PATCH_SIZE, PATCH_SIZE), dtype=np.uint8)
    report_every = max(1, n // 10)
    for i in range(n):
        photo = photos[rng.integers(len(photos))]
        width, height = photo.size
        short_side = min(width, height)
        scale = np.exp(rng.uniform(0.0, np.log(short_side / PATCH_SIZE)))
        side = min(short_side, round(PATCH_SIZE * scale))
        left = rng.integers(width - side + 1)
        top = rng.integers(height - side + 1)
        # Resizing only the box avoids copying the crop first.
        patch = photo.resize((PATCH_SIZE, PATCH_SIZE), Image.LANCZOS,
                             box=(left, top, left + side, top + side))
        pixels = np.asarray(patch)
        if rng.random() < 0.5:
            pixels = pixels[:, ::-1]
        patches[i] = pixels.transpose(2, 0, 1)
        if progress is not None and ((i + 1) % report_every == 0 or i + 1 == n):
            progress(i + 1)
    return patches


def sample_pixelated(photos, n, pixelation, rng, copies, progress=None):
    """``(clean, noisy)``: ``n`` clean patches uint8 numpy ``[n, 3, 32, 32]`` and a list of ``copies`` noisy
    versions of them, pixelated by the recipe in the module docstring.  ``progress(done)`` every ~10%."""
    clean = np.empty((n, 3, PATCH_SIZE, PATCH_SIZE), dtype=np.uint8)
    noisy = [np.empty_like(clean) for _ in range(copies)]
    factors = pixelation.draw_factors(n, rng)
    report_every = max(1, n // 10)
    for i, factor in enumerate(factors):
        photo = photos[rng.integers(len(photos))]
        width, height = photo.size
        short_side = min(width, height)
        high_side = PATCH_SIZE * int(factor)
        if rng.random() < WHOLE_SCENE_PROBABILITY:
            side = short_side
        else:
            smallest = min(high_side, short_side)
            side = round(np.exp(rng.uniform(np.log(smallest), np.log(short_side))))
        left = rng.integers(width - side + 1)
        top = rng.integers(height - side + 1)
        high_res = np.asarray(photo.resize((high_side, high_side), Image.LANCZOS,
                                           box=(left, top, left + side, top + side), reducing_gap=REDUCING_GAP))
        if rng.random() < 0.5:
            high_res = np.ascontiguousarray(high_res[:, ::-1])
        patch = Image.fromarray(high_res).resize((PATCH_SIZE, PATCH_SIZE), Image.LANCZOS)
        clean[i] = np.asarray(patch).transpose(2, 0, 1)
        for copy in noisy:
            copy[i] = pixelation.pick(high_res, int(factor), rng)
        if progress is not None and ((i + 1) % report_every == 0 or i + 1 == n):
            progress(i + 1)
    return clean, noisy


def add_noise(clean, rng, sigma=NOISE_STD):
    """``clamp(round(clean + sigma N(0, 1)), 0, 255)`` as uint8, per pixel; ``sigma`` one number or one per
    patch (``noises.Gaussian``)."""
    return Gaussian(sigma)(clean, rng)


def report_statistics(noisy, clean, path):
    """Print the validation residual's statistics beside the course's."""
    statistics = residual_statistics(noisy, clean)
    print(comparison_table({path: statistics}), file=sys.stderr)
    print(f"{path}: {goal_summary(statistics)}", file=sys.stderr)


def build_split(split, photos, n, rng, progress, noise):
    """The arrays the file of one split holds (two noisy draws for training,
    noisy and clean for validation),
    pixelated when ``noise`` is a ``Pixelation``, else ``noise`` on clean
    patches: a ``noises`` object, or a Gaussian σ range ``(LOW, HIGH)`` whose
    σ is drawn per pair (or patch)."""
    start = time.perf_counter()

    def report(done):
        print(f"{split}: {done}/{n} patches ({time.perf_counter() - start:.1f} s)",
              file=sys.stderr)

    copies = 2 if split == "train" else 1
    if isinstance(noise, Pixelation):
        clean, noisy = sample_pixelated(photos, n, noise, rng, copies, report if progress else None)
    else:
        clean = sample_clean_patches(photos, n, rng, report if progress else None)
        if isinstance(noise, tuple):
            noise = Gaussian(pair_sigmas(noise, n, rng))
        noisy = [noise(clean, rng) for _ in range(copies)]
    return tuple(noisy) if split == "train" else (noisy[0], clean)


def split_generators(seed):
    """The training and the validation generators of ``seed``: one per split,
    so that --train leaves validation unchanged, and a validation-only set
    (``build_validation``) draws what ``build``'s validation split draws."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))


def build(out_dir, n_train=50000, n_val=1000, seed=0, image_dirs=(),
          force=False, progress=True, train_image_dirs=(), same_photo_dirs=(),
          noise=DEFAULT_NOISE, val_image_dirs=()):
    """Write ``train_data.pkl`` and ``val_data.pkl`` into ``out_dir`` and return their paths.
    ``noise``: a ``Pixelation``, a Gaussian σ range ``(LOW, HIGH)`` or another
    ``noises`` object (``build_split``).
    Raises ``FileExistsError`` (writing nothing) when one of them exists and
    ``force`` is false."""
    if n_train < 1 or n_val < 1:
        raise ValueError("the number of train and val patches must be >= 1")
    check_out_folder(out_dir)
    train_path = os.path.join(out_dir, TRAIN_FILE)
    val_path = os.path.join(out_dir, VAL_FILE)
    outputs = (train_path, val_path)
    refuse_to_overwrite(outputs, force)
    if same_photo_dirs and (image_dirs or train_image_dirs or val_image_dirs):
        raise ValueError("--same-photos cannot be combined with --images, --train-images or --val-images")
    train_paths, val_paths = (same_photos(same_photo_dirs) if same_photo_dirs
                              else source_photos(image_dirs, train_image_dirs, val_image_dirs))
    train_photos = load_photos(train_paths, "train")
    val_photos = load_photos(val_paths, "val")
    train_rng, val_rng = split_generators(seed)

    os.makedirs(out_dir, exist_ok=True)
    for split, path, photos, n, rng in (
            ("train", train_path, train_photos, n_train, train_rng),
            ("val", val_path, val_photos, n_val, val_rng)):
        arrays = build_split(split, photos, n, rng, progress, noise)
        save_tensors(tuple(torch.from_numpy(a) for a in arrays), path)
        if split == "val" and progress:
            report_statistics(*arrays, path)
    if progress:
        for path in outputs:
            print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)",
                  file=sys.stderr)
    return train_path, val_path


def build_validation(out_dir, folders, n_val=1000, seed=0, force=False, progress=True,
                     noise=DEFAULT_NOISE):
    """Write only ``val_data.pkl`` into ``out_dir``, from the photos under
    ``folders`` (identical files kept once), and return its path: a further
    validation set of photos that no training set uses.  The patches are drawn
    as ``build`` draws its validation split (``split_generators``).  Raises
    ``FileExistsError`` when the file exists and ``force`` is false."""
    if n_val < 1:
        raise ValueError("the number of val patches must be >= 1")
    check_out_folder(out_dir)
    val_path = os.path.join(out_dir, VAL_FILE)
    refuse_to_overwrite((val_path,), force)
    _, val_paths = same_photos(folders)
    photos = load_photos(val_paths, "val")
    _, val_rng = split_generators(seed)
    os.makedirs(out_dir, exist_ok=True)
    arrays = build_split("val", photos, n_val, val_rng, progress, noise)
    save_tensors(tuple(torch.from_numpy(a) for a in arrays), val_path)
    if progress:
        report_statistics(*arrays, val_path)
        print(f"wrote {val_path} ({os.path.getsize(val_path) / 1e6:.1f} MB) "
              f"from {len(photos)} photos", file=sys.stderr)
    return val_path


def refuse_to_overwrite(paths, force):
    """FileExistsError naming those of ``paths`` that exist, unless ``force``: they may be the real course
    data."""
    existing = [path for path in paths if os.path.exists(path)]
    if existing and not force:
        raise FileExistsError(f"{', '.join(existing)} already exist(s); refusing to overwrite "
                              "(it may be the real course data), use --force to replace")


def check_out_folder(out_dir):
    """ValueError naming --out if ``out_dir`` cannot be created or written
    into: found before the build, not after minutes of it."""
    existing = os.path.abspath(out_dir)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"--out {out_dir}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out_dir}: cannot write into {existing}")


def int_at_least(minimum):
    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def argument_parser(parse):
    """``parse`` (text -> value, ValueError when refused) as an argparse type."""
    def parse_argument(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return parse_argument


# ----------------------------------------------------------------------------------------------------
# The residual's statistics against the course's
# ----------------------------------------------------------------------------------------------------

# Measured on a sample of 99 of the course's real validation pairs (shared/CONTRACT.md; their noisy input
# scores 21.1 dB, the full set's 20.72 dB, the figure given here). An earlier sample of 11, less noisy (22.0 dB),
# gave 21.8, 13.5, 10 %, 47 %, 4.1 %, 0.91 / 0.85, 0.01 and 3.9 %.
COURSE = {'psnr_db': 20.72, 'std': 26.0, 'kurtosis': 11.4, 'zero_pct': 9.0, 'within5_pct': 46.0,
          'beyond50_pct': 6.7, 'corr_rg': 0.91, 'corr_rb': 0.78, 'corr_adjacent': 0.00, 'noisy_at_0_pct': 1.4}
LABELS = {'psnr_db': 'noisy-input PSNR (dB)', 'std': 'standard deviation', 'kurtosis': 'kurtosis',
          'zero_pct': 'exactly 0 (%)', 'within5_pct': 'within ±5 (%)', 'beyond50_pct': 'beyond ±50 (%)',
          'corr_rg': 'correlation R–G', 'corr_rb': 'correlation R–B', 'corr_adjacent': 'correlation of neighbours',
          'noisy_at_0_pct': 'noisy values at 0 (%)'}
GOAL_STATISTICS = ('std', 'kurtosis', 'zero_pct', 'within5_pct', 'beyond50_pct', 'corr_rg', 'corr_rb')
TOLERANCE = 0.10
PSNR_TOLERANCE_DB = 0.5


def _correlation(a, b):
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def residual_statistics(noisy, clean):
    """The statistics of ``LABELS`` for uint8 images ``[N, 3, H, W]`` (arrays or tensors)."""
    noisy = np.asarray(noisy).astype(np.float64)
    residual = noisy - np.asarray(clean)
    values = residual.ravel()
    mean_squared = (residual / 255) ** 2
    # The harness's PSNR: per image, then the mean; an image equal to its clean version counts as 100 dB.
    per_image = -10 * np.log10(np.maximum(mean_squared.mean((1, 2, 3)), 1e-10))
    centred = values - values.mean()
    std = float(centred.std())
    return {'psnr_db': float(per_image.mean()), 'std': std,
            'kurtosis': float((centred ** 4).mean() / std ** 4) if std > 0 else float('nan'),
            'zero_pct': 100 * float(np.mean(values == 0)),
            'within5_pct': 100 * float(np.mean(np.abs(values) <= 5)),
            'beyond50_pct': 100 * float(np.mean(np.abs(values) > 50)),
            'corr_rg': _correlation(residual[:, 0], residual[:, 1]),
            'corr_rb': _correlation(residual[:, 0], residual[:, 2]),
            'corr_adjacent': _correlation(residual[..., :-1], residual[..., 1:]),
            'noisy_at_0_pct': 100 * float(np.mean(noisy == 0))}


def within_goal(key, value):
    """Whether ``value`` of the statistic ``key`` is close enough to the course's (None: no goal for it)."""
    if key == 'psnr_db':
        return abs(value - COURSE[key]) <= PSNR_TOLERANCE_DB
    if key in GOAL_STATISTICS:
        return abs(value / COURSE[key] - 1) <= TOLERANCE
    return None


def comparison_table(statistics):
    """Markdown: one row per statistic, the course's figure, then each set's ``{name: statistics}`` with its
    relative difference to the course's (dB for the PSNR) and ✓ / ✗ where the goal applies."""
    names = list(statistics)
    lines = ['| statistic of noisy − clean | course | ' + ' | '.join(names) + ' |',
             '|---|---|' + '---|' * len(names)]
    for key, label in LABELS.items():
        cells = [label, f'{COURSE[key]:g}']
        for name in names:
            value = statistics[name][key]
            # Absolute where the course's figure is 0 (a relative difference would divide by it).
            difference = (f'{value - COURSE[key]:+.2f} dB' if key == 'psnr_db'
                          else f'{value - COURSE[key]:+.2f}' if COURSE[key] == 0
                          else f'{100 * (value / COURSE[key] - 1):+.0f} %')
            verdict = {True: ' ✓', False: ' ✗', None: ''}[within_goal(key, value)]
            cells.append(f'{value:.2f} ({difference}){verdict}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def goal_summary(statistics):
    """One line: which statistics of one set miss the goal."""
    missed = [LABELS[key] for key in ('psnr_db', *GOAL_STATISTICS) if not within_goal(key, statistics[key])]
    return 'all within the goal' if not missed else 'outside the goal: ' + ', '.join(missed)


def print_residual_statistics(folders, parser):
    """``--residual-stats``: the table of every folder's validation set, then a goal line per folder."""
    statistics = {}
    for folder in folders:
        try:
            statistics[folder] = residual_statistics(*load_val(folder))
        except (OSError, ValueError) as error:
            parser.exit(1, f"build_data: error: {error}\n")
    print(comparison_table(statistics))
    for folder, values in statistics.items():
        print(f'{folder}: {goal_summary(values)} (within {TOLERANCE:.0%} of the course\'s; PSNR within '
              f'{PSNR_TOLERANCE_DB} dB)')
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m Proj_123456_654321.Miniproject_2.others.build_data",
        description="Build a stand-in Noise2Noise data set "
                    "(train_data.pkl, val_data.pkl) from bundled photos.")
    parser.add_argument("--out", help="output folder (required to build)")
    parser.add_argument("--train", type=int_at_least(1), default=50000,
                        help="number of training pairs (default 50000)")
    parser.add_argument("--val", type=int_at_least(1), default=1000,
                        help="number of validation pairs (default 1000)")
    parser.add_argument("--seed", type=int_at_least(0), default=0,
                        help="random seed (default 0)")
    parser.add_argument("--images", nargs="+", default=[], metavar="DIR",
                        help="also use the JPEG/PNG photos under these folders "
                             "(1 in 5 goes to validation, by content hash)")
    parser.add_argument("--train-images", nargs="+", default=[], metavar="DIR",
                        help="also use the JPEG/PNG photos under these folders, "
                             "all for training")
    parser.add_argument("--val-images", nargs="+", default=[], metavar="DIR",
                        help="validate on the JPEG/PNG photos under these folders "
                             "instead of the bundled validation photos")
    parser.add_argument("--same-photos", nargs="+", default=[], metavar="DIR",
                        help="build both splits from the photos under these folders "
                             "alone (validation: other crops of the same photos)")
    parser.add_argument("--val-photos", nargs="+", default=[], metavar="DIR",
                        help="write only val_data.pkl, from the photos under these "
                             "folders alone (a further validation set)")
    parser.add_argument("--noise", choices=["pixelation", "gaussian", *sorted(NAMED_NOISES)],
                        help="the degradation (default: pixelation, the course's; gaussian when --sigma "
                             "is given); the others are the robustness evaluation's (others/noises.py), "
                             "the same on both copies of a pair and on validation")
    parser.add_argument("--factor", type=argument_parser(parse_factors), metavar="LOW[:HIGH]",
                        help="pixelation's downsampling factor, an integer drawn uniformly per pair in "
                             f"LOW..HIGH (default {DEFAULT_FACTORS[0]}:{DEFAULT_FACTORS[1]})")
    parser.add_argument("--sigma", type=argument_parser(parse_sigma), metavar="LOW[:HIGH]",
                        help=f"the Gaussian noise's standard deviation (0-255 scale; default {NOISE_STD:g}); "
                             "LOW:HIGH draws it uniformly per pair (both copies the same) and per "
                             "validation patch")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing train_data.pkl / val_data.pkl")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--residual-stats", nargs="+", metavar="DIR",
                        help="build nothing: print the residual statistics of each DIR/val_data.pkl beside "
                             "the course's")
    args = parser.parse_args(argv)
    if args.residual_stats:
        return print_residual_statistics(args.residual_stats, parser)
    if args.out is None:
        parser.error("--out is required to build a data set")
    kind = args.noise or ("gaussian" if args.sigma else "pixelation")
    if args.sigma and kind != "gaussian":
        parser.error(f"--sigma is the Gaussian noise's level; --noise {kind} cannot take it")
    if args.factor and kind != "pixelation":
        parser.error(f"--factor is pixelation's; --noise {kind} cannot take it")
    if kind == "pixelation":
        noise = Pixelation(args.factor or DEFAULT_FACTORS)
    elif kind == "gaussian":
        noise = args.sigma or (NOISE_STD, NOISE_STD)
    else:
        noise = NAMED_NOISES[kind]
    if args.val_photos and (args.images or args.train_images or args.val_images or args.same_photos):
        parser.error("--val-photos cannot be combined with --images, --train-images, --val-images or "
                     "--same-photos")
    start = time.perf_counter()
    try:
        if args.val_photos:
            build_validation(args.out, args.val_photos, args.val, args.seed, args.force,
                             progress=not args.quiet, noise=noise)
        else:
            build(args.out, args.train, args.val, args.seed, args.images,
                  args.force, progress=not args.quiet,
                  train_image_dirs=args.train_images,
                  same_photo_dirs=args.same_photos, noise=noise, val_image_dirs=args.val_images)
    except (OSError, ValueError) as error:
        # Some messages span lines: keep the error to one line.
        parser.exit(1, f"build_data: error: {' '.join(str(error).split())}\n")
    if not args.quiet:
        # ru_maxrss is in kilobytes on Linux.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"built in {time.perf_counter() - start:.0f} s, peak memory {peak:.0f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
