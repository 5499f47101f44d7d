"""Mini-project 1: a Noise2Noise U-Net built with torch.nn, autograd and torch.optim.

The reference above Mini-project 2: the same task and the same ``Model`` API, with all of PyTorch
allowed. The network is a compact U-Net in the spirit of the Noise2Noise paper (Lehtinen et al., 2018),
sized for 32×32 patches: three 2× poolings, skip connections by concatenation, leaky ReLUs, a linear
output, optionally added to the input (residual learning), with the same channels at every level or more
at the coarser ones (``UNet``'s ``shape``). Trained with Adam and a cosine learning-rate schedule on the MSE
between the prediction for one noisy image and another noisy version of it, with random flips and 90°
rotations of each pair. On a CPU it trains in bfloat16 autocast where the CPU computes bfloat16 natively,
with weights and activations channels-last (``Config``'s ``bfloat16`` and ``channels_last``; ``others/speed.py``
measures what they buy); ``predict`` stays float32.
"""
import io
import math
import numbers
import os
import pickletools
import random
import sys
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F


# The names Mini-project 2's model.py uses (it may not name torch.Tensor), so that the helpers both carry are the
# same text.
_Tensor = torch.Tensor
_UINT8 = torch.uint8


def psnr(denoised, clean):
    """Mean over images of the per-image PSNR in dB, both tensors in [0, 1] (the course harness's definition)."""
    mse = (denoised - clean).pow(2).flatten(1).mean(1)
    return (-10 * mse.log10()).mean().item()


def _check_images(images, name):
    """Raise TypeError / ValueError unless ``images`` is a non-empty [N, 3, H, W] tensor in [0, 255]."""
    if not isinstance(images, _Tensor):
        raise TypeError(f"{name} must be a torch tensor [N, 3, H, W], got {type(images).__name__}")
    if not (images.is_floating_point() or images.dtype == _UINT8):
        raise TypeError(f"{name} must be uint8 or floating point, got {images.dtype}")
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"{name} must have shape [N, 3, H, W], got {tuple(images.shape)}")
    if images.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(images.shape)}")
    if images.is_floating_point():
        if not images.isfinite().all():
            raise ValueError(f"{name} contains NaN or infinite values")
        low, high = images.min().item(), images.max().item()
        if low < 0 or high > 255:
            raise ValueError(f"{name} must hold values in [0, 255], found [{low:g}, {high:g}]")


def _positive_int(value, name):
    """Return ``value`` if it is an int >= 1 (channels, sizes); TypeError or ValueError naming ``name`` otherwise.

    Booleans are ints to Python but never a channel count, so they are refused too."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _finite_number(value, name, minimum=0):
    """Return ``value`` if it is a finite real number >= ``minimum``; TypeError naming ``name`` for another type,
    ValueError (torch.optim's type) for NaN, infinity or a smaller value: one NaN rate makes every weight NaN."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"invalid {name}: {value!r}; it must be a finite number >= {minimum}")
    return value


def _positive_number(value, name):
    """Return ``value`` if it is a finite real number > 0 (a learning rate); TypeError or ValueError naming
    ``name`` otherwise."""
    if _finite_number(value, name) == 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


class Progress:
    """Progress of long work, ``update(done)`` after each piece: on a terminal one line rewritten in place
    (at most every ``interval`` seconds), elsewhere (a log file, a pipe) a plain line at each quarter, so
    that logs stay short. The line shows the work done, its rate and the time left; ``close()`` clears it
    on a terminal. Standard library only; both mini-projects' ``model.py`` carry it, identical."""

    def __init__(self, total, label, unit='images', stream=None, interval=0.5):
        self.total, self.label, self.unit, self.interval = total, label, unit, interval
        self.stream = sys.stdout if stream is None else stream
        self.in_place = self.stream.isatty() if hasattr(self.stream, 'isatty') else False
        self.start = self.drawn_at = time.perf_counter()
        self.quarters_shown = 0

    def update(self, done):
        now = time.perf_counter()
        if self.in_place:
            if now - self.drawn_at >= self.interval:
                self.drawn_at = now
                self.stream.write('\r' + self._line(done, now) + '\x1b[K')
                self.stream.flush()
        elif done < self.total and 4 * done >= (self.quarters_shown + 1) * self.total:
            self.quarters_shown = 4 * done // self.total
            print(self._line(done, now), file=self.stream, flush=True)

    def _line(self, done, now):
        rate = done / max(now - self.start, 1e-9)
        left = (self.total - done) / rate if rate > 0 else math.inf
        return (f"{self.label}: {done}/{self.total} {self.unit} ({100 * done / self.total:.0f} %), "
                f"{rate:.0f} {self.unit}/s, {left:.0f} s left")

    def close(self):
        if self.in_place:
            self.stream.write('\r\x1b[K')
            self.stream.flush()


class BestModelError(ValueError):
    """``bestmodel.pth`` is not a file this project wrote, or does not fit the model."""


def _is_small_int(value):
    """Whether a value read from a file is an int (not a bool) short enough to print in a message.

    Values from a file are checked with this (or for their exact type) before anything is formatted from
    them: the repr of a crafted structure can take forever (a list holding itself twice, 64 levels deep)."""
    return type(value) is int and abs(value) < 10 ** 6


def _check_pickle_keys(data):
    """Raise BestModelError unless every dict key that the pickle ``data`` builds is a string, and it builds no set.

    Unpickling hashes dict keys and set members, and hashing a tuple that holds itself twice, 64 levels deep
    (a few hundred bytes thanks to the pickle memo) takes 2^64 steps. So before unpickling, this follows the
    opcodes, tracking only the kind of each stack item and memo entry (pickletools' stack effects): it builds
    and runs nothing, in time linear in the size of ``data``.
    """
    mark, text = pickletools.markobject, pickletools.pyunicode
    stack, marks, memo = [], [], {}
    for opcode, argument, _ in pickletools.genops(data):
        name, before, after = opcode.name, opcode.stack_before, opcode.stack_after
        if name in ('EMPTY_SET', 'ADDITEMS', 'FROZENSET'):
            raise BestModelError("refusing a set: a bestmodel file holds none")
        if name in ('MEMOIZE', 'PUT', 'BINPUT', 'LONG_BINPUT'):
            memo[len(memo) if name == 'MEMOIZE' else argument] = stack[-1]
            continue
        if name in ('GET', 'BINGET', 'LONG_BINGET'):
            stack.append(memo[argument])
            continue
        above_mark = []
        count = len(before)
        if mark in before or (name == 'POP' and stack and stack[-1] is mark):
            position = marks.pop()
            above_mark = stack[position + 1:]
            del stack[position:]
            count = before.index(mark) if mark in before else 0
        if count > len(stack):
            raise BestModelError(f"a malformed pickle: {name} finds too few items on the stack")
        popped = stack[len(stack) - count:]
        del stack[len(stack) - count:]
        keys = above_mark[0::2] if name in ('SETITEMS', 'DICT') else popped[1:2] if name == 'SETITEM' else []
        if any(kind is not text for kind in keys):
            raise BestModelError("refusing a dict key that is not a string: a bestmodel file has string keys only")
        if mark in after:
            marks.append(len(stack))
        stack.extend(after)


def _convolution(in_channels, out_channels):
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.LeakyReLU(0.1, inplace=True))


