"""Denoise your own images with a trained Noise2Noise model.

    python -m Proj_123456_654321.Miniproject_2.others.denoise IMAGE [IMAGE ...] --out DIR \\
        [--add-noise] [--seed 0] [--miniproject 2] [--model PATH] [--force]

Each ``NAME.ext`` (PNG or JPEG of any size; grayscale, palette and RGBA are converted to RGB, alpha is
dropped) gives ``DIR/NAME_denoised.png``. The shipped models learnt the course's pixelation, Gaussian noise
of σ up to 55 (0-255 scale) and a camera-like noise. To try them on a clean photo, ``--add-noise`` first adds
Gaussian noise of σ = 25 as the data recipe does (``build_data.add_noise``, seeded by ``--seed``), also
writes ``DIR/NAME_noisy.png``, and prints the PSNR of the noisy and of the denoised image against the
original (10 log10(1 / MSE), values in [0, 1], over the whole image).

``--miniproject 2`` (default) runs our framework's model, ``--miniproject 1`` the torch.nn U-Net; both load
``--model`` (default: the ``bestmodel.pth`` beside their ``model.py``) into ``Model()``. Large images go
through the network in overlapping tiles, so memory stays bounded. Existing outputs are kept unless
``--force``; every PNG is written atomically. Inputs that are no regular file (FIFOs, devices, folders) are
skipped with a warning. Errors exit with status 1 and a one-line message.
"""

import argparse
import itertools
import os
import sys
import time

import numpy as np
import torch
from PIL import Image, ImageOps

from .build_data import add_noise, int_at_least
from .data import check_depth, to_rgb, write_atomically
from ..model import Progress, psnr as mean_psnr

# Tiles of TILE_SIZE² pixels, each seen with TILE_MARGIN more pixels on every side. The margin exceeds
# both networks' receptive radius (about 40 pixels for the U-Net), so tiling changes no output pixel
# beyond float rounding; both are multiples of 8 so that tiles keep the networks' stride alignment.
TILE_SIZE = 1024
TILE_MARGIN = 64


def load_model(miniproject, path):
    if miniproject == 1:
        from ...Miniproject_1.model import Model
    else:
        from ..model import Model  # turns torch autograd off process-wide; nothing here needs it
    model = Model()
    model.load_pretrained_model(path)
    return model


def warn(message):
    """One warning line on stderr."""
    print(f"denoise: warning: {message}", file=sys.stderr)


def regular_files(paths):
    """``paths`` without those that exist but are no regular file (FIFOs, devices, folders named like images),
    each skipped with a warning and never opened: opening a FIFO waits until something writes into it. Missing
    paths stay, for ``open_image`` to report."""
    kept = []
    for path in paths:
        if os.path.exists(path) and not os.path.isfile(path):
            warn(f"skipping {path}: not a regular file")
        else:
            kept.append(path)
    if not kept:
        raise ValueError("no image to denoise: none of the inputs is a regular file")
    return kept


def open_image(path):
    """The image at ``path``, opened lazily (header only); ValueError if it is not one we can use."""
    try:
        image = Image.open(path)
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    try:
        check_depth(image, path)
    except ValueError:
        image.close()
        raise
    return image


def read_rgb(path):
    """The image as uint8 [3, H, W], oriented as viewers show it."""
    with open_image(path) as image:
        try:
            # The PNGs we write carry no EXIF orientation: apply it, or phone photos come out rotated.
            pixels = np.asarray(to_rgb(ImageOps.exif_transpose(image), path))
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            # Truncated or corrupt files only fail here, when the pixels are decoded.
            raise ValueError(f"cannot read {path}: {error}") from None
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def denoise(model, pixels, tile_size=TILE_SIZE, margin=TILE_MARGIN, label=None):
    """Denoise uint8 [3, H, W] tile by tile (one big image would need memory in proportion to its area);
    with a ``label``, show the progress over the tiles under that name."""
    _, height, width = pixels.shape
    output = np.empty_like(pixels)
    corners = list(itertools.product(range(0, height, tile_size), range(0, width, tile_size)))
    progress = Progress(len(corners), label, unit='tiles') if label else None
    for done, (top, left) in enumerate(corners, 1):
        y0, x0 = max(top - margin, 0), max(left - margin, 0)
        window = torch.from_numpy(pixels[None, :, y0:top + tile_size + margin, x0:left + tile_size + margin])
        denoised = model.predict(window)[0, :, top - y0:top - y0 + tile_size, left - x0:left - x0 + tile_size]
        output[:, top:top + tile_size, left:left + tile_size] = \
            denoised.round().clamp(0, 255).to(torch.uint8).cpu().numpy()
        if progress is not None:
            progress.update(done)
    if progress is not None:
        progress.close()
    return output


