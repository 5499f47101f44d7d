"""Build a stand-in for the course's Noise2Noise data set.

The course's ``train_data.pkl`` / ``val_data.pkl`` are not available here, so
this module makes files in the same format from photographs that ship inside
installed Python packages (scikit-image, scikit-learn, matplotlib), optionally
plus the user's own photos.  Nothing is downloaded.

Output (the course's format):

* ``DIR/train_data.pkl``: ``(noisy_imgs_1, noisy_imgs_2)``, two uint8 tensors
  ``[N, 3, 32, 32]``: two independent noisy versions of the same clean patches;
* ``DIR/val_data.pkl``: ``(noisy_imgs, clean_imgs)``, uint8 ``[M, 3, 32, 32]``.

Both are written with ``torch.save`` and hold tensors only, so ``torch.load``
reads them with or without ``weights_only=True``.

Recipe, the course's degradation (the default; ``--factor LOW[:HIGH]``, default 6:16), for each pair:

1. a photo (H x W) uniformly at random among the split's photos, a downsampling factor ``f`` uniformly among
   the integers of ``--factor``, and a square crop: with probability 1/2 the whole scene (a square of the
   photo's short side), else of a side drawn log-uniformly in ``[min(32 f z, short side), short side]``, at a
   uniformly random position (``z``: ``--zoom-out``, default 1; above 1 the crops are sharper);
2. the high-resolution image: the crop resized to ``32 f x 32 f`` with PIL's Lanczos filter, flipped
   horizontally with probability 1/2;
3. clean patch: its antialiased (Lanczos) downsampling to 32 x 32; each noisy copy: one pixel of the
   high-resolution image picked at random inside each output pixel's ``f x f`` footprint, the same pick for
   the three channels (``noises.Pixelation``). The two training inputs are two independent picks;
   validation pairs one pick with the clean patch.

The factor range 6:16 puts the default validation set's noisy input at about the course's 20.72 dB; the
residual's statistics against the course's are printed after a build (``others/residual_stats.py``).

The first stand-in's recipe (``--noise gaussian``, or ``--sigma``), and that of the other noises:

1. clean patch: pick a source photo (H x W) uniformly at random among the
   split's photos, draw a scale ``s`` log-uniformly in ``[1, min(H, W) / 32]``,
   crop a random square of side ``round(32 * s)`` at a uniformly random
   position, resize it to 32 x 32 with PIL's Lanczos filter (antialiasing),
   and flip it horizontally with probability 1/2;
2. noise: ``clamp(round(clean + 25 * N(0, 1)), 0, 255)`` as uint8,
   independently per pixel and channel.  The two training inputs are two
   independent draws on the same clean patch; validation pairs one noisy draw
   with its clean patch.  ``--sigma LOW:HIGH`` draws each pair's σ (and each
   validation patch's) uniformly in ``[LOW, HIGH]`` instead, both copies of a
   pair the same: the data of a denoiser blind to the noise level.  The clean
   patches are drawn first, so they do not depend on ``--sigma``.  ``--noise
   poisson-gaussian`` or ``--noise correlated`` puts the robustness
   evaluation's signal-dependent or spatially correlated noise
   (``others/noises.py``) on both copies and on validation instead.  These
   sets are byte-identical to those built before pixelation was the default.

Photos are converted to RGB (grayscale gives 3 equal channels; 16-bit photos
are scaled to 8 bits as the denoise command does, ``others/images.py``; 32-bit
ones are skipped with a warning, as are unreadable files).  Everything is
drawn from ``numpy.random.default_rng`` generators derived from ``--seed``, so
the same seed and the same sources give byte-identical files.  Training and
validation use separate derived generators, so the validation set does not
change with ``--train``.

Sources: the photos listed in ``TRAIN_PHOTOS`` / ``VAL_PHOTOS``, plus every
.jpg/.jpeg/.png regular file found recursively under the ``--images`` folders
(FIFOs and devices are skipped with a warning, never opened); each of
those goes to validation (1 in 5) or training by a hash of its content.
Photos under ``--train-images`` folders all go to training: use it when the
folders hold several versions of one scene (a hash split would put copies of
a scene in both splits), and to keep the validation set unchanged.  Photos
under ``--val-images`` folders are the validation photos, instead of the
bundled ones (``data/``'s validation set: ``fetch_photos --collection
validation``); a training photo with the same content as one of them is
left out of training.

``--same-photos DIR ...`` builds both splits from the photos under these
folders alone (no bundled photo): the validation patches are other crops of
the training photos, an in-domain set like the course's, whose training and
validation images come from one collection.

``--val-photos DIR ...`` writes only ``val_data.pkl``, from the photos under
these folders alone: a further validation set (the README's second one is
built from the ``opencv-doc`` photos that no shipped model was trained on).

``--with-clean`` also writes ``DIR/train_clean.pkl``: the clean patches behind
the training pairs (uint8 ``[N, 3, 32, 32]``), for training with clean targets
(Noise2Clean) as a comparison.  It changes no other file.

Command::

    python -m Proj_123456_654321.Miniproject_2.others.build_data --out DIR \\
        [--train 50000] [--val 1000] [--seed 0] [--images DIR ...] \\
        [--train-images DIR ...] [--val-images DIR ...] [--same-photos DIR ...] [--val-photos DIR ...]
        [--factor LOW[:HIGH] [--zoom-out Z] | --noise gaussian [--sigma 25 | --sigma LOW:HIGH] | --noise NAME]
        [--with-clean] [--force] [--quiet]

Existing ``train_data.pkl`` / ``val_data.pkl`` in DIR are never overwritten
without ``--force`` (they may be the real course data).  A ``--out`` that is
not a folder or cannot be written into is refused before the build; every
error ends the command with status 1 and a one-line message.
"""