class UNet(nn.Module):
    """Encoder: 32 -> 16 -> 8 -> 4 pixels; decoder: nearest upsampling, concatenation with the encoder's
    features of the same size, two convolutions; a linear 3×3 convolution out.

    Channels per level, from full resolution down (``encoder``: levels 1 to 4; ``decoder``: levels 3 to 1):
    ``'flat'`` has ``width`` at every encoder level and 2 ``width`` in the decoder but its last level, as the
    Noise2Noise paper's U-Net; ``'tapered'`` grows the encoder as (1, 2, 3, 4) ``width`` and the decoder as
    (4, 3, 1) ``width``, so that most of the work is done at low resolution, where it is cheap; ``'light'``
    narrows that decoder to (3, 2, 1) ``width``; ``'lean'`` narrows light's two finest levels, where the image is
    largest, to 3/4 and 3/2 ``width`` on both sides, for a float32 epoch within the course's budget on slower
    CPUs (channels are rounded to whole numbers). With
    ``residual`` the network predicts the correction to its input (the negated noise) rather than the image.
    """
    SHAPES = {'flat': ((1, 1, 1, 1), (2, 2, 1)), 'tapered': ((1, 2, 3, 4), (4, 3, 1)),
              'light': ((1, 2, 3, 4), (3, 2, 1)), 'lean': ((0.75, 1.5, 3, 4), (3, 1.5, 0.75))}

    def __init__(self, width=32, shape='tapered', residual=True):
        super().__init__()
        encoder, decoder = self.channels(width, shape)
        self.residual = residual
        self.encode_1 = nn.Sequential(_convolution(3, encoder[0]), _convolution(encoder[0], encoder[0]))
        self.encode_2 = _convolution(encoder[0], encoder[1])
        self.encode_3 = _convolution(encoder[1], encoder[2])
        self.bottleneck = _convolution(encoder[2], encoder[3])
        self.decode_3 = nn.Sequential(_convolution(encoder[3] + encoder[2], decoder[0]),
                                      _convolution(decoder[0], decoder[0]))
        self.decode_2 = nn.Sequential(_convolution(decoder[0] + encoder[1], decoder[1]),
                                      _convolution(decoder[1], decoder[1]))
        self.decode_1 = nn.Sequential(_convolution(decoder[1] + encoder[0], decoder[2]),
                                      _convolution(decoder[2], decoder[2]))
        self.output = nn.Conv2d(decoder[2], 3, 3, padding=1)

    @classmethod
    def channels(cls, width, shape):
        """The channels of the encoder's levels (1 to 4) and of the decoder's (3 to 1)."""
        return tuple(tuple(max(1, round(factor * width)) for factor in factors) for factors in cls.SHAPES[shape])

    def forward(self, x):
        features_1 = self.encode_1(x)                                    # [N, encoder[0], H, W]
        features_2 = self.encode_2(F.max_pool2d(features_1, 2))          # [N, encoder[1], H/2, W/2]
        features_3 = self.encode_3(F.max_pool2d(features_2, 2))          # [N, encoder[2], H/4, W/4]
        y = self.bottleneck(F.max_pool2d(features_3, 2))                 # [N, encoder[3], H/8, W/8]
        y = self.decode_3(torch.cat([F.interpolate(y, scale_factor=2.0), features_3], 1))
        y = self.decode_2(torch.cat([F.interpolate(y, scale_factor=2.0), features_2], 1))
        y = self.decode_1(torch.cat([F.interpolate(y, scale_factor=2.0), features_1], 1))
        return x + self.output(y) if self.residual else self.output(y)


