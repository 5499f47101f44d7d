"""Fresh training pairs every epoch: the training photos loaded once, then each epoch's crops, their scale, the
downsampling factors, the noise kinds and levels drawn anew from one mix, seeded.

    python -m Proj_123456_654321.Miniproject_2.others.stream detail [--reference DIR ...] --photos DIR [DIR ...]
        [--settings SIDE:DETAIL ...] [--pairs 2000] [--seed 0]
    python -m Proj_123456_654321.Miniproject_2.others.stream write --photos DIR [DIR ...] --out DIR [--mix MIX]
        [--pairs 50000] [--val-from DATA] [--seed 0]

The training command takes a stream with ``--stream MIX --photos DIR ...`` (``others/train.py``). ``detail``
prints the noisy input's PSNR per pixelation factor of the stream's pairs (the detail of its crops, to compare with
a validation set's photos); ``write`` saves one epoch as a fixed ``train_data.pkl`` (the race against a stream).

A mix is comma-separated parts ``KIND [LOW:HIGH] SHARE`` (``DEFAULT_MIX``): ``pixelation 2:16`` (the course's
degradation, the factor drawn per pair), ``gaussian 1:55`` (white Gaussian noise, σ drawn per pair),
``poisson-gaussian`` (``noises.POISSON_GAUSSIAN``) and ``clean`` (both copies the clean patch: a pair that
teaches the network to pass a clean image through). Shares are normalised; an epoch of N pairs holds
``round(share · N)`` of each part (the last part the rest), in the order of the mix.

A pair follows ``build_data``'s recipe, evaluated only at the points it needs. Each photo is held as a pyramid:
the photo (Lanczos-reduced to ``photo_side`` on its short side when larger), then Lanczos halvings down to 32
pixels. A pair draws a photo uniformly, a factor ``f`` (1 for the other kinds) and a square crop of a side
log-uniform in ``[min(32 f, short side), short side]``, at a uniform position; a pixelated pair's crop is the
whole scene with probability 1/2 (``build_data``'s clean patches, under the other kinds, never are). ``build_data``'s high-resolution image (the crop brought to ``32 f × 32 f``) has pixels of
``r = side / 32 f`` photo pixels; one is read bilinearly from the pyramid level of scale ``2^k ≤ r``. A noisy
copy takes for each output pixel one high-resolution pixel at random inside its ``f × f`` footprint, the same for
the three channels; a clean patch (``f = 1``) is the high-resolution image itself, and the additive noises go on
it as ``others/noises.py`` says. No flips: the models augment each batch.
"""
import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .build_data import PATCH_SIZE, WHOLE_SCENE_PROBABILITY, load_photos, same_photos, source_photos
from .data import load_val, save_tensors, TRAIN_FILE, VAL_FILE
from .noises import POISSON_GAUSSIAN, parse_factors, parse_sigma

DEFAULT_MIX = 'pixelation 2:16 0.6, gaussian 1:55 0.3, poisson-gaussian 0.1'
# The photos' short side (0: as they are; the training photos' median is 1,203 pixels) and the power of the crops'
# detail (PairStream; 0: uniform crops). Reduced photos and detail-weighted crops match the validation photos'
# detail (768 and 0.75: results/stream/detail.md) but trained no better model (results/stream/recipe.md).
PHOTO_SIDE = 0
DETAIL = 0.0
KINDS = ('pixelation', 'gaussian', 'poisson-gaussian', 'clean')
# Detail-weighted crops (PairStream's detail): candidates drawn per pair, the factor that measures the detail of a
# clean patch, and one output pixel in DETAIL_STRIDE × DETAIL_STRIDE read to estimate it.
DETAIL_CANDIDATES = 4
DETAIL_FACTOR = 4
DETAIL_STRIDE = 4
# Pairs made at once: bounds the memory of the sampled points (about 100 MB a chunk).
CHUNK = 2048


@dataclass(frozen=True)
class Part:
    """One part of a mix: ``kind``, its range (factors for pixelation, σ for gaussian, else None), its share."""
    kind: str
    low_high: tuple
    share: float