import argparse
import hashlib
import importlib.util
import math
import os
import resource
import sys
import time
import uuid

import numpy as np
import torch
from PIL import Image

from .images import to_rgb
from .noises import NAMED_NOISES, Gaussian, Pixelation, pair_sigmas, parse_factors, parse_sigma
from .residual_stats import comparison_table, goal_summary, residual_statistics

PATCH_SIZE = 32
NOISE_STD = 25.0
DEFAULT_FACTORS = (6, 16)
# The share of pixelated pairs cut from the whole scene (the course's images are whole scenes).
WHOLE_SCENE_PROBABILITY = 0.5
# PIL first shrinks a large crop by an integer box reduction down to 3x the target size, then Lanczos: ten
# times faster on a whole photo, no visible difference.
REDUCING_GAP = 3.0
DEFAULT_NOISE = Pixelation(DEFAULT_FACTORS)
TRAIN_FILE = "train_data.pkl"
VAL_FILE = "val_data.pkl"
TRAIN_CLEAN_FILE = "train_clean.pkl"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
# One added photo in VAL_HASH_MODULUS goes to validation.
VAL_HASH_MODULUS = 5

# (package, path inside the package).  Validation photos are disjoint from
# training photos so that validation measures generalisation to unseen
# scenes; the two motorcycle views show the same scene, so they stay together
# in the same split.
TRAIN_PHOTOS = (
    ("skimage", "data/coffee.png"),
    ("skimage", "data/astronaut.png"),
    ("skimage", "data/rocket.jpg"),
    ("skimage", "data/motorcycle_left.png"),
    ("skimage", "data/motorcycle_right.png"),
    ("skimage", "data/hubble_deep_field.jpg"),
    ("skimage", "data/retina.jpg"),
    ("skimage", "data/ihc.png"),
    ("skimage", "data/camera.png"),
    ("skimage", "data/moon.png"),
    ("skimage", "data/gravel.png"),
    ("skimage", "data/brick.png"),
    ("skimage", "data/grass.png"),
    ("skimage", "data/coins.png"),
    ("sklearn", "datasets/images/china.jpg"),
)
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
            smallest = min(round(high_side * pixelation.zoom_out), short_side)
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
    """Print the validation residual's statistics beside the course's (``others/residual_stats.py``)."""
    statistics = residual_statistics(noisy, clean)
    print(comparison_table({path: statistics}), file=sys.stderr)
    print(f"{path}: {goal_summary(statistics)}", file=sys.stderr)


def save_atomically(tensors, path):
    """``torch.save`` to ``path`` through a temporary file in the same
    folder, so that an interrupted run never leaves a truncated file."""
    folder, name = os.path.split(os.path.abspath(path))
    # Not tempfile.mkstemp: its files are private (mode 0600) whatever the
    # umask, unlike those torch.save writes.
    temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
    try:
        # Saving to a file object (not a path) keeps the archive's inner name
        # fixed, so equal tensors give byte-identical files.
        with open(temporary, "xb") as f:
            torch.save(tensors, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def build_split(split, photos, n, rng, progress, noise):
    """``(clean, arrays)``: the clean patches of one split and the arrays its
    file holds (two noisy draws for training, noisy and clean for validation),
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
    return clean, (tuple(noisy) if split == "train" else (noisy[0], clean))


def split_generators(seed):
    """The training and the validation generators of ``seed``: one per split,
    so that --train leaves validation unchanged, and a validation-only set
    (``build_validation``) draws what ``build``'s validation split draws."""
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))