def _cpu_computes_bfloat16():
    """Whether oneDNN computes bfloat16 natively on this CPU (AVX-512 or AMX); elsewhere bfloat16 autocast
    would be emulated, slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _augment(inputs, targets, generator):
    """The same random flip and 90° rotation (one of 8) for a batch's inputs and targets."""
    choice = torch.randint(8, (), generator=generator).item()
    if choice & 1:
        inputs, targets = inputs.flip(3), targets.flip(3)
    turns = choice >> 1
    return inputs.rot90(turns, (2, 3)), targets.rot90(turns, (2, 3))


@dataclass(frozen=True)
class Continuation:
    """How ``Model.train`` continues from the weights ``load_pretrained_model`` loaded (the grader's case: it
    trains one epoch on its own photos). Training from scratch ignores it.

    Continued training is plain training, except that a ``holdout`` fraction of the pairs (at least
    ``MIN_HOLDOUT`` of them, else none) is kept out of it: their noisy-to-noisy loss, which estimates the
    denoising error plus the noise's variance when the two noisy copies' noises are independent, then chooses
    how much of the change to keep: the point ``loaded + f·(trained − loaded)`` for each ``f`` of ``KEEP`` (0:
    the loaded weights, 1: the trained ones). The other settings measured before (a lower rate, a warm-up, an
    anchor, weight averaging, blending) are history (docs/history.md).
    """
    holdout: float = 0.0

    MIN_HOLDOUT = 64
    # Measured along the change (others/continued.py interpolate): on every set, points between the loaded and
    # the trained weights, or beyond the trained ones, did worse than the better end.
    KEEP = (0, 1)

    def __post_init__(self):
        if _finite_number(self.holdout, 'holdout') >= 1:
            raise ValueError(f"holdout must be a fraction in [0, 1), got {self.holdout!r}")


def _split_heldout(count, holdout, seed):
    """The indices of the pairs to train on (in order) and of the held-out ones: a ``holdout`` fraction
    drawn with the seed ``seed + 2``, or none if that is fewer than ``Continuation.MIN_HOLDOUT``."""
    order = list(range(count))
    split = round(holdout * count)
    if split < Continuation.MIN_HOLDOUT:
        return order, []
    random.Random(None if seed is None else seed + 2).shuffle(order)
    return sorted(order[split:]), order[:split]


def _check_training_arguments(train_input, train_target, num_epochs, batch_size, lr, validation, size_multiple):
    """ValueError or TypeError for any argument ``train`` cannot use (``batch_size``: the one it would use)."""
    _check_images(train_input, 'train_input')
    _check_images(train_target, 'train_target')
    if train_input.shape != train_target.shape:
        raise ValueError(f"train_input {tuple(train_input.shape)} and train_target "
                         f"{tuple(train_target.shape)} must have the same shape")
    if train_input.shape[2] % size_multiple or train_input.shape[3] % size_multiple:
        raise ValueError(f"training images must have H and W multiples of {size_multiple}, "
                         f"got {tuple(train_input.shape[2:])}")
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, got {num_epochs!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if lr is not None:
        _positive_number(lr, 'lr')
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError("validation must be a pair (noisy_images, clean_images)")
        _check_images(validation[0], 'validation noisy images')
        _check_images(validation[1], 'validation clean images')
        if validation[0].shape != validation[1].shape:
            raise ValueError("validation noisy and clean images must have the same shape")


def _with_warmup(optimizer, schedule, steps):
    """``schedule`` with its rate scaled by (k + 1) / ``steps`` at step k (from 0) of the first ``steps``; as is
    for fewer than 2 steps."""
    if steps < 2:
        return schedule
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / steps, total_iters=steps - 1)
    return torch.optim.lr_scheduler.ChainedScheduler([warmup, schedule], optimizer)