def psnr(image, reference):
    """10 log10(1 / MSE) in dB (infinite for equal images), both uint8 images scaled to [0, 1]: the model's
    ``psnr`` of one image, in float64."""
    return mean_psnr(*(torch.from_numpy(np.asarray(pixels, dtype=np.float64))[None] / 255
                       for pixels in (image, reference)))


def planned_outputs(images, out, add_noise_too, force):
    """``{input: (noisy path or None, denoised path)}``; ValueError before anything is written if an
    output would be overwritten without ``force`` or two inputs would write the same file."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} exists and is not a folder")
    plan, owners = {}, {}
    for image in images:
        stem = os.path.splitext(os.path.basename(image))[0]
        noisy = os.path.join(out, f'{stem}_noisy.png') if add_noise_too else None
        plan[image] = noisy, os.path.join(out, f'{stem}_denoised.png')
        for path in filter(None, plan[image]):
            if path in owners:
                raise ValueError(f"{owners[path]} and {image} would both write {path}; rename one")
            if os.path.exists(path) and not force:
                raise ValueError(f"{path} exists; use --force to overwrite it")
            owners[path] = image
    return plan


def run(args):
    images = regular_files(args.images)
    for image in images:  # a typo in the last name should not cost the work on the first ones
        open_image(image).close()
    plan = planned_outputs(images, args.out, args.add_noise, args.force)
    model = load_model(args.miniproject, args.model)
    os.makedirs(args.out, exist_ok=True)
    for image, (noisy_path, denoised_path) in plan.items():
        start = time.perf_counter()
        clean = read_rgb(image)
        # A generator per image: its noise depends on the seed only, not on the other images listed.
        noisy = add_noise(clean[None], np.random.default_rng(args.seed))[0] if args.add_noise else clean
        denoised = denoise(model, noisy, label=image)
        for pixels, path in ((noisy, noisy_path), (denoised, denoised_path)):
            if path:
                image = Image.fromarray(pixels.transpose(1, 2, 0))
                write_atomically(path, lambda temporary: image.save(temporary, format='PNG'))
        scores = (f"  PSNR noisy {psnr(noisy, clean):.2f} dB, denoised {psnr(denoised, clean):.2f} dB"
                  if args.add_noise else '')
        written = ', '.join(filter(None, (noisy_path, denoised_path)))
        print(f"{image}  {clean.shape[2]}×{clean.shape[1]}  {time.perf_counter() - start:.2f} s{scores}"
              f"  -> {written}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m Proj_123456_654321.Miniproject_2.others.denoise',
        description='Denoise PNG/JPEG images with a trained Noise2Noise model; writes DIR/NAME_denoised.png.')
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='PNG or JPEG files, any size')
    parser.add_argument('--out', required=True, metavar='DIR', help='output folder (created if missing)')
    parser.add_argument('--add-noise', action='store_true',
                        help='first add the training noise (σ = 25) to the images, taken as clean; also '
                             'write DIR/NAME_noisy.png and print both PSNRs against the original')
    parser.add_argument('--seed', type=int_at_least(0), default=0, help='noise seed for --add-noise (default 0)')
    parser.add_argument('--miniproject', type=int, choices=(1, 2), default=2,
                        help='2: our framework\'s model (default); 1: the torch.nn U-Net')
    parser.add_argument('--model', metavar='PATH',
                        help='bestmodel.pth to load (default: the one beside the chosen model.py)')
    parser.add_argument('--force', action='store_true', help='overwrite existing output files')
    # Intermixed: `IMAGE --out DIR IMAGE` is accepted too.
    args = parser.parse_intermixed_args(argv)
    try:
        run(args)
    except (OSError, ValueError) as error:
        # Some messages (pickle's, for one) span lines: keep the error to one line.
        parser.exit(1, f"denoise: error: {' '.join(str(error).split())}\n")
    return 0


if __name__ == '__main__':
    sys.exit(main())