def build(out_dir, n_train=50000, n_val=1000, seed=0, image_dirs=(),
          force=False, progress=True, train_image_dirs=(), with_clean=False, same_photo_dirs=(),
          noise=DEFAULT_NOISE, val_image_dirs=()):
    """Write ``train_data.pkl`` and ``val_data.pkl`` (and ``train_clean.pkl``
    if ``with_clean``) into ``out_dir`` and return the paths of the first two.
    ``noise``: a ``Pixelation``, a Gaussian σ range ``(LOW, HIGH)`` or another
    ``noises`` object (``build_split``).
    Raises ``FileExistsError`` (writing nothing) when one of them exists and
    ``force`` is false."""
    if n_train < 1 or n_val < 1:
        raise ValueError("the number of train and val patches must be >= 1")
    check_out_folder(out_dir)
    train_path = os.path.join(out_dir, TRAIN_FILE)
    val_path = os.path.join(out_dir, VAL_FILE)
    clean_path = os.path.join(out_dir, TRAIN_CLEAN_FILE)
    outputs = (train_path, val_path) + ((clean_path,) if with_clean else ())
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
        clean, arrays = build_split(split, photos, n, rng, progress, noise)
        save_atomically(tuple(torch.from_numpy(a) for a in arrays), path)
        if split == "val" and progress:
            report_statistics(*arrays, path)
        if split == "train" and with_clean:
            save_atomically(torch.from_numpy(clean), clean_path)
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
    _, arrays = build_split("val", photos, n_val, val_rng, progress, noise)
    save_atomically(tuple(torch.from_numpy(a) for a in arrays), val_path)
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


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m Proj_123456_654321.Miniproject_2.others.build_data",
        description="Build a stand-in Noise2Noise data set "
                    "(train_data.pkl, val_data.pkl) from bundled photos.")
    parser.add_argument("--out", required=True, help="output folder")
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
    parser.add_argument("--zoom-out", type=float, default=1.0, metavar="Z",
                        help="pixelation's crops at least Z times the high-resolution side (default 1; above "
                             "1 every high-resolution image is a downsampled, sharper view of its photo)")
    parser.add_argument("--sigma", type=argument_parser(parse_sigma), metavar="LOW[:HIGH]",
                        help=f"the Gaussian noise's standard deviation (0-255 scale; default {NOISE_STD:g}); "
                             "LOW:HIGH draws it uniformly per pair (both copies the same) and per "
                             "validation patch")
    parser.add_argument("--with-clean", action="store_true",
                        help=f"also write {TRAIN_CLEAN_FILE}, the clean patches "
                             "behind the training pairs")
    parser.add_argument("--force", action="store_true",
                        help="overwrite existing train_data.pkl / val_data.pkl")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args(argv)
    kind = args.noise or ("gaussian" if args.sigma else "pixelation")
    if args.sigma and kind != "gaussian":
        parser.error(f"--sigma is the Gaussian noise's level; --noise {kind} cannot take it")
    if args.factor and kind != "pixelation":
        parser.error(f"--factor is pixelation's; --noise {kind} cannot take it")
    if args.zoom_out != 1.0 and kind != "pixelation":
        parser.error(f"--zoom-out is pixelation's; --noise {kind} cannot take it")
    if not (math.isfinite(args.zoom_out) and args.zoom_out >= 1.0):
        parser.error(f"--zoom-out must be a finite number of at least 1, got {args.zoom_out:g}")
    if kind == "pixelation":
        noise = Pixelation(args.factor or DEFAULT_FACTORS, args.zoom_out)
    elif kind == "gaussian":
        noise = args.sigma or (NOISE_STD, NOISE_STD)
    else:
        noise = NAMED_NOISES[kind]
    if args.val_photos and (args.images or args.train_images or args.val_images or args.same_photos
                            or args.with_clean):
        parser.error("--val-photos cannot be combined with --images, --train-images, --val-images, "
                     "--same-photos or --with-clean")
    start = time.perf_counter()
    try:
        if args.val_photos:
            build_validation(args.out, args.val_photos, args.val, args.seed, args.force,
                             progress=not args.quiet, noise=noise)
        else:
            build(args.out, args.train, args.val, args.seed, args.images,
                  args.force, progress=not args.quiet,
                  train_image_dirs=args.train_images, with_clean=args.with_clean,
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