def _next_pairs(epoch_pairs, epoch, previous, device):
    """``epoch_pairs(epoch)`` on ``device``, checked to be pairs of the shape of ``previous``."""
    pairs = tuple(images.to(device) for images in epoch_pairs(epoch))
    if len(pairs) != 2 or any(images.shape != previous.shape for images in pairs):
        raise ValueError(f"epoch_pairs({epoch}) must give two tensors of shape {tuple(previous.shape)}")
    return pairs


def _keep_best(parameters, loaded_weights, heldout_loss):
    """Move ``parameters`` to the point ``loaded + f·(trained − loaded)``, ``f`` in ``Continuation.KEEP``, whose
    ``heldout_loss()`` (the held-out pairs' noisy-to-noisy error) is smallest; return ``f`` and the loss at every
    point. The expected noisy-to-noisy error is the denoising error plus the noise's variance, so the smallest
    one estimates the smallest denoising error."""
    trained = [parameter.detach().clone() for parameter in parameters]
    losses = []
    for fraction in Continuation.KEEP:
        for parameter, loaded, mine in zip(parameters, loaded_weights, trained):
            parameter.copy_(loaded.lerp(mine, fraction))  # exactly loaded at 0, exactly mine at 1
        losses.append(heldout_loss())
    best = Continuation.KEEP[losses.index(min(losses))]
    for parameter, loaded, mine in zip(parameters, loaded_weights, trained):
        parameter.copy_(loaded.lerp(mine, best))
    return best, losses


def _symmetric_mean(network, images):
    """Mean of ``network``'s outputs for the 8 flips and transpositions of ``images``, each turned back: the
    noise differs in each view, so the errors partly cancel."""
    total = 0
    for transpose in (False, True):
        for flip_dims in ((), (2,), (3,), (2, 3)):
            view = images.transpose(2, 3) if transpose else images
            view = view.flip(flip_dims) if flip_dims else view
            output = network(view)
            output = output.flip(flip_dims) if flip_dims else output
            total = total + (output.transpose(2, 3) if transpose else output)
    return total / 8


def _epoch_line(epoch, num_epochs, record):
    """The line ``train`` prints after an epoch, from the epoch's ``history`` record."""
    line = (f"epoch {epoch}/{num_epochs}  loss {record['loss']:.6f}  {record['seconds']:.1f} s  "
            f"{record['images_per_second']:.0f} img/s")
    if record.get('kept') is not None:
        losses = record['heldout_losses']
        line += f"  kept {record['kept']:g} of the change: held-out loss {losses[0]:.6f} -> {min(losses):.6f}"
    if record['val_psnr'] is not None:
        line += f"  val PSNR {record['val_psnr']:.2f} dB"
    return line


@dataclass(frozen=True)
class Config:
    """What a ``Model`` is built from: its architecture (``width``, ``shape``, ``residual``; see ``UNet``),
    saved with the weights, and how it trains (not saved). Mini-project 2's ``others/train.py`` makes its
    command-line options from these fields."""
    width: int = field(default=32, metadata={'help': 'channels of the first level (the shape gives the others)'})
    shape: str = field(default='lean', metadata={'help': 'channels per level: flat, tapered, light or lean '
                                                         '(see UNet)'})
    residual: bool = field(default=True, metadata={'help': 'predict the correction to the input'})
    lr: float = field(default=1e-3, metadata={'help': 'learning rate'})
    batch_size: int = 32
    augment: bool = field(default=True, metadata={'help': 'random flips and transpositions of each batch'})
    channels_last: bool = field(default=True, metadata={'help': "on the CPU, weights and activations "
                                                                "channels-last (oneDNN's fast layout)"})
    bfloat16: bool = field(default=True, metadata={'help': 'on a CPU that computes bfloat16 natively, train in '
                                                           'bfloat16 autocast (predict stays float32)'})

    ARCHITECTURE = ('width', 'shape', 'residual')
    CHOICES = {'shape': tuple(UNet.SHAPES)}
    # The architecture of files written before shape and residual existed (they save only width).
    FORMER_ARCHITECTURE = {'shape': 'flat', 'residual': False}

    def __post_init__(self):
        _positive_int(self.width, 'width')
        if self.shape not in UNet.SHAPES:
            raise ValueError(f"shape must be one of {', '.join(map(repr, UNet.SHAPES))}, got {self.shape!r}")
        _positive_number(self.lr, 'lr')
        _positive_int(self.batch_size, 'batch_size')
        for name in ('residual', 'augment', 'channels_last', 'bfloat16'):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool, got {type(getattr(self, name)).__name__}")

    def architecture(self):
        """The fields saved with the weights, as a dict."""
        return {name: getattr(self, name) for name in self.ARCHITECTURE}