def parse_mix(text):
    """``'pixelation 2:16 0.6, clean 0.1'`` -> a tuple of ``Part``s with shares that sum to 1."""
    parts = []
    for item in text.split(','):
        words = item.split()
        if not words or words[0] not in KINDS:
            raise ValueError(f"a mix part is KIND [LOW:HIGH] SHARE with KIND one of {', '.join(KINDS)}, "
                             f"got {item.strip()!r}")
        kind, arguments = words[0], words[1:]
        takes_range = kind in ('pixelation', 'gaussian')
        if len(arguments) != 1 + takes_range:
            raise ValueError(f"{kind} takes {'LOW:HIGH and ' if takes_range else ''}a share, got {item.strip()!r}")
        low_high = (parse_factors if kind == 'pixelation' else parse_sigma)(arguments[0]) if takes_range else None
        share = float(arguments[-1])
        if not (math.isfinite(share) and share > 0):
            raise ValueError(f"a share must be a positive number, got {arguments[-1]!r}")
        parts.append(Part(kind, low_high, share))
    total = sum(part.share for part in parts)
    return tuple(Part(part.kind, part.low_high, part.share / total) for part in parts)


def part_counts(mix, pairs):
    """How many of ``pairs`` each part of ``mix`` makes: ``round(share · pairs)``, the last part the rest."""
    counts = [round(part.share * pairs) for part in mix[:-1]]
    counts.append(pairs - sum(counts))
    if min(counts) < 0:
        raise ValueError(f"{pairs} pairs cannot be split by the mix's shares")
    return counts