class Model:
    """The Noise2Noise U-Net with the course's ``Model`` API (see the module docstring)."""

    FILE_FORMAT = 'ee559-miniproject1-bestmodel'
    # Three 2× poolings: predict pads inputs to a multiple of this.
    SIZE_MULTIPLE = 8
    PREDICT_CHUNK_PIXELS = 1 << 18
    # An image larger than a chunk goes through the network in square windows of this side, context included:
    # a 384×384 window cost the light U-Net about 290 MB (ru_maxrss), a 512×512 one about 490 MB.
    PREDICT_TILE_SIZE = 384
    # Context that predict's tiles carry on every side: the U-Net's receptive radius, 38 pixels (the farthest
    # input pixel that the gradient of one output pixel reaches, at each position modulo 8), rounded up to a
    # multiple of SIZE_MULTIPLE.
    PREDICT_TILE_MARGIN = 40
    # Larger than the file of any sensible configuration (the shipped one: 2.2 MB); a larger file is refused unread.
    MAX_FILE_BYTES = 1 << 30
    # An epoch whose mean loss is this many times the previous epoch's has diverged. The U-Net's output is
    # unbounded, so a diverged run can keep a huge finite loss and train on silently (seen: width 64, lr 1e-3,
    # loss 0.009 -> 18885 in epoch 3). Mini-project 2 ends in a sigmoid, which bounds its loss.
    DIVERGENCE_FACTOR = 100
    # Training that starts from random weights raises the rate linearly over its first WARMUP_STEPS steps (at
    # most a tenth of the call's): a gentler start for Adam's moment estimates. Alone it did not stop the blow-up
    # seen from scratch at lr 1e-3 on issue 41's mix (mean loss 35 in epoch 1); `make train-unet`'s lower rate
    # did (docs/unet.md). Loaded weights and later calls start at the full rate.
    WARMUP_STEPS = 500
    # How train continues from loaded weights, chosen by Mini-project 2's others/continued.py
    # (Miniproject_2/others/results/continued/summary.md): as Mini-project 2's, plain training on all but 2 % of
    # the pairs, which then choose between the loaded and the trained weights.
    CONTINUATION = Continuation(holdout=0.02)

    # Found through the class by others/train.py, for both mini-projects' models.
    Config = Config

    def __init__(self, config=None, *, self_ensemble=True, continuation=None, device=None, **options):
        if config is not None and not isinstance(config, self.Config):
            raise TypeError(f"config must be a {self.Config.__name__}, got {type(config).__name__}; "
                            f"give the options by name (Model(width=16))")
        self.config = replace(config, **options) if config is not None else self.Config(**options)
        # predict averages the outputs for the 8 flips and transpositions of the input, each turned back:
        # the noise differs in each view, so the errors partly cancel (8 times the prediction cost).
        self.self_ensemble = self_ensemble
        # How train continues from the weights load_pretrained_model loaded (see Continuation).
        self.continuation = self.CONTINUATION if continuation is None else continuation
        if not isinstance(self.continuation, Continuation):
            raise TypeError(f"continuation must be a Continuation, got {type(continuation).__name__}")
        self.loaded_weights = None
        self.device = torch.device(device if device is not None else 'cuda' if torch.cuda.is_available() else 'cpu')
        # The GPU path keeps float32 and channels-first: it is not measured here.
        on_cpu = self.device.type == 'cpu'
        self.memory_format = torch.channels_last if on_cpu and self.config.channels_last else torch.contiguous_format
        self.train_in_bfloat16 = on_cpu and self.config.bfloat16 and _cpu_computes_bfloat16()
        self.network = UNet(**self.config.architecture()).to(self.device, memory_format=self.memory_format)
        self.history = []

    # -- saving and loading ----------------------------------------------------------------------------

    @staticmethod
    def default_path():
        return Path(__file__).resolve().parent / 'bestmodel.pth'

    def save_model(self, path=None):
        """Write ``{format, config, state_dict}`` (CPU tensors) to ``path`` (default: ``bestmodel.pth`` beside
        this file), atomically: a temporary file, then a rename."""
        path = Path(path) if path is not None else self.default_path()
        state = {key: value.detach().cpu().contiguous() for key, value in self.network.state_dict().items()}
        temporary = path.with_name(f"{path.name}.tmp{os.getpid()}")
        try:
            torch.save({'format': self.FILE_FORMAT, 'config': self.config.architecture(), 'state_dict': state},
                       temporary)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)
        return path

    def load_pretrained_model(self, path=None):
        """Load ``bestmodel.pth`` (default: beside this file) with ``torch.load(weights_only=True)``.

        The whole file is checked before any weight changes: one that ``save_model`` did not write for this
        configuration (keys, shapes and dtypes of the network's), or that holds NaN or infinite weights, raises
        ``BestModelError`` (a ``ValueError``) and leaves the model as it was.
        """
        path = Path(path) if path is not None else self.default_path()
        if not path.exists():
            raise FileNotFoundError(
                f"no pretrained model at {path}; make one with "
                f"`python -m Proj_123456_654321.Miniproject_1.others.train --data DATA_FOLDER`")
        payload = self._read_payload(path)
        self._check_payload(payload, path)
        self.network.load_state_dict(payload['state_dict'])
        self.loaded_weights = [parameter.detach().clone() for parameter in self.network.parameters()]

    def _read_payload(self, path):
        """What ``torch.load(weights_only=True)`` reads from ``path``, once its pickle is known to hash only
        strings; BestModelError if it is not a regular file holding such an archive (reading a FIFO would wait
        forever, hashing other keys can too)."""
        if not path.is_file():
            raise BestModelError(f"{path} is not a regular file")
        if path.stat().st_size > self.MAX_FILE_BYTES:
            raise BestModelError(f"{path} is larger than any bestmodel file ({self.MAX_FILE_BYTES} bytes)")
        data = path.read_bytes()
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if sum(member.file_size for member in archive.infolist()) > self.MAX_FILE_BYTES:
                    raise BestModelError(f"its archive unpacks to more than {self.MAX_FILE_BYTES} bytes")
                # torch.load unpickles ARCHIVE/data.pkl: every member of that name is checked, duplicates too.
                for member in archive.infolist():
                    if member.filename.rsplit('/', 1)[-1] == 'data.pkl':
                        _check_pickle_keys(archive.read(member))
            return torch.load(io.BytesIO(data), map_location='cpu', weights_only=True)
        except BestModelError as error:
            raise BestModelError(f"{path}: {error}") from None
        except Exception as error:
            raise BestModelError(f"{path} is not a readable bestmodel file: {error}") from error

    def _saved_architecture(self, config):
        """The architecture a file's ``config`` describes, the former one's fields filled in for files that
        predate them (they save only ``width``); None unless it is a dict of exactly these fields, each of
        its type: an int width, a shape's name, a bool."""
        if type(config) is not dict:
            return None
        config = {**self.config.FORMER_ARCHITECTURE, **config}
        if set(config) != set(self.config.ARCHITECTURE):
            return None
        config = {name: config[name] for name in self.config.ARCHITECTURE}
        valid = (_is_small_int(config['width']) and type(config['shape']) is str
                 and config['shape'] in UNet.SHAPES and type(config['residual']) is bool)
        return config if valid else None

    def _check_payload(self, payload, path):
        """BestModelError unless ``payload`` is what ``save_model`` writes for this network: its configuration,
        and a state dict with exactly its keys, each a finite tensor of its shape and dtype.

        Each value is checked for its type before anything is formatted from it."""
        if type(payload) is not dict or payload.get('format') != self.FILE_FORMAT:
            raise BestModelError(f"{path} was not written by Model.save_model of Mini-project 1")
        config, architecture = self._saved_architecture(payload.get('config')), self.config.architecture()
        if config is None:
            raise BestModelError(f"{path} has no valid network configuration (width, shape, residual)")
        if config != architecture:
            raise BestModelError(f"{path} holds a network of configuration {config}, this model has {architecture}")
        state = payload.get('state_dict')
        if not isinstance(state, dict):
            raise BestModelError(f"{path} has no state_dict")
        expected = self.network.state_dict()
        missing = [key for key in expected if key not in state]
        if missing or len(state) != len(expected):
            unknown = len(state) - (len(expected) - len(missing))
            named = f": {', '.join(missing[:3])}" if missing else ""
            raise BestModelError(f"{path}: its state_dict does not have this network's keys ({len(missing)} "
                                 f"missing{named}; {unknown} unknown)")
        for key, reference in expected.items():
            tensor = state[key]
            if (not isinstance(tensor, torch.Tensor) or tensor.layout != reference.layout
                    or tensor.dtype != reference.dtype or tensor.shape != reference.shape):
                raise BestModelError(f"{path}: {key} is not a {reference.dtype} tensor of shape "
                                     f"{tuple(reference.shape)}")
            if not tensor.isfinite().all():
                raise BestModelError(f"{path}: {key} holds NaN or infinite values")

    # -- training and prediction -----------------------------------------------------------------------

    def _to_unit(self, images):
        """uint8 or float images in [0, 255] -> float32 in [0, 1] on the model's device."""
        return images.to(self.device).float() / 255

    def train(self, train_input, train_target, num_epochs, *, batch_size=None, lr=None, validation=None,
              seed=None, verbose=True, after_epoch=None, epoch_pairs=None):
        """Train on pairs of noisy images (uint8 or float in [0, 255], ``[N, 3, H, W]``, H and W multiples
        of 8) for ``num_epochs`` epochs, continuing from the current weights, with Adam whose learning rate
        falls from ``lr`` to ``lr / 100`` along a cosine over this call's steps (from random weights, after a
        linear warm-up over the first ``WARMUP_STEPS``); after ``load_pretrained_model``,
        as ``self.continuation`` says (see ``Continuation``).

        Keyword-only: ``batch_size`` and ``lr`` override the model's; ``validation=(noisy, clean)`` reports
        the PSNR after each epoch; ``seed`` makes shuffling and augmentation reproducible; ``verbose=False``
        is silent; ``after_epoch(record)``, if given, is called after each epoch (the training command saves
        the best epoch with it); ``epoch_pairs(epoch)``, if given, gives the pairs of each epoch after the first
        (as many as ``train_input``: the training command's fresh pairs). Each epoch appends ``{epoch, loss,
        seconds, images_per_second, val_psnr}`` to ``history``; continued training adds ``kept`` to the last
        epoch's record (the fraction of the change the held-out pairs chose from ``Continuation.KEEP``, or None
        without held-out pairs), and with held-out pairs ``heldout_losses``, their loss at each fraction.
        An epoch whose mean loss is not finite, or over ``DIVERGENCE_FACTOR`` times the previous epoch's,
        raises ``FloatingPointError`` after restoring the weights from before it.
        """
        batch_size = self.config.batch_size if batch_size is None else batch_size
        _check_training_arguments(train_input, train_target, num_epochs, batch_size, lr, validation,
                                  self.SIZE_MULTIPLE)
        continuing = self.loaded_weights is not None
        lr = self.config.lr if lr is None else lr

        shuffler = random.Random(seed)
        generator = torch.Generator().manual_seed(shuffler.randrange(1 << 62))
        order, heldout = _split_heldout(len(train_input), self.continuation.holdout if continuing else 0.0, seed)
        inputs, targets = train_input.to(self.device), train_target.to(self.device)
        count = len(order)
        steps_per_epoch = math.ceil(count / batch_size)
        total_steps = num_epochs * steps_per_epoch
        optimizer, schedule = self._optimizer_and_schedule(lr, total_steps)
        if self.loaded_weights is None and not self.history:
            schedule = _with_warmup(optimizer, schedule, min(self.WARMUP_STEPS, total_steps // 10))
        # Importing Mini-project 2's model turns autograd off process-wide; this model needs it.
        with torch.enable_grad():
            for epoch in range(1, num_epochs + 1):
                if epoch > 1 and epoch_pairs is not None:
                    inputs, targets = _next_pairs(epoch_pairs, epoch, inputs, self.device)
                self.network.train()
                snapshot = {key: value.clone() for key, value in self.network.state_dict().items()}
                start = time.perf_counter()
                epoch_order = list(order)
                shuffler.shuffle(epoch_order)
                epoch_order = torch.tensor(epoch_order, device=self.device)
                loss_sum = torch.zeros((), device=self.device)
                progress = Progress(count, f"epoch {epoch}/{num_epochs}") if verbose else None
                for first in range(0, count, batch_size):
                    batch = epoch_order[first:first + batch_size]
                    batch_inputs, batch_targets = self._to_unit(inputs[batch]), self._to_unit(targets[batch])
                    if self.config.augment:
                        batch_inputs, batch_targets = _augment(batch_inputs, batch_targets, generator)
                    batch_inputs = batch_inputs.contiguous(memory_format=self.memory_format)
                    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=self.train_in_bfloat16):
                        output = self.network(batch_inputs)
                    # The residual output adds the float32 input, so the loss is float32 either way.
                    loss = F.mse_loss(output.float(), batch_targets)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    schedule.step()
                    loss_sum += loss.detach() * len(batch)
                    if progress is not None:
                        progress.update(min(first + batch_size, count))
                if progress is not None:
                    progress.close()
                mean_loss = loss_sum.item() / count
                previous_loss = self.history[-1]['loss'] if self.history else math.inf
                # The loss of each step is computed before its update: only the weights show what the last
                # step did.
                weights_are_finite = all(parameter.isfinite().all() for parameter in self.network.parameters())
                loss_diverged = not math.isfinite(mean_loss) or mean_loss > self.DIVERGENCE_FACTOR * previous_loss
                if loss_diverged or not weights_are_finite:
                    self.network.load_state_dict(snapshot)
                    previous = f" (previous epoch: {previous_loss:g})" if self.history else ""
                    problem = (f"the training loss became {mean_loss:g} in epoch {epoch}{previous}" if loss_diverged
                               else f"the weights became NaN or infinite in epoch {epoch}")
                    raise FloatingPointError(
                        f"{problem}; the weights from before that epoch are restored. Try a lower learning rate "
                        f"(now {lr}).")
                kept, losses = None, None
                if epoch == num_epochs and continuing:
                    kept, losses = self._finish_continuation(inputs[heldout], targets[heldout])
                seconds = time.perf_counter() - start
                record = {'epoch': len(self.history) + 1, 'loss': mean_loss, 'seconds': seconds,
                          'images_per_second': count / seconds, 'val_psnr': None}
                if epoch == num_epochs and continuing:
                    record['kept'] = kept
                if losses is not None:
                    record['heldout_losses'] = losses
                if validation is not None:
                    denoised = self.predict(validation[0]) / 255
                    record['val_psnr'] = psnr(denoised, validation[1].to(denoised.device).float() / 255)
                self.history.append(record)
                if verbose:
                    print(_epoch_line(epoch, num_epochs, record), flush=True)
                if after_epoch is not None:
                    after_epoch(record)
        return self.history

    def _optimizer_and_schedule(self, lr, total_steps):
        """Adam at ``lr``, and its schedule: a cosine from ``lr`` to ``lr / 100`` over ``total_steps`` steps."""
        optimizer = torch.optim.Adam(self.network.parameters(), lr=lr)
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=lr / 100)

    def _finish_continuation(self, heldout_input, heldout_target):
        """The end of continued training: the held-out pairs choose how much of the change to keep; returns
        ``_keep_best``'s choice and losses (None, None without held-out pairs)."""
        if not len(heldout_input):
            return None, None
        with torch.no_grad():
            return _keep_best(list(self.network.parameters()), self.loaded_weights,
                              lambda: self._heldout_loss(heldout_input, heldout_target))

    def _heldout_loss(self, noisy, other_noisy):
        """The mean squared error ([0, 1] scale) of the network's prediction of ``other_noisy`` from ``noisy`` in
        one pass: without the self-ensemble, 8 times cheaper (it ranks the held-out choice's points alike)."""
        ensemble, self.self_ensemble = self.self_ensemble, False
        try:
            denoised = self.predict(noisy).div_(255)
        finally:
            self.self_ensemble = ensemble
        return (denoised - other_noisy.to(denoised.device).float() / 255).pow(2).mean().item()

    def predict(self, test_input):
        """Denoise ``[N, 3, H, W]`` images (uint8 or float in [0, 255], any N, H, W) -> float in [0, 255].

        Images are padded (edge replication) to a multiple of 8 and cropped back. Memory stays bounded: images
        go through the network in chunks of about ``PREDICT_CHUNK_PIXELS`` pixels, and an image larger than that
        in overlapping windows of ``PREDICT_TILE_SIZE`` pixels a side, which give the output of one pass (see
        ``_predict_in_tiles``). With ``self_ensemble``, each output is the mean over the 8 symmetries of the
        square.
        """
        _check_images(test_input, 'test_input')
        n, _, height, width = test_input.shape
        padded_pixels = self._padded_size(height) * self._padded_size(width)
        output = torch.empty(test_input.shape, device=test_input.device)
        self.network.eval()
        with torch.inference_mode():
            if padded_pixels > self.PREDICT_CHUNK_PIXELS:
                for index in range(n):
                    self._predict_in_tiles(test_input[index:index + 1], output[index:index + 1])
                return output
            chunk = self.PREDICT_CHUNK_PIXELS // padded_pixels
            for first in range(0, n, chunk):
                output[first:first + chunk] = self._denoise(test_input[first:first + chunk]).to(output.device)
        return output

    def _padded_size(self, size):
        """``size`` rounded up to the multiple of ``SIZE_MULTIPLE`` that predict pads it to."""
        return -(-size // self.SIZE_MULTIPLE) * self.SIZE_MULTIPLE

    def _denoise(self, images):
        """``predict`` for images that go through the network at once; on the model's device."""
        height, width = images.shape[2:]
        pad_height, pad_width = self._padded_size(height) - height, self._padded_size(width) - width
        # Replication, not reflection: reflection needs at least pad + 1 pixels per side.
        images = F.pad(self._to_unit(images), (0, pad_width, 0, pad_height), mode='replicate')
        denoised = _symmetric_mean(self.network, images) if self.self_ensemble else self.network(images)
        return denoised[:, :, :height, :width].clamp(0, 1) * 255

    def _predict_in_tiles(self, image, output):
        """Denoise one ``[1, 3, H, W]`` image into ``output`` tile by tile: each square tile goes through the
        network with ``PREDICT_TILE_MARGIN`` pixels of context on every side (more than the U-Net's receptive
        radius), so that each output pixel sees what it sees in one pass. Tiles and windows start at multiples
        of 8 and the windows of the last row and column reach the padded image's edge, so the poolings group
        the pixels they group in one pass, in every flip and transposition.
        """
        margin = self.PREDICT_TILE_MARGIN
        room = self.PREDICT_TILE_SIZE - 2 * margin
        tile = max(self.SIZE_MULTIPLE, room // self.SIZE_MULTIPLE * self.SIZE_MULTIPLE)
        height, width = image.shape[2:]
        for top in range(0, height, tile):
            for left in range(0, width, tile):
                window_top, window_left = max(top - margin, 0), max(left - margin, 0)
                # Beyond the image, the window is the edge padding, which _denoise adds as one pass does.
                window = image[:, :, window_top:top + tile + margin, window_left:left + tile + margin]
                denoised = self._denoise(window)[:, :, top - window_top:top - window_top + tile,
                                                 left - window_left:left - window_left + tile]
                output[:, :, top:top + tile, left:left + tile] = denoised.to(output.device)