class Pyramids:
    """Every photo's pyramid in one flat table of RGB pixels, so that points of many photos are read at once.

    ``table`` int64 ``[P]``, a pixel's red, green and blue in its bits from 0, 21 and 42 (``_packed``: one
    element read per pixel, six times faster than rows of three bytes, and mixed in integers). Level ``k`` of
    photo ``p`` starts at row ``offsets[p, k]`` and is ``heights[p, k] × widths[p, k]`` pixels, each
    ``scales[p, k]`` photo pixels wide (the top level's pixels are 1 wide). Missing levels repeat the photo's
    smallest one."""

    def __init__(self, photos, photo_side=None):
        levels_of = [self._levels(photo, photo_side) for photo in photos]
        depth = max(len(levels) for levels in levels_of)
        self.offsets = torch.zeros(len(photos), depth, dtype=torch.int64)
        self.widths, self.heights = (torch.zeros(len(photos), depth, dtype=torch.int64) for _ in range(2))
        self.scales = torch.zeros(len(photos), depth)
        self.depths = torch.tensor([len(levels) for levels in levels_of])
        pieces, offset = [], 0
        for p, levels in enumerate(levels_of):
            top_width = levels[0].size[0]
            for k in range(depth):
                level = levels[min(k, len(levels) - 1)]
                if k < len(levels):
                    pieces.append(_packed(torch.from_numpy(np.array(level)).reshape(-1, 3)))
                    level_offset, offset = offset, offset + level.size[0] * level.size[1]
                self.offsets[p, k] = level_offset
                self.widths[p, k], self.heights[p, k] = level.size
                self.scales[p, k] = top_width / level.size[0]
        self.table = torch.cat(pieces)
        self.sizes = torch.stack([self.widths[:, 0], self.heights[:, 0]], 1)  # [photos, 2], the top level's

    @staticmethod
    def _levels(photo, photo_side):
        short = min(photo.size)
        if photo_side and short > photo_side:  # None or 0: as they are
            photo = photo.resize((round(photo.size[0] * photo_side / short), round(photo.size[1] * photo_side / short)),
                                 Image.LANCZOS)
        levels = [photo]
        while min(levels[-1].size) >= 2 * PATCH_SIZE:
            width, height = levels[-1].size
            levels.append(levels[-1].resize((width // 2, height // 2), Image.LANCZOS))
        return levels

    def read(self, photo, x, y, scale):
        """The pixels at photo coordinates ``x``, ``y`` (float ``[n, S]``) of photos ``photo`` (``[n]``), each of
        a footprint ``scale`` photo pixels wide (``[n]``): bilinear in the level of scale at most ``scale`` (weights
        in 256ths), the edge pixels repeated outside. Returns uint8 ``[n, S, 3]``."""
        level = torch.log2(scale.clamp(min=1)).floor().long().clamp(max=self.depths[photo] - 1)  # [n]
        level_scale, width, height = (table[photo, level][:, None] for table in (self.scales, self.widths,
                                                                                   self.heights))
        # Clamped so that the four pixels around a point are inside the level: weights 0 and 1 at its edges.
        column = (x / level_scale - 0.5).clamp(min=0).minimum(width - 1.001)
        row = (y / level_scale - 0.5).clamp(min=0).minimum(height - 1.001)
        left, top = column.floor(), row.floor()
        across = ((column - left) * 256).round_().long().view(-1)
        down = ((row - top) * 256).round_().long().view(-1)
        index = (self.offsets[photo, level][:, None] + top.long() * width + left.long()).view(-1)
        below = index + width.expand_as(x).reshape(-1)

        def at(index):
            return self.table.index_select(0, index)
        upper = _mixed(at(index), at(index + 1), across)
        lower = _mixed(at(below), at(below + 1), across)
        return _unpacked(_mixed(upper, lower, down)).view(*x.shape, 3)


class PairStream:
    """Training pairs from ``photos`` (PIL images) by ``mix`` (a string, ``parse_mix``): ``epoch(e)`` gives
    epoch ``e``'s ``pairs`` pairs, uint8 ``([pairs, 3, 32, 32], [pairs, 3, 32, 32])``, the same for the same
    ``seed`` and ``e``. ``description()`` is what a training record keeps of it.

    ``detail`` (0: off) draws crops in proportion to their detail raised to that power: ``DETAIL_CANDIDATES``
    crops per pair, of which one is kept, the detail of a crop being its pixelation residual's mean square
    (``_detail``) at the pair's factor, at ``DETAIL_FACTOR`` for the other kinds."""

    def __init__(self, photos, mix=DEFAULT_MIX, pairs=50000, seed=0, photo_side=PHOTO_SIDE, detail=DETAIL):
        self.mix_text, self.mix = mix, parse_mix(mix)
        if pairs < 1:
            raise ValueError(f"a stream makes at least 1 pair an epoch, not {pairs}")
        if photo_side is not None and not (photo_side == 0 or photo_side >= PATCH_SIZE):
            raise ValueError(f"photo_side must be 0 (the photos as they are) or at least {PATCH_SIZE}, got {photo_side}")
        if not (math.isfinite(detail) and detail >= 0):
            raise ValueError(f"detail must be a number >= 0, got {detail}")
        self.counts = part_counts(self.mix, pairs)
        self.pairs, self.seed, self.photo_side, self.detail = pairs, seed, photo_side, detail
        self.pyramids = Pyramids(photos, photo_side)
        self.photo_count = len(photos)
        self.seconds = {}  # timed_epoch's: the seconds each epoch's pairs took

    @classmethod
    def of_folders(cls, folders, *options):
        """A stream of the bundled training photos and those under ``folders`` (``build_data``'s training split:
        the bundled validation photos and copies of them left out)."""
        paths, _ = source_photos(train_image_dirs=folders)
        return cls(load_photos(paths, 'training'), *options)

    def description(self):
        return {'mix': self.mix_text, 'pairs': self.pairs, 'photos': self.photo_count,
                'photo_side': self.photo_side, 'detail': self.detail, 'seed': self.seed}

    def generator(self, epoch):
        """The generator of epoch ``epoch``: of this stream's seed and the epoch only."""
        state = np.random.SeedSequence((self.seed, epoch)).generate_state(2, dtype=np.uint32)
        return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))

    def timed_epoch(self, epoch):
        """``epoch(epoch)``, its seconds kept in ``seconds``."""
        start = time.perf_counter()
        pairs = self.epoch(epoch)
        self.seconds[epoch] = time.perf_counter() - start
        return pairs

    def epoch(self, epoch):
        generator = self.generator(epoch)
        first, second = (torch.empty(self.pairs, 3, PATCH_SIZE, PATCH_SIZE, dtype=torch.uint8) for _ in range(2))
        start = 0
        for part, count in zip(self.mix, self.counts):
            for chunk_start in range(start, start + count, CHUNK):
                chunk = slice(chunk_start, min(chunk_start + CHUNK, start + count))
                first[chunk], second[chunk] = self.make(part, chunk.stop - chunk.start, generator)[:2]
            start += count
        return first, second

    def make(self, part, count, generator, with_clean=False):
        """``(noisy, other_noisy, clean, factors)`` of ``count`` pairs of ``part``: uint8 ``[count, 3, 32, 32]``
        each and the factors ``[count]``. A pixelated pair's clean patch (the crop brought to 32 × 32, read like a
        factor-1 patch) is made only ``with_clean`` (else None): training does not need it."""
        if part.kind == 'pixelation':
            low, high = part.low_high
            factors = torch.randint(low, high + 1, (count,), generator=generator)
        else:
            factors = torch.ones(count, dtype=torch.int64)
        crops = self._crops(factors, generator, whole_scenes=part.kind == 'pixelation')
        clean = None
        if part.kind != 'pixelation' or with_clean:
            clean = self._read(crops, 1, _grid(PATCH_SIZE))
        if part.kind == 'pixelation':
            noisy = [self._pick(crops, factors, generator) for _ in range(2)]
        elif part.kind == 'clean':
            noisy = [clean, clean.clone()]
        else:
            sigma = self._sigmas(part, count, generator)
            noisy = [self._noise(part, clean, generator, sigma) for _ in range(2)]
        return (*noisy, clean, factors)

    def _crops(self, factors, generator, whole_scenes):
        """Each pair's crop ``(photo, left, top, side)`` (photo pixels, float), as the module says (the whole
        scene at times only with ``whole_scenes``); with ``detail``, the one kept of ``DETAIL_CANDIDATES`` drawn."""
        candidates = DETAIL_CANDIDATES if self.detail else 1
        count = len(factors)
        factors = factors.repeat(candidates)
        photo = torch.randint(len(self.pyramids.sizes), (len(factors),), generator=generator)
        size = self.pyramids.sizes[photo].float()  # [candidates * count, 2]: width, height
        short = size.min(1).values
        smallest = torch.minimum(PATCH_SIZE * factors.float(), short)
        draw = torch.rand(len(factors), generator=generator)
        side = torch.exp(torch.log(smallest) + draw * (torch.log(short) - torch.log(smallest)))
        whole = (torch.rand(len(factors), generator=generator) < WHOLE_SCENE_PROBABILITY) & whole_scenes
        side = torch.where(whole, short, side)
        corner = torch.rand(len(factors), 2, generator=generator) * (size - side[:, None])
        crops = photo, corner[:, 0], corner[:, 1], side
        if candidates == 1:
            return crops
        measured_at = torch.where(factors == 1, DETAIL_FACTOR, factors)
        weights = self._detail(crops, measured_at, generator).view(candidates, count)
        weights = weights.pow(self.detail) + 1e-12  # a flat crop is kept only when all its candidates are flat
        kept = torch.multinomial(weights.t(), 1, generator=generator).view(-1) * count + torch.arange(count)
        return tuple(value[kept] for value in crops)

    def _detail(self, crops, factors, generator):
        """Each crop's pixelation residual's mean square at ``factors``, estimated on one output pixel in
        ``DETAIL_STRIDE × DETAIL_STRIDE``: ``[n]``."""
        grid = _grid(PATCH_SIZE // DETAIL_STRIDE) * DETAIL_STRIDE + DETAIL_STRIDE // 2
        clean = self._read(crops, 1, grid).float()
        noisy = self._pick(crops, factors, generator, grid).float()
        return (noisy - clean).pow(2).mean((1, 2, 3))

    def _read(self, crops, factors, positions):
        """The pixels of each crop's high-resolution image (the crop brought to ``32 f × 32 f``) at ``positions``
        ``[n or 1, 2, h, w]`` (row, column; in high-resolution pixels): uint8 ``[n, 3, h, w]``."""
        photo, left, top, side = crops
        count, (height, width) = len(photo), positions.shape[2:]
        scale = side / (PATCH_SIZE * factors)  # photo pixels per high-resolution pixel, [n]
        rows, columns = positions[:, 0].reshape(len(positions), -1), positions[:, 1].reshape(len(positions), -1)
        x = left[:, None] + (columns + 0.5) * scale[:, None]  # [n, h * w]
        y = top[:, None] + (rows + 0.5) * scale[:, None]
        pixels = self.pyramids.read(photo, x, y, scale)  # [n, h * w, 3]
        return pixels.transpose(1, 2).reshape(count, 3, height, width)

    def _pick(self, crops, factors, generator, grid=None):
        """A noisy copy: one high-resolution pixel at random inside each output pixel's ``f × f`` footprint, at
        the output pixels ``grid`` (``[1, 2, h, w]``; default: all of them)."""
        grid = _grid(PATCH_SIZE) if grid is None else grid
        grid_factors = factors.view(-1, 1, 1, 1).float()
        picks = (torch.rand(len(factors), *grid.shape[1:], generator=generator) * grid_factors).floor()
        return self._read(crops, factors, grid * grid_factors + picks)

    @staticmethod
    def _sigmas(part, count, generator):
        if part.kind != 'gaussian':
            return None
        low, high = part.low_high
        return (low + torch.rand(count, generator=generator) * (high - low)).view(-1, 1, 1, 1)

    @staticmethod
    def _noise(part, clean, generator, sigma):
        values = clean.float()
        if part.kind == 'gaussian':
            values += sigma * torch.randn(values.shape, generator=generator)
        else:
            gain, read_sigma = POISSON_GAUSSIAN.gain, POISSON_GAUSSIAN.read_sigma
            values = gain * torch.poisson(values / gain, generator=generator)
            values += read_sigma * torch.randn(values.shape, generator=generator)
        return values.round_().clamp_(0, 255).to(torch.uint8)


def _grid(size):
    """The (row, column) of each pixel of a ``size × size`` image: float ``[1, 2, size, size]``."""
    line = torch.arange(size, dtype=torch.float32)
    return torch.stack(torch.meshgrid(line, line, indexing='ij'))[None]


# A packed pixel's channels (red, green, blue) start at these bits: room for a channel times 256 and a carry.
CHANNEL_SHIFTS = torch.tensor([0, 21, 42])
CHANNEL_MASK = sum(255 << shift for shift in CHANNEL_SHIFTS.tolist())
HALF = sum(128 << shift for shift in CHANNEL_SHIFTS.tolist())


def _packed(pixels):
    """uint8 ``[P, 3]`` -> int64 ``[P]``, one pixel per element."""
    return (pixels.long() << CHANNEL_SHIFTS).sum(1)


def _mixed(first, second, weight):
    """``(first · (256 - weight) + second · weight) / 256``, rounded, channel by channel, of packed pixels."""
    return ((first * (256 - weight) + second * weight + HALF) >> 8) & CHANNEL_MASK


def _unpacked(packed):
    """int64 ``[P]`` -> uint8 ``[P, 3]``."""
    return ((packed[:, None] >> CHANNEL_SHIFTS) & 255).to(torch.uint8)


# -------------------- The command: the stream's detail, one epoch as a fixed set --------------------

def detail_table(references, photos, settings, pairs, seed):
    """The noisy input's PSNR per pixelation factor (markdown) of the stream's pairs: of each folder of
    ``references`` as they are (the validation photos: no reduction, no weighting), then of the training photos
    (``photos``: folders beside the bundled ones) at each ``(photo_side, detail)`` of ``settings``."""
    factors = (2, 4, 8, 12, 16)
    lines = ['| photos | photo side | detail | ' + ' | '.join(f'factor {f}' for f in factors) + ' | 2:16 |',
             '|' + '---|' * (len(factors) + 4)]
    rows = [(folder, PairStream(load_photos(same_photos([folder])[0], folder), photo_side=None, detail=0.0))
            for folder in references]
    training = ' + '.join(['bundled', *photos])
    rows += [(training, PairStream.of_folders(photos, DEFAULT_MIX, 1, seed, side, detail)) for side, detail in settings]
    for name, pair_stream in rows:
        generator = torch.Generator().manual_seed(seed)
        cells = [noisy_psnr(pair_stream, (low, high), pairs, generator)
                 for low, high in [(f, f) for f in factors] + [(2, 16)]]
        lines.append(f'| {name} | {pair_stream.photo_side or "as they are"} | {pair_stream.detail:g} | '
                     + ' | '.join(f'{cell:.2f}' for cell in cells) + ' |')
        print(lines[-1], file=sys.stderr, flush=True)
    return '\n'.join(lines)


def noisy_psnr(pair_stream, factors, pairs, generator):
    """The harness's PSNR of ``pairs`` pixelated copies against their clean patches, over those that differ
    (an identical copy, a flat crop, has an infinite PSNR)."""
    noisy, _, clean, _ = pair_stream.make(Part('pixelation', factors, 1.0), pairs, generator, with_clean=True)
    values = -10 * torch.log10(((noisy.float() - clean.float()) / 255).pow(2).mean((1, 2, 3)))
    return values[values.isfinite()].mean().item()


def parse_setting(text):
    """``'768:0.75'`` -> ``(768, 0.75)``; ``'none:0'`` -> ``(None, 0.0)``."""
    side, _, detail = text.partition(':')
    return (None if side == 'none' else int(side)), float(detail or 0)


def write_epoch(photos, out, mix, pairs, seed, val_from=None):
    """``stream write``: epoch 1 of the stream to ``out``/train_data.pkl, ``val_from``'s val_data.pkl beside."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pair_stream = PairStream.of_folders(photos, mix, pairs, seed)
    start = time.perf_counter()
    save_tensors(pair_stream.epoch(1), out / TRAIN_FILE)
    print(f"{out / TRAIN_FILE}: {pairs} pairs of {mix!r} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if val_from is not None:
        save_tensors(load_val(val_from), out / VAL_FILE)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    detail = commands.add_parser('detail', help="the noisy input's PSNR per factor of the stream's pixelated pairs")
    detail.add_argument('--reference', nargs='*', default=[], help='validation photo folders, as they are')
    detail.add_argument('--photos', nargs='*', default=[], help='training photo folders (beside the bundled ones)')
    detail.add_argument('--settings', nargs='+', type=parse_setting, default=[(PHOTO_SIDE, DETAIL)],
                        metavar='SIDE:DETAIL', help="the training photos' short side ('none': as they are) and the "
                                                    "crops' detail power (default: the stream's)")
    detail.add_argument('--pairs', type=int, default=2000, help='pairs per factor')
    detail.add_argument('--seed', type=int, default=0)
    write = commands.add_parser('write', help="one epoch of the stream as a fixed train_data.pkl")
    write.add_argument('--photos', nargs='*', default=[], help='training photo folders (beside the bundled ones)')
    write.add_argument('--out', required=True, help='the folder of train_data.pkl')
    write.add_argument('--val-from', help='a data folder whose val_data.pkl is copied beside it')
    write.add_argument('--mix', default=DEFAULT_MIX)
    write.add_argument('--pairs', type=int, default=50000)
    write.add_argument('--seed', type=int, default=0)
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == 'detail':
            print(detail_table(arguments.reference, arguments.photos, arguments.settings, arguments.pairs,
                               arguments.seed))
        else:
            write_epoch(arguments.photos, arguments.out, arguments.mix, arguments.pairs, arguments.seed,
                        arguments.val_from)
    except (OSError, ValueError) as error:
        sys.exit(f"stream: error: {error}")


if __name__ == '__main__':
    main()
