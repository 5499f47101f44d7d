"""Mini-project 2: a deep-learning framework written from scratch, and a Noise2Noise denoiser built with it.

Every block computes its forward pass and its hand-written backward pass with plain tensor operations (no
autograd, no ``torch.nn`` module, no ``torch.optim``), with torch.nn's conventions: ``[N, C, H, W]`` tensors,
torch's argument names, defaults and initialisation; ``backward(grad_output)`` returns the gradient w.r.t. the
input and *adds* the parameter gradients into ``param()``'s ``(parameter, gradient)`` pairs until ``zero_grad()``.

Imports, as the course allows: ``empty``, ``cat``, ``arange``, ``fold``, ``unfold`` and tensor methods; ``torch``
itself only for ``torch.set_grad_enabled(False)`` below (autograd off from import on, in this thread),
``torch.cuda.is_available()`` and ``torch.device``. Nothing here imports ``others/``, the toolbox beside it.

Reading order: base class, layers, activations, losses, optimizers, container; then the denoiser: its helpers,
the ``bestmodel.pth`` format, training and prediction, ``Config`` and ``Model``.
"""
import io
import math
import numbers
import pickle
import pickletools
import random
import sys
import time
from array import array
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import empty, cat, arange
from torch.nn.functional import fold, unfold

torch.set_grad_enabled(False)

_Tensor = type(empty(0))
_UINT8 = empty(0).byte().dtype
_BOOL = empty(0).bool().dtype


def _pair(value, name, minimum):
    """Return ``value`` as a 2-tuple of ints, as torch stores ``kernel_size``, ``stride``, ...; TypeError or
    ValueError naming ``name`` unless it is an int or a pair of ints, each at least ``minimum``."""
    pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


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


# -------------------- Base class -------------------------------------------------------------------

class _SetByForward:
    """A class attribute for a value that ``forward`` keeps for ``backward``: the instance attribute forward sets
    hides it (no cost once set); read before forward, it says to call forward first."""

    def __get__(self, instance, owner):
        if instance is None:
            return self
        raise RuntimeError(f"{type(instance).__name__}.backward was called before forward: call forward first")


class Module:
    """A block of the network: ``forward(*input)``, ``backward(*gradwrtoutput)``, ``param()``.

    Blocks with parameters list their attribute names in ``_parameter_names``; each parameter ``p``
    has its gradient in the attribute ``p_grad`` (e.g. ``weight`` and ``weight_grad``).
    """

    _parameter_names = ()

    def forward(self, *input):
        raise NotImplementedError

    def backward(self, *gradwrtoutput):
        raise NotImplementedError

    def backward_parameters(self, *gradwrtoutput):
        """Accumulate the parameter gradients only: for a block whose input needs no gradient (the network's
        input, like a torch tensor without ``requires_grad``). Blocks that can skip work override it."""
        self.backward(*gradwrtoutput)

    def __call__(self, *input):
        return self.forward(*input)

    def param(self):
        return [(getattr(self, name), getattr(self, name + '_grad')) for name in self._parameter_names
                if getattr(self, name) is not None]

    def zero_grad(self):
        for _, gradient in self.param():
            gradient.zero_()

    def to(self, *args, **kwargs):
        """Move or cast parameters and gradients like ``Tensor.to``, replacing them (build optimizers after);
        returns self."""
        for name in self._parameter_names:
            for attribute in (name, name + '_grad'):
                value = getattr(self, attribute)
                if value is not None:
                    setattr(self, attribute, value.to(*args, **kwargs))
        return self

    def __repr__(self):
        return f"{type(self).__name__}()"


class _ConvNd(Module):
    """What the convolutions share, as torch's ``_ConvNd``: their arguments, checked and stored as torch stores
    them (the sizes as 2-tuples), the weight in torch's layout (``[C_out, C_in, kh, kw]``, or ``[C_in, C_out, kh,
    kw]`` if ``transposed``), torch's initialisation (weight and bias uniform in ``±1/√fan_in``, ``fan_in =
    weight[0].numel()``), the input checks and ``__repr__``."""

    _parameter_names = ('weight', 'bias')
    # The constructor arguments that __repr__ shows after the channel counts, in the constructor's order.
    _repr_arguments = ('kernel_size', 'stride', 'padding', 'dilation', 'bias')

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                 output_padding, bias):
        self.in_channels = _positive_int(in_channels, 'in_channels')
        self.out_channels = _positive_int(out_channels, 'out_channels')
        self.kernel_size = _pair(kernel_size, 'kernel_size', minimum=1)
        self.stride = _pair(stride, 'stride', minimum=1)
        self.padding = _pair(padding, 'padding', minimum=0)
        self.output_padding = _pair(output_padding, 'output_padding', minimum=0)
        self.dilation = _pair(dilation, 'dilation', minimum=1)
        if transposed and any(op >= s and op >= d
                              for op, s, d in zip(self.output_padding, self.stride, self.dilation)):
            raise ValueError("output_padding must be smaller than either stride or dilation, as in torch")
        channels = (in_channels, out_channels) if transposed else (out_channels, in_channels)
        self.weight = empty(*channels, *self.kernel_size)
        self.bias = empty(out_channels) if bias else None
        self._initialise()

    def _initialise(self):
        # The same arithmetic as torch's kaiming_uniform_(a=√5), so that after the same
        # torch.manual_seed a fresh block draws exactly torch's numbers.
        fan_in = self.weight[0].numel()
        gain = math.sqrt(2.0 / (1 + math.sqrt(5) ** 2))
        weight_bound = math.sqrt(3.0) * gain / math.sqrt(fan_in)
        self.weight.uniform_(-weight_bound, weight_bound)
        self.weight_grad = self.weight.new_zeros(self.weight.shape)
        if self.bias is not None:
            bias_bound = 1 / math.sqrt(fan_in)
            self.bias.uniform_(-bias_bound, bias_bound)
        self.bias_grad = None if self.bias is None else self.bias.new_zeros(self.bias.shape)

    def _check_input(self, input):
        # Attribute comparisons only: this runs on every forward of the training loop.
        if not isinstance(input, _Tensor) or input.dim() != 4 or input.shape[1] != self.in_channels:
            got = tuple(input.shape) if isinstance(input, _Tensor) else type(input).__name__
            raise ValueError(f"{type(self).__name__} expects a tensor [N, {self.in_channels}, H, W], got {got}")
        if input.dtype != self.weight.dtype:
            raise TypeError(f"{type(self).__name__} has {self.weight.dtype} parameters and got a {input.dtype} "
                            f"input; convert one to the other's dtype (e.g. input.to(block.weight.dtype))")
        if input.device != self.weight.device:
            raise ValueError(f"{type(self).__name__} has its parameters on {self.weight.device} and got an input "
                            f"on {input.device}; move one to the other (block.to(device))")
        if input.numel() == 0:
            raise ValueError(f"{type(self).__name__} got an empty input of shape {tuple(input.shape)}")

    # torch's CPU convolution, transposed or not (ATen's ConvParams::use_mkldnn), hands a float32 input to oneDNN
    # when it holds more than one image or more than this many values, or when both kernel sides exceed 3.
    TORCH_IM2COL_MAX_VALUES = 20480

    def _uses_torch_im2col(self, input):
        """Whether torch's CPU convolution (transposed or not) computes ``input`` by im2col and one product."""
        n, channels, height, width = input.shape
        return (input.device.type == 'cpu' and n == 1 and channels * height * width <= self.TORCH_IM2COL_MAX_VALUES
                and min(self.kernel_size) <= 3)

    def _convolved_size(self, height, width):
        """The output size of a convolution with these sizes of an ``height × width`` image."""
        out_height, out_width = (
            (size + 2 * p - d * (k - 1) - 1) // s + 1
            for size, p, d, k, s in zip((height, width), self.padding, self.dilation, self.kernel_size, self.stride))
        if out_height < 1 or out_width < 1:
            raise ValueError(f"input {height}x{width} is smaller than the kernel of {self!r}")
        return out_height, out_width

    def __repr__(self):
        # bias shows as the constructor takes it, a bool
        arguments = ''.join(f", {name}={self.bias is not None if name == 'bias' else getattr(self, name)}"
                            for name in self._repr_arguments)
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}{arguments})"


# -------------------- Layers -----------------------------------------------------------------------

class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation), as ``torch.nn.Conv2d`` with ``groups=1``.

    Shapes: input ``[N, C_in, H, W]`` -> output ``[N, C_out, H_out, W_out]`` with
    ``H_out = (H + 2·padding - dilation·(kh - 1) - 1) // stride + 1`` (likewise ``W_out``).

    Forward, with ``X = unfold(input)`` the ``[C_in·kh·kw, H_out·W_out]`` matrix of an image's patches (one
    column per output pixel) and ``W`` the weight as a ``[C_out, C_in·kh·kw]`` matrix:   ``Y = W X + b``.
    Backward, with ``dY`` as a ``[C_out, H_out·W_out]`` matrix:
    ``dW = dY Xᵀ``,  ``db = Σ_columns dY``,  ``d input = fold(Wᵀ dY)``.

    Where torch computes by im2col (``_uses_torch_im2col``: one small image on the CPU) this runs in torch's
    order, so the forward and every gradient equal ``F.conv2d`` and autograd to the last bit, as the course's
    ``torch.allclose`` checks need (~1e-8 near 0). Elsewhere (batches: torch calls oneDNN, whose order nothing
    here reproduces) the same equations run through ``_PaddedPatches``, the fast path, to float rounding.
    """

    _fast = _columns = _image_shape = _SetByForward()

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, transposed=False,
                         output_padding=0, bias=bias)
        self._padded_patches = _PaddedPatches(self)

    def forward(self, input):
        self._check_input(input)
        return self._convolve(input)

    def _convolve(self, input):
        self._fast = not self._uses_torch_im2col(input)
        if self._fast:
            return self._padded_patches.forward(input)
        out_height, out_width = self._convolved_size(*input.shape[2:])
        self._image_shape = input.shape[2:]
        self._columns = unfold(input, self.kernel_size, dilation=self.dilation, padding=self.padding,
                               stride=self.stride)[0]  # X [C_in·kh·kw, H_out·W_out]
        weight_matrix = self.weight.reshape(self.out_channels, -1)  # W [C_out, C_in·kh·kw]
        if self.bias is None:
            output = weight_matrix.matmul(self._columns)
        else:
            output = self.bias.view(-1, 1).expand(-1, self._columns.shape[1]).addmm(weight_matrix, self._columns)
        return output.view(1, self.out_channels, out_height, out_width)

    def backward(self, grad_output):
        if self._fast:
            return self._padded_patches.backward(grad_output)
        grad_matrix = self._accumulate_parameter_grads(grad_output)  # dY [C_out, H_out·W_out]
        grad_columns = self.weight.reshape(self.out_channels, -1).t().matmul(grad_matrix)  # [C_in·kh·kw, H_out·W_out]
        return fold(grad_columns[None], self._image_shape, self.kernel_size, dilation=self.dilation,
                    padding=self.padding, stride=self.stride)

    def backward_parameters(self, grad_output):
        if self._fast:
            self._padded_patches.accumulate_parameter_grads(grad_output)
        else:
            self._accumulate_parameter_grads(grad_output)

    def _accumulate_parameter_grads(self, grad_output):
        grad_matrix = grad_output.reshape(self.out_channels, -1)  # dY [C_out, H_out·W_out]
        self.weight_grad += grad_matrix.matmul(self._columns.t()).view_as(self.weight)
        if self.bias is not None:
            self.bias_grad += grad_output.sum((0, 2, 3))
        return grad_matrix


class _PaddedPatches:
    """``Conv2d``'s equations for a whole batch, with ``unfold`` and ``fold`` written by hand for speed.

    The input is copied channels-last into a zero-bordered buffer ``[N, H_p, W_p, C_in]`` (``H_p = H +
    2·pad_h``, kept); the patch matrix ``X`` ``[N·H_out·W_out, kh·kw·C_in]``, one row per output pixel, is a
    strided view of it copied once, so one large matrix product serves the batch: ``Y = X Wᵀ + b``, ``W`` the
    weight as a ``[C_out, kh·kw·C_in]`` matrix; outputs stay channels-last in memory. Backward: ``dW = dYᵀ X``,
    ``db = Σ_rows dY``, and each row of ``dX = dY W`` is added onto the padded pixels its patch read (one
    ``scatter_add_``, the transpose of the strided view).
    """

    # Buffers over this many values are built anew each call: kept, a large input's (predict's chunks) would stay
    # in memory. 16 M values: far more than any buffer of a training batch of the shipped network.
    MAX_KEPT = 1 << 24

    def __init__(self, conv):
        self.conv = conv
        self.kept = {}

    def _kept(self, role, key, make):
        """What ``make()`` returns (a buffer, or a buffer and a view of it) for ``role``, built once and kept while
        ``key`` (shapes, dtype, device) stays the same: a training loop allocates and zero-fills it once."""
        kept_key, value = self.kept.get(role, (None, None))
        if kept_key != key:
            value = make()
            if (value[0] if isinstance(value, tuple) else value).numel() <= self.MAX_KEPT:
                self.kept[role] = (key, value)
            else:
                self.kept.pop(role, None)
        return value

    def forward(self, input):
        conv = self.conv
        n, _, height, width = input.shape
        (kernel_height, kernel_width), (pad_height, pad_width) = conv.kernel_size, conv.padding

        def make():
            padded = input.new_zeros(n, height + 2 * pad_height, width + 2 * pad_width, conv.in_channels)
            return padded, padded[:, pad_height:pad_height + height, pad_width:pad_width + width]
        padded, image = self._kept('padded input', (n, height, width, input.dtype, input.device), make)
        image.copy_(input.permute(0, 2, 3, 1))
        out_height, out_width = conv._convolved_size(height, width)
        batch_stride, row_stride, column_stride, channel_stride = padded.stride()
        self.padded_shape, self.image_shape = padded.shape, (height, width)
        self.patches = padded.as_strided(
            (n, out_height, out_width, kernel_height, kernel_width, conv.in_channels),
            (batch_stride, row_stride * conv.stride[0], column_stride * conv.stride[1],
             row_stride * conv.dilation[0], column_stride * conv.dilation[1], channel_stride),
        ).reshape(n * out_height * out_width, -1)  # X [N·H_out·W_out, kh·kw·C_in]
        self.weight_matrix = conv.weight.permute(0, 2, 3, 1).reshape(conv.out_channels, -1)  # W [C_out, kh·kw·C_in]
        if conv.bias is None:
            output = self.patches.matmul(self.weight_matrix.t())  # [N·H_out·W_out, C_out]
        else:  # the bias as the product's accumulator: no operation of its own
            output = conv.bias.addmm(self.patches, self.weight_matrix.t())
        return output.view(n, out_height, out_width, conv.out_channels).permute(0, 3, 1, 2)

    def accumulate_parameter_grads(self, grad_output):
        conv = self.conv
        grad_matrix = grad_output.permute(0, 2, 3, 1).reshape(-1, conv.out_channels)  # dY [N·H_out·W_out, C_out]
        conv.weight_grad.add_(grad_matrix.t().matmul(self.patches).view(
            conv.out_channels, *conv.kernel_size, conv.in_channels).permute(0, 3, 1, 2))
        if conv.bias is not None:
            conv.bias_grad.add_(grad_matrix.sum(0))
        return grad_matrix

    def backward(self, grad_output):
        n, _, out_height, out_width = grad_output.shape
        pad_height, pad_width = self.conv.padding
        grad_matrix = self.accumulate_parameter_grads(grad_output)
        grad_patches = grad_matrix.matmul(self.weight_matrix)  # dX [N·H_out·W_out, kh·kw·C_in]
        grad_padded = grad_output.new_zeros(self.padded_shape)  # [N, H_p, W_p, C_in]
        # One row of C_in values per (pixel, tap), each added onto the padded pixel that tap read. (index_add_
        # adds the same rows one by one: slower below about 64 channels.)
        channels = self.conv.in_channels
        grad_padded.view(-1, channels).scatter_add_(
            0, self.patch_rows(n, out_height, out_width, grad_output.device), grad_patches.view(-1, channels))
        height, width = self.image_shape
        return grad_padded[:, pad_height:pad_height + height, pad_width:pad_width + width].permute(0, 3, 1, 2)

    def patch_rows(self, n, out_height, out_width, device):
        """For each row ``(n, y, x, i, j)`` of the patches as a ``[N·H_out·W_out·kh·kw, C_in]`` matrix, the row
        of the padded buffer as a ``[N·H_p·W_p, C_in]`` matrix that it reads, expanded along ``C_in``
        (kept)."""
        conv = self.conv
        _, padded_height, padded_width, _ = self.padded_shape

        def make():
            (kernel_height, kernel_width), (row_stride, column_stride) = conv.kernel_size, conv.stride
            image = arange(n, device=device).view(-1, 1, 1, 1, 1) * (padded_height * padded_width)
            rows = (arange(out_height, device=device).view(1, -1, 1, 1, 1) * row_stride
                    + arange(kernel_height, device=device).view(1, 1, 1, -1, 1) * conv.dilation[0])
            columns = (arange(out_width, device=device).view(1, 1, -1, 1, 1) * column_stride
                       + arange(kernel_width, device=device).view(1, 1, 1, 1, -1) * conv.dilation[1])
            patch_rows = (image + rows * padded_width + columns).reshape(-1)  # [N·H_out·W_out·kh·kw]
            return patch_rows[:, None].expand(-1, conv.in_channels)
        return self._kept('patch rows', (n, out_height, out_width, self.padded_shape, device), make)


class TransposeConv2d(_ConvNd):
    """2-D transposed convolution, as ``torch.nn.ConvTranspose2d`` with ``groups=1``.

    Shapes: input ``[N, C_in, H, W]`` -> output ``[N, C_out, H_out, W_out]`` with
    ``H_out = (H - 1)·stride - 2·padding + dilation·(kh - 1) + output_padding + 1``; weight ``[C_in, C_out, kh, kw]``.

    The backward pass of a convolution: with ``W`` viewed as ``[C_in, C_out·kh·kw]`` and ``X_n`` the input
    viewed as ``[C_in, H·W]``, forward is ``Y = fold(Wᵀ X) + b``.
    Backward, with ``G = unfold(dY)`` of shape ``[N, C_out·kh·kw, H·W]``:
    ``d input = W G``,  ``dW = Σ_n X_n G_nᵀ``,  ``db = Σ dY``.

    Computed so (``fold``, ``unfold``) where torch uses im2col (see ``Conv2d``): equal to ``F.conv_transpose2d``
    and autograd to the last bit. Elsewhere ``_TransposedPatches``, the fast path: the same equations channels-last.
    """

    _repr_arguments = ('kernel_size', 'stride', 'padding', 'output_padding', 'dilation', 'bias')
    _fast = _input = _output_size = _SetByForward()

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 dilation=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, transposed=True,
                         output_padding=output_padding, bias=bias)
        self._patches = _TransposedPatches(self)

    def forward(self, input):
        self._check_input(input)
        n, _, height, width = input.shape
        out_height, out_width = (
            (size - 1) * s - 2 * p + d * (k - 1) + op + 1
            for size, s, p, d, k, op in zip((height, width), self.stride, self.padding, self.dilation,
                                            self.kernel_size, self.output_padding))
        if out_height < 1 or out_width < 1:
            raise ValueError(f"{self!r} would give an empty output for a {height}x{width} input")
        self._input = input
        self._output_size = (out_height, out_width)
        self._fast = (not self._uses_torch_im2col(input)
                      and all(op < s for op, s in zip(self.output_padding, self.stride)))
        if self._fast:
            return self._patches.forward(input, self._output_size)
        columns = self.weight.view(self.in_channels, -1).t().matmul(input.reshape(n, self.in_channels, -1))
        # fold counts its sliding blocks from the output size; when output_padding >= stride (allowed when
        # it is below dilation) that count exceeds the input's, and the extra blocks carry nothing.
        blocks = self._convolved_size(out_height, out_width)
        if blocks != (height, width):
            padded = columns.new_zeros(n, columns.shape[1], *blocks)
            padded[:, :, :height, :width] = columns.view(n, -1, height, width)
            columns = padded.view(n, columns.shape[1], -1)
        output = fold(columns, self._output_size, **self._sliding())
        if self.bias is not None:
            output += self.bias.view(1, -1, 1, 1)
        return output

    def _sliding(self):
        return dict(kernel_size=self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)

    def backward(self, grad_output):
        if self._fast:
            return self._patches.backward(grad_output)
        input = self._input
        n, _, height, width = input.shape
        grad_columns = unfold(grad_output, **self._sliding())
        blocks = self._convolved_size(*self._output_size)
        if blocks != (height, width):
            grad_columns = grad_columns.view(n, -1, *blocks)[:, :, :height, :width].reshape(n, -1, height * width)
        flat_input = input.reshape(n, self.in_channels, -1)
        self.weight_grad += flat_input.matmul(grad_columns.transpose(1, 2)).sum(0).view_as(self.weight)
        if self.bias is not None:
            self.bias_grad += grad_output.sum((0, 2, 3))
        return self.weight.view(self.in_channels, -1).matmul(grad_columns).view(n, self.in_channels, height, width)


class _TransposedPatches:
    """``TransposeConv2d``'s equations channels-last, for a whole batch (``output_padding < stride``).

    Forward: the input as a matrix ``X`` ``[N·H·W, C_in]`` times the weight as a ``[C_in, kh·kw·C_out]`` matrix
    gives every tap's contribution, ``Z = X W`` ``[N, H, W, kh, kw, C_out]``; tap ``(u, v)`` of input pixel
    ``(i, j)`` lands on output pixel ``(s·i - p + d·u, s·j - p + d·v)``: ``kh·kw`` strided adds of ``Z`` (the
    ``fold``), then ``+ b``. Backward: the patch matrix ``G`` ``[N·H·W, kh·kw·C_out]`` of ``dY`` is that of the
    convolution of ``dY`` with the same weight and sizes (``_AdjointConvolution``), whose ``_PaddedPatches``
    compute ``d input = G Wᵀ`` and ``dW = Xᵀ G``; ``db = Σ dY``.
    """

    def __init__(self, transposed):
        self.transposed = transposed
        self.adjoint = _PaddedPatches(_AdjointConvolution(transposed))

    def forward(self, input, output_size):
        conv = self.transposed
        n, _, height, width = input.shape
        (kernel_height, kernel_width), (row_step, column_step) = conv.kernel_size, conv.stride
        (pad_height, pad_width), (row_dilation, column_dilation) = conv.padding, conv.dilation
        weight_matrix = conv.weight.permute(0, 2, 3, 1).reshape(conv.in_channels, -1)  # W [C_in, kh·kw·C_out]
        taps = input.permute(0, 2, 3, 1).reshape(-1, conv.in_channels).matmul(weight_matrix).view(
            n, height, width, kernel_height, kernel_width, conv.out_channels)  # Z [N, H, W, kh, kw, C_out]
        # The uncropped output: every tap's pixel, padding rows included.
        full_height = (height - 1) * row_step + row_dilation * (kernel_height - 1) + 1
        full_width = (width - 1) * column_step + column_dilation * (kernel_width - 1) + 1
        out_height, out_width = output_size
        full = input.new_zeros(n, max(full_height, pad_height + out_height), max(full_width, pad_width + out_width),
                               conv.out_channels)  # [N, H_full, W_full, C_out]
        for u in range(kernel_height):
            rows = slice(row_dilation * u, row_dilation * u + row_step * (height - 1) + 1, row_step)
            for v in range(kernel_width):
                columns = slice(column_dilation * v, column_dilation * v + column_step * (width - 1) + 1, column_step)
                full[:, rows, columns] += taps[:, :, :, u, v]
        output = full[:, pad_height:pad_height + out_height, pad_width:pad_width + out_width].permute(0, 3, 1, 2)
        if conv.bias is not None:
            output += conv.bias.view(1, -1, 1, 1)
        return output

    def backward(self, grad_output):
        conv = self.transposed
        grad_input = self.adjoint.forward(grad_output)  # G Wᵀ, [N, C_in, H, W]
        self.adjoint.accumulate_parameter_grads(conv._input)  # dW += Xᵀ G
        if conv.bias is not None:
            conv.bias_grad += grad_output.sum((0, 2, 3))
        return grad_input


class _AdjointConvolution:
    """The convolution whose input gradient a ``TransposeConv2d`` computes forward, as ``_PaddedPatches`` reads a
    ``Conv2d``: ``C_out`` to ``C_in`` channels, the transposed convolution's weight (read when used: ``to``
    replaces it) and sizes, no bias."""

    bias = None
    _convolved_size = _ConvNd._convolved_size

    def __init__(self, transposed):
        self.transposed = transposed
        self.in_channels, self.out_channels = transposed.out_channels, transposed.in_channels
        self.kernel_size, self.stride = transposed.kernel_size, transposed.stride
        self.padding, self.dilation = transposed.padding, transposed.dilation

    @property
    def weight(self):
        return self.transposed.weight

    @property
    def weight_grad(self):
        return self.transposed.weight_grad


class NearestUpsampling(Module):
    """Nearest-neighbour upsampling by an integer factor ``s``, as ``F.interpolate(mode='nearest')``.

    Shapes: ``[N, C, H, W]`` -> ``[N, C, s·H, s·W]``.
    Forward: ``Y[n, c, i, j] = X[n, c, i // s, j // s]``.
    Backward: ``dX[n, c, i, j] = Σ_{a, b < s} dY[n, c, s·i + a, s·j + b]`` (each input pixel feeds an s×s block),
    added row by row as torch adds them, so that the sums are torch's to the last bit.
    """

    def __init__(self, scale_factor):
        if not isinstance(scale_factor, int) or isinstance(scale_factor, bool) or scale_factor < 1:
            raise ValueError(f"scale_factor must be a positive int, got {scale_factor!r}")
        self.scale_factor = scale_factor

    def forward(self, input):
        if not isinstance(input, _Tensor) or input.dim() != 4:
            raise ValueError("NearestUpsampling expects a tensor [N, C, H, W]")
        n, c, height, width = input.shape
        s = self.scale_factor
        return input.view(n, c, height, 1, width, 1).expand(n, c, height, s, width, s).reshape(n, c, height * s, width * s)

    def backward(self, grad_output):
        n, c, height, width = grad_output.shape
        s = self.scale_factor
        blocks = grad_output.reshape(n, c, height // s, s, width // s, s)
        grad_input = blocks[:, :, :, 0, :, 0].clone()
        for row in range(s):
            for column in range(s):
                if row or column:
                    grad_input += blocks[:, :, :, row, :, column]
        return grad_input

    def __repr__(self):
        return f"NearestUpsampling(scale_factor={self.scale_factor})"


class Upsampling(Conv2d):
    """Nearest upsampling by ``scale_factor`` ``s``, then a convolution: ``Y = conv(up(X))``, the ``Conv2d`` it is
    (its weight, bias and attributes) applied to ``NearestUpsampling(s)``'s output: ``[N, C_in, H, W]`` ->
    ``[N, C_out, H_out, W_out]``, ``H_out`` the convolution's for ``s·H`` rows. Backward: ``dX = upᵀ(convᵀ(dY))``,
    each input pixel summing the gradient of its ``s×s`` block; exact where the two blocks are."""

    _repr_arguments = Conv2d._repr_arguments + ('scale_factor',)

    def __init__(self, in_channels, out_channels, kernel_size, scale_factor=2, stride=1, padding=0, dilation=1,
                 bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, bias)
        self._upsample = NearestUpsampling(scale_factor)
        self.scale_factor = scale_factor

    def forward(self, input):
        self._check_input(input)
        return self._convolve(self._upsample.forward(input))

    def backward(self, grad_output):
        return self._upsample.backward(super().backward(grad_output))


# -------------------- Activations ------------------------------------------------------------------

class ReLU(Module):
    """``y = max(x, 0)``;  ``dx = dy · [x > 0]``."""

    _positive = _SetByForward()

    def forward(self, input):
        self._positive = input > 0
        return input.clamp(min=0)

    def backward(self, grad_output):
        return grad_output * self._positive


class LeakyReLU(Module):
    """``y = x`` where ``x > 0``, else ``negative_slope · x``;  ``dx = dy`` where ``x > 0``, else ``negative_slope · dy``."""

    _positive = _SetByForward()

    def __init__(self, negative_slope=0.01):
        self.negative_slope = _finite_number(negative_slope, 'negative_slope', minimum=-math.inf)

    def forward(self, input):
        self._positive = input > 0
        return input.where(self._positive, input * self.negative_slope)

    def backward(self, grad_output):
        return grad_output.where(self._positive, grad_output * self.negative_slope)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(Module):
    """``y = 1 / (1 + e^(-x))``;  ``dx = dy · (1 - y) · y``.

    The tensor method ``sigmoid`` and torch's order of products: ``1 / (1 + exp(-x))`` is off by an ulp here
    and there, which a convolution's backward, cancelling near 0, turns into gradients that fail ``allclose``.
    """

    _output = _SetByForward()

    def forward(self, input):
        self._output = input.sigmoid()
        return self._output

    def backward(self, grad_output):
        return grad_output * (1 - self._output) * self._output


class Tanh(Module):
    """``y = tanh(x)``;  ``dx = dy · (1 - y²)``.

    The tensor method ``tanh`` (see ``Sigmoid``); torch rounds ``1 - y²`` once (a fused multiply-add), which
    float64 arithmetic, where a float32 ``y²`` is exact, reproduces.
    """

    _output = _SetByForward()

    def forward(self, input):
        self._output = input.tanh()
        return self._output

    def backward(self, grad_output):
        output = self._output.double()
        return grad_output * (1 - output * output).to(self._output.dtype)


# -------------------- Losses -----------------------------------------------------------------------

class _Loss(Module):
    """A loss of ``d = input - target``: ``forward(input, target)`` -> a 0-d tensor, ``backward()`` -> dL/d input."""

    _difference = _SetByForward()

    def forward(self, input, target):
        if input.shape != target.shape:
            raise ValueError(f"{type(self).__name__} needs input and target of one shape, got "
                             f"{tuple(input.shape)} and {tuple(target.shape)}")
        self._difference = input - target
        return self._value(self._difference)


class MSE(_Loss):
    """Mean squared error, as ``torch.nn.MSELoss()``: ``L = mean((x - t)²)`` over all elements;
    ``dL/dx = 2 (x - t) / numel``."""

    def _value(self, difference):
        return difference.pow(2).mean()

    def backward(self):
        return self._difference * (2 / self._difference.numel())


class L1(_Loss):
    """Mean absolute error, as ``torch.nn.L1Loss()``: ``L = mean(|x - t|)`` over all elements;
    ``dL/dx = sign(x - t) / numel`` (0 where ``x = t``, as torch)."""

    def _value(self, difference):
        return difference.abs().mean()

    def backward(self):
        return self._difference.sign() / self._difference.numel()


# -------------------- Optimizers -------------------------------------------------------------------

class Optimizer:
    """Updates the parameters of a ``param()`` list in place from their gradients; ``state`` holds one dict of
    tensors per parameter (momentum, moments), which ``state_dict`` / ``load_state_dict`` copy out and back.

    The update (``_update``) is elementwise: where ``_FlatBuffers`` lays the parameters end to end in one buffer
    and the gradients in another, it runs once over those (one chain of tensor operations a step, the same
    numbers), and ``state`` holds views of the flat state.
    """

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        self.lr = _finite_number(lr, 'lr')
        self.steps = 0
        self.state = [{} for _ in self.params]
        self._flat = _FlatBuffers.of(self.params)

    def zero_grad(self):
        if self._flat is not None:
            self._flat.gradient.zero_()
            return
        for _, gradient in self.params:
            gradient.zero_()

    def step(self):
        self.steps += 1
        if self._flat is None:
            for (parameter, gradient), state in zip(self.params, self.state):
                self._update(parameter, gradient, state)
            return
        starting = not self._flat.state
        self._update(self._flat.parameter, self._flat.gradient, self._flat.state)
        if starting:
            self.state = self._flat.split_state()

    def _update(self, parameter, gradient, state):
        """Update ``parameter`` in place from ``gradient`` and its ``state`` dict (empty at the first step)."""
        raise NotImplementedError

    def state_dict(self):
        return {'steps': self.steps, 'lr': self.lr,
                'state': [{key: value.clone() for key, value in slot.items()} for slot in self.state]}

    def load_state_dict(self, state_dict):
        self.steps, self.lr = state_dict['steps'], state_dict['lr']
        self.state = [{key: value.clone() for key, value in slot.items()} for slot in state_dict['state']]
        if self._flat is not None:
            self._flat.join_state(self.state)
            self.state = self._flat.split_state()


class _FlatBuffers:
    """An optimizer's parameters laid end to end in one flat buffer and their gradients in another, each tensor
    made (by ``Tensor.set_``: the blocks keep their tensor objects) a view of its slice; ``state`` holds the
    optimizer's state as flat buffers of the same length.

    ``of`` does so only where nothing else can see it: tensors of one dtype and device, contiguous, each the sole
    user of its memory (copied into a new buffer) or already laid end to end by an earlier optimizer over the
    same list (shared); otherwise it returns None. A view of a parameter taken before keeps the old memory.
    """

    def __init__(self, parameter, gradient, shapes):
        self.parameter, self.gradient, self.shapes = parameter, gradient, shapes
        self.state = {}

    @classmethod
    def of(cls, pairs):
        parameters, gradients = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        first = parameters[0]
        tensors = parameters + gradients
        if not all(isinstance(tensor, _Tensor) and tensor.dtype == first.dtype and tensor.device == first.device
                   and tensor.is_contiguous() for tensor in tensors):
            return None
        layouts = [_end_to_end_layout(group) for group in (parameters, gradients)]
        if None in layouts:
            return None
        flat_parameter, flat_gradient = (_lay_end_to_end(group, layout)
                                         for group, layout in zip((parameters, gradients), layouts))
        return cls(flat_parameter, flat_gradient, [tuple(parameter.shape) for parameter in parameters])

    def split_state(self):
        """``state`` as one dict of views per parameter, shaped as the parameter."""
        slots, offset = [], 0
        for shape in self.shapes:
            size = math.prod(shape)
            slots.append({key: buffer.narrow(0, offset, size).view(shape) for key, buffer in self.state.items()})
            offset += size
        return slots

    def join_state(self, slots):
        """Set ``state`` from one dict per parameter (empty dicts: no state yet)."""
        keys = set(slots[0])
        if any(set(slot) != keys for slot in slots):
            raise ValueError("the optimizer state has other keys for some parameters than for others")
        self.state = {key: cat([slot[key].reshape(-1) for slot in slots]) for key in sorted(keys)}


def _end_to_end_layout(tensors):
    """``'owned'`` when each tensor is the sole user of its own memory, ``'shared'`` when the tensors already
    lie end to end over the whole of one memory block, else None."""
    def spans_its_memory(tensor):
        size = tensor.numel() * tensor.element_size()
        return tensor.storage_offset() == 0 and tensor.untyped_storage().nbytes() == size

    addresses = {tensor.untyped_storage().data_ptr() for tensor in tensors}
    if len(addresses) == len(tensors) and all(spans_its_memory(tensor) for tensor in tensors):
        return 'owned'
    storage = tensors[0].untyped_storage()
    offsets = [0]
    for tensor in tensors:
        offsets.append(offsets[-1] + tensor.numel())
    if (len(addresses) == 1 and all(tensor.storage_offset() == offset for tensor, offset in zip(tensors, offsets))
            and storage.nbytes() == offsets[-1] * tensors[0].element_size()):
        return 'shared'
    return None


def _lay_end_to_end(tensors, layout):
    """The flat buffer of ``tensors`` (see ``_FlatBuffers``): theirs if ``layout`` is ``'shared'``, else a copy
    of them end to end, each tensor then set to view its slice."""
    if layout == 'shared':
        total = sum(tensor.numel() for tensor in tensors)
        return tensors[0].new_empty(0).set_(tensors[0].untyped_storage(), 0, (total,), (1,))
    flat = cat([tensor.reshape(-1) for tensor in tensors])
    offset = 0
    for tensor in tensors:
        tensor.set_(flat.untyped_storage(), offset, tensor.shape, tensor.stride())
        offset += tensor.numel()
    return flat


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``. For each parameter ``p`` with gradient ``g``:
    ``g ← g + weight_decay·p``; with momentum ``μ``: ``b ← g`` at the first step, then
    ``b ← μ·b + (1 - dampening)·g``, and ``g ← g + μ·b`` (nesterov) or ``g ← b``;  ``p ← p - lr·g``."""

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = _finite_number(momentum, 'momentum')
        self.dampening = _finite_number(dampening, 'dampening')
        self.weight_decay = _finite_number(weight_decay, 'weight_decay')
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        self.nesterov = nesterov

    def _update(self, parameter, gradient, state):
        if self.weight_decay != 0:
            gradient = gradient.add(parameter, alpha=self.weight_decay)
        if self.momentum != 0:
            if 'momentum_buffer' not in state:
                state['momentum_buffer'] = gradient.clone()
            else:
                state['momentum_buffer'].mul_(self.momentum).add_(gradient, alpha=1 - self.dampening)
            if self.nesterov:
                gradient = gradient.add(state['momentum_buffer'], alpha=self.momentum)
            else:
                gradient = state['momentum_buffer']
        parameter.add_(gradient, alpha=-self.lr)


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (``amsgrad=False``). At step ``t``, for each parameter ``p`` with gradient ``g``:
    ``g ← g + weight_decay·p``;  ``m ← β1·m + (1 - β1)·g``;  ``v ← β2·v + (1 - β2)·g²``;
    ``p ← p - lr/(1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + eps)``."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
        for index, beta in enumerate(betas):
            if _finite_number(beta, f'betas[{index}]') >= 1:
                raise ValueError(f"betas[{index}] must be in [0, 1), got {beta!r}")
        self.betas = tuple(betas)
        self.eps = _finite_number(eps, 'eps')
        self.weight_decay = _finite_number(weight_decay, 'weight_decay')

    def _update(self, parameter, gradient, state):
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.steps)
        bias_correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        if self.weight_decay != 0:
            gradient = gradient.add(parameter, alpha=self.weight_decay)
        if not state:
            state['exp_avg'] = parameter.new_zeros(parameter.shape)
            state['exp_avg_sq'] = parameter.new_zeros(parameter.shape)
        state['exp_avg'].lerp_(gradient, 1 - beta1)
        state['exp_avg_sq'].mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        denominator = (state['exp_avg_sq'].sqrt() / bias_correction2_sqrt).add_(self.eps)
        parameter.addcdiv_(state['exp_avg'], denominator, value=-step_size)


# -------------------- Container --------------------------------------------------------------------

class Sequential(Module):
    """Applies its modules in order; ``backward`` passes the gradient through them in reverse order
    (``backward_parameters`` skips the first module's input gradient)."""

    def __init__(self, *modules):
        for index, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes blocks (Module instances); argument {index} is a "
                                f"{type(module).__name__}")
        self.modules = list(modules)

    def forward(self, input):
        for module in self.modules:
            input = module.forward(input)
        return input

    def backward(self, grad_output):
        for module in reversed(self.modules):
            grad_output = module.backward(grad_output)
        return grad_output

    def backward_parameters(self, grad_output):
        for module in reversed(self.modules[1:]):
            grad_output = module.backward(grad_output)
        if self.modules:
            self.modules[0].backward_parameters(grad_output)

    def param(self):
        return [pair for module in self.modules for pair in module.param()]

    def to(self, *args, **kwargs):
        for module in self.modules:
            module.to(*args, **kwargs)
        return self

    def __iter__(self):
        return iter(self.modules)

    def __len__(self):
        return len(self.modules)

    def __getitem__(self, index):
        return self.modules[index]

    def __repr__(self):
        return "Sequential(\n" + "".join(f"  ({i}): {module!r}\n" for i, module in enumerate(self.modules)) + ")"


# -------------------- The denoiser -----------------------------------------------------------------

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


# -------------------- bestmodel.pth: plain data (dicts, lists, ints, bytes), checked whole before use ---

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


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickles only plain data (dicts, lists, tuples, strings, numbers, bytes): any class or function
    reference is refused, so a crafted file cannot run code."""

    def find_class(self, module, name):
        reference = f"{module}.{name}"[:100]
        raise BestModelError(f"refusing to load {reference}: bestmodel.pth may only contain plain data")


FILE_FORMAT = 'ee559-miniproject2-bestmodel'
FILE_VERSION = 1


def _encoded_parameters(parameters):
    """Each parameter as ``{'shape': tuple, 'data': its float32 values as little-endian bytes}``."""
    encoded = []
    for parameter in parameters:
        values = array('f', parameter.detach().to('cpu').float().flatten().tolist())
        if sys.byteorder != 'little':
            values.byteswap()
        encoded.append({'shape': tuple(parameter.shape), 'data': values.tobytes()})
    return encoded


def _write_atomically(path, payload):
    """Pickle ``payload`` to ``path`` through a temporary file and a rename: a crash leaves the old file whole."""
    temporary = path.with_name(path.name + f'.tmp{random.randrange(1 << 30)}')
    try:
        with open(temporary, 'wb') as file:
            pickle.dump(payload, file, protocol=4)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_payload(path, max_bytes):
    """The plain data pickled in ``path``; BestModelError if it is not a regular file of plain data whose
    dict keys are strings (reading a FIFO would wait forever, hashing other keys can too)."""
    if not path.is_file():
        raise BestModelError(f"{path} is not a regular file")
    if path.stat().st_size > max_bytes:
        raise BestModelError(f"{path} is larger than any bestmodel file ({max_bytes} bytes)")
    data = path.read_bytes()
    try:
        _check_pickle_keys(data)
        return _PlainDataUnpickler(io.BytesIO(data)).load()
    except BestModelError as error:
        raise BestModelError(f"{path}: {error}") from None
    except Exception as error:
        raise BestModelError(f"{path} is not a readable bestmodel file: {error}") from error


def _check_payload(payload, path, architecture, shapes):
    """BestModelError unless ``payload`` has the structure ``save_model`` writes for a network of
    ``architecture`` (a dict of ints and strings) whose parameters have the ``shapes``.

    Each value is checked for its exact type (and size) before anything is formatted from it."""
    if type(payload) is not dict or payload.get('format') != FILE_FORMAT:
        raise BestModelError(f"{path} was not written by Model.save_model of Mini-project 2")
    version = payload.get('version')
    if type(version) is not int or version != FILE_VERSION:
        found = f"format version {version}" if _is_small_int(version) else "no valid format version"
        raise BestModelError(f"{path} has {found}, this code reads version {FILE_VERSION}")
    config = payload.get('config')
    if (type(config) is not dict or set(config) != set(architecture) or not all(
            _is_small_int(config[key]) if type(value) is int else type(config[key]) is str and len(config[key]) <= 20
            for key, value in architecture.items())):
        raise BestModelError(f"{path} has no valid network configuration (the fields {', '.join(architecture)}; "
                             f"files older than the upsampling field hold networks that no longer ship)")
    if config != architecture:
        differences = ', '.join(f"{key}: file {config[key]}, model {architecture[key]}"
                                for key in architecture if config[key] != architecture[key])
        arguments = ', '.join(f'{key}={config[key]!r}' for key in architecture)
        raise BestModelError(f"{path} holds a network of another configuration ({differences}); "
                             f"load it into Model({arguments})")
    saved_parameters = payload.get('parameters')
    expected = [tuple(shape) for shape in shapes]
    if (type(saved_parameters) is not list or len(saved_parameters) != len(expected) or not all(
            type(saved) is dict and type(saved.get('shape')) is tuple and saved['shape'] == shape
            and all(type(size) is int for size in saved['shape'])
            and type(saved.get('data')) is bytes and len(saved['data']) == 4 * math.prod(shape)
            for saved, shape in zip(saved_parameters, expected))):
        raise BestModelError(f"{path}: the saved parameters do not have the shapes {expected}")


def _decode_parameters(saved_parameters, parameters, path):
    """The saved float32 bytes as tensors shaped like ``parameters`` (and of their dtype and device);
    BestModelError if any value is NaN or infinite (every prediction would be NaN)."""
    values = []
    for index, (parameter, saved) in enumerate(zip(parameters, saved_parameters)):
        floats = array('f')
        floats.frombytes(saved['data'])
        if sys.byteorder != 'little':
            floats.byteswap()
        value = parameter.new_tensor(floats.tolist()).view(parameter.shape)
        if not value.isfinite().all():
            raise BestModelError(f"{path}: saved parameter {index} holds NaN or infinite values")
        values.append(value)
    return values


# -------------------- Training and prediction: what Model does with its network --------------------

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


def _random_symmetry(input, target, generator):
    """One of the 8 symmetries of the square, drawn from ``generator``, applied to both tensors:
    noise and photos look the same flipped or transposed, so this multiplies the training data."""
    if generator.random() < 0.5:
        input, target = input.flip(3), target.flip(3)
    if generator.random() < 0.5:
        input, target = input.flip(2), target.flip(2)
    if input.shape[2] == input.shape[3] and generator.random() < 0.5:
        input, target = input.transpose(2, 3), target.transpose(2, 3)
    return input, target


def _random_swap(input, target, generator):
    """Each pair's two noisy copies exchanged with probability 1/2: in Noise2Noise either one is the other's
    target, so the exchange is a second training pair for free."""
    swapped = input.new_tensor([generator.random() < 0.5 for _ in range(len(input))], dtype=_BOOL).view(-1, 1, 1, 1)
    return target.where(swapped, input), input.where(swapped, target)


def _receptive_radius(network, period):
    """How far, in pixels, an output pixel of ``network`` (``_build_network``'s blocks) sees beyond its own
    position in the input: the context ``predict``'s tiles carry. Each block maps the rows an output row reads
    back to its input's (a convolution: ``[a, b] -> [s·a - p, s·b - p + d·(k - 1)]``; nearest upsampling:
    ``[a // f, b // f]``; a transposed convolution: ``[⌈(a + p - d·(k - 1)) / s⌉, ⌊(b + p) / s⌋]``), for each
    output position modulo the network's stride ``period``, along both axes."""
    radius = 0
    for axis in (0, 1):
        for position in range(period):
            low = high = position
            for block in reversed(network.modules):
                if isinstance(block, _ConvNd):
                    step, pad = block.stride[axis], block.padding[axis]
                    span = block.dilation[axis] * (block.kernel_size[axis] - 1)
                if isinstance(block, Conv2d):
                    low, high = step * low - pad, step * high - pad + span
                if isinstance(block, Upsampling):
                    low, high = low // block.scale_factor, high // block.scale_factor
                if isinstance(block, TransposeConv2d):  # output row o reads input rows (o + p - d·u) / s
                    low, high = -(-(low + pad - span) // step), (high + pad) // step
            radius = max(radius, position - low, high - position)
    return radius


def _initialise_he(network):
    """He's initialisation: weights normal with std ``sqrt(2 / fan_in)``, biases 0."""
    for parameter, _ in network.param():
        if parameter.dim() == 4:
            parameter.normal_(0, math.sqrt(2 / parameter[0].numel()))
        else:
            parameter.zero_()


# -------------------- The model: its configuration, then Model -------------------------------------

# Config.loss -> the loss block Model trains with.
LOSSES = {'mse': MSE, 'l1': L1}


@dataclass(frozen=True)
class Config:
    """What a ``Model`` is built from: its architecture, saved with the weights (a file loads only into a model of
    the same), and how it trains (not saved); ``others/train.py``'s options. The defaults are the shipped
    network's, the upsampling study's choice (stride-2 transposed convolutions of kernel 3, width 160)."""
    width: int = field(default=160, metadata={'help': 'hidden channels'})
    kernel_size: int = field(default=3, metadata={'help': 'kernel size of the strided convolutions'})
    up_kernel_size: int = field(default=3, metadata={
        'help': "kernel size of the upsampling stages' (transposed) convolutions; odd with 'nearest'"})
    upsampling: str = field(default='transposed', metadata={
        'help': "the upsampling stages: 'transposed' (a stride-2 TransposeConv2d) or 'nearest' (an Upsampling block)"})
    lr: float = field(default=1.5e-3, metadata={'help': 'learning rate'})
    batch_size: int = 16
    optimizer: str = 'adam'
    momentum: float = field(default=0.9, metadata={'help': "SGD's momentum"})
    loss: str = 'mse'
    schedule: str = field(default='cosine', metadata={
        'help': "learning-rate schedule; 'cosine' decays from lr to 0 over each train call, step by step"})
    augment: bool = field(default=True, metadata={'help': 'random flips and transpositions of each batch'})
    swap: bool = field(default=False, metadata={
        'help': "exchange each pair's input and target with probability 1/2, drawn anew each epoch"})
    init: str = field(default='he', metadata={
        'help': "weight initialisation: 'torch' (torch's default) or 'he' (normal, std sqrt(2 / fan_in), biases 0)"})

    ARCHITECTURE = ('width', 'kernel_size', 'up_kernel_size', 'upsampling')
    CHOICES = {'optimizer': ('adam', 'sgd'), 'loss': tuple(LOSSES), 'schedule': ('constant', 'cosine'),
               'init': ('torch', 'he'), 'upsampling': ('nearest', 'transposed')}

    def __post_init__(self):
        for name, choices in self.CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got "
                                 f"{getattr(self, name)!r}")
        for name in ('width', 'kernel_size', 'up_kernel_size', 'batch_size'):
            _positive_int(getattr(self, name), name)
        _positive_number(self.lr, 'lr')
        _finite_number(self.momentum, 'momentum')
        if self.upsampling == 'nearest' and self.up_kernel_size % 2 == 0:
            raise ValueError(f"up_kernel_size must be odd with upsampling='nearest' (the convolutions after "
                             f"the upsampling keep the size), got {self.up_kernel_size}")

    def architecture(self):
        """The fields saved with the weights, as a dict."""
        return {name: getattr(self, name) for name in self.ARCHITECTURE}


class Model:
    """The Noise2Noise denoiser of the required shape, ``Conv2d(stride 2), ReLU, Conv2d(stride 2), ReLU,
    Upsampling, ReLU, Upsampling, Sigmoid``, trained on the loss between its prediction for one noisy image and
    another noisy version of it.

    ``Model(**options)`` or ``Model(config)``: a ``Config``, whose fields ``options`` may also give one by one
    (``Model(width=16)``). Besides: ``self_ensemble`` (an attribute, default on): ``predict`` averages the
    outputs for the 8 flips and transpositions of the input, each turned back (the noise differs in each view,
    so the errors partly cancel; 8 times the cost); ``continuation``: how ``train`` continues from loaded
    weights; ``device``: where the network lives and computes (default: CUDA when there is one, else the CPU).
    """

    # The file's (see the section above), here for callers that have the class.
    FILE_FORMAT, FILE_VERSION = FILE_FORMAT, FILE_VERSION
    # The network downsamples by 2 twice: predict pads inputs to a multiple of this.
    SIZE_MULTIPLE = 4
    # predict's memory bound (docs/network.md): chunks of about this many pixels, and square windows of this side
    # (context included) for an image larger than a chunk.
    PREDICT_CHUNK_PIXELS = 1 << 18
    PREDICT_TILE_SIZE = 384
    # Larger than the file of any sensible configuration: a larger one is refused unread.
    MAX_FILE_BYTES = 1 << 30
    # Plain training on all but 2 % of the pairs, which then choose between the loaded and the trained weights
    # (others/continued.py, docs/evaluation.md).
    CONTINUATION = Continuation(holdout=0.02)

    # Found through the class by others/train.py, for both mini-projects' models.
    Config = Config

    def __init__(self, config=None, *, self_ensemble=True, continuation=None, device=None, **options):
        if config is not None and not isinstance(config, self.Config):
            raise TypeError(f"config must be a {self.Config.__name__}, got {type(config).__name__}; "
                            f"give the options by name (Model(width=16))")
        self.config = replace(config, **options) if config is not None else self.Config(**options)
        self.self_ensemble = self_ensemble
        self.continuation = self.CONTINUATION if continuation is None else continuation
        if not isinstance(self.continuation, Continuation):
            raise TypeError(f"continuation must be a Continuation, got {type(continuation).__name__}")
        self.loaded_weights = None  # what load_pretrained_model loaded: continued training starts from them
        self.device = torch.device(device if device is not None else 'cuda' if torch.cuda.is_available() else 'cpu')
        self.network = self._build_network(**self.config.architecture()).to(self.device)
        self._tile_margin = self._padded_size(_receptive_radius(self.network, self.SIZE_MULTIPLE))
        if self.config.init == 'he':
            _initialise_he(self.network)
        self.loss = LOSSES[self.config.loss]()
        self.optimizer = self._make_optimizer()
        self.history = []

    @staticmethod
    def _build_network(width, kernel_size, up_kernel_size, upsampling='transposed'):
        # (k - 1) // 2 halves any size that is a multiple of 2, for odd and even k alike.
        down_padding = (kernel_size - 1) // 2

        def upsampling_stage(in_channels, out_channels):
            if upsampling == 'transposed':  # (k - 1) // 2 and k % 2 double any size, for odd and even k alike
                return TransposeConv2d(in_channels, out_channels, up_kernel_size, stride=2,
                                       padding=(up_kernel_size - 1) // 2, output_padding=up_kernel_size % 2)
            return Upsampling(in_channels, out_channels, up_kernel_size, scale_factor=2, padding=up_kernel_size // 2)
        return Sequential(
            Conv2d(3, width, kernel_size, stride=2, padding=down_padding), ReLU(),
            Conv2d(width, width, kernel_size, stride=2, padding=down_padding), ReLU(),
            upsampling_stage(width, width), ReLU(),
            upsampling_stage(width, 3), Sigmoid())

    def _make_optimizer(self):
        if self.config.optimizer == 'sgd':
            return SGD(self.network.param(), lr=self.config.lr, momentum=self.config.momentum)
        return Adam(self.network.param(), lr=self.config.lr)

    # -- saving and loading ----------------------------------------------------------------------------

    @staticmethod
    def default_path():
        return Path(__file__).resolve().parent / 'bestmodel.pth'

    def save_model(self, path=None):
        """Write the parameters (float32, little-endian bytes) and the configuration to ``path``
        (default: ``bestmodel.pth`` beside this file), atomically: a temporary file, then a rename."""
        path = Path(path) if path is not None else self.default_path()
        _write_atomically(path, {'format': FILE_FORMAT, 'version': FILE_VERSION, 'config': self.config.architecture(),
                                 'parameters': _encoded_parameters(parameter for parameter, _ in self.network.param())})
        return path

    def load_pretrained_model(self, path=None):
        """Load ``bestmodel.pth`` (default: beside this file, whatever the working directory), checked whole
        first: one that ``save_model`` did not write for this configuration, or with NaN or infinite weights,
        raises ``BestModelError`` and changes nothing. The checks take time in proportion to the file's size."""
        path = Path(path) if path is not None else self.default_path()
        if not path.exists():
            raise FileNotFoundError(
                f"no pretrained model at {path}; make one with "
                f"`python -m Proj_123456_654321.Miniproject_2.others.train --data DATA_FOLDER`")
        payload = self._read_payload(path)
        parameters = [parameter for parameter, _ in self.network.param()]
        _check_payload(payload, path, self.config.architecture(), [parameter.shape for parameter in parameters])
        values = _decode_parameters(payload['parameters'], parameters, path)
        for parameter, value in zip(parameters, values):
            parameter.copy_(value)
        self.loaded_weights = values
        self.optimizer = self._make_optimizer()

    def _read_payload(self, path):
        """The plain data in a ``bestmodel.pth`` file (see ``_read_payload``): its ``config`` says what to build."""
        return _read_payload(path, self.MAX_FILE_BYTES)

    # -- training and prediction -----------------------------------------------------------------------

    def _to_unit(self, images):
        """uint8 or float images in [0, 255] -> float32 in [0, 1] on the model's device."""
        return images.to(self.device).float() / 255

    def _snapshot(self):
        return [parameter.clone() for parameter, _ in self.network.param()], self.optimizer.state_dict()

    def _restore(self, snapshot):
        parameters, optimizer_state = snapshot
        for (parameter, _), saved in zip(self.network.param(), parameters):
            parameter.copy_(saved)
        self.optimizer.load_state_dict(optimizer_state)

    def train(self, train_input, train_target, num_epochs, *, batch_size=None, lr=None, validation=None,
              seed=None, verbose=True, after_epoch=None, epoch_pairs=None):
        """Train on pairs of noisy images (uint8 or float in [0, 255], ``[N, 3, H, W]``, H and W multiples
        of 4) for ``num_epochs`` epochs, continuing from the current weights; after ``load_pretrained_model``,
        as ``self.continuation`` says (see ``Continuation``).

        Keyword-only: ``batch_size`` and ``lr`` override the model's; ``validation=(noisy, clean)`` reports the
        PSNR after each epoch; ``seed`` makes shuffling, augmentation and held-out pairs reproducible;
        ``verbose=False`` is silent; ``after_epoch(record)`` is called after each epoch; ``epoch_pairs(epoch)``
        gives the pairs of each epoch after the first (as many as ``train_input``: fresh pairs). Each epoch appends
        ``{epoch, loss, lr, seconds, images_per_second, val_psnr}`` to ``self.history`` (``lr``: the rate at its
        start); continued training adds ``kept`` (the fraction of the change kept, None without held-out pairs)
        and ``heldout_losses`` (with held-out pairs, their loss at each fraction) to the last record.
        """
        batch_size = self.config.batch_size if batch_size is None else batch_size
        _check_training_arguments(train_input, train_target, num_epochs, batch_size, lr, validation,
                                  self.SIZE_MULTIPLE)
        continuing = self.loaded_weights is not None
        base_lr = self.config.lr if lr is None else lr
        shuffler = random.Random(seed)
        # Generators of their own, so that switching augmentation or held-out pairs on leaves the shuffling
        # of the rest unchanged.
        augmenter = random.Random(None if seed is None else seed + 1)
        swapper = random.Random(None if seed is None else seed + 3)  # seed + 2 draws the held-out pairs
        order, heldout = _split_heldout(len(train_input), self.continuation.holdout if continuing else 0.0, seed)
        inputs, targets = train_input.to(self.device), train_target.to(self.device)
        steps_per_epoch = -(-len(order) // batch_size)
        total_steps = num_epochs * steps_per_epoch
        for epoch in range(1, num_epochs + 1):
            if epoch > 1 and epoch_pairs is not None:
                inputs, targets = _next_pairs(epoch_pairs, epoch, inputs, self.device)
            snapshot = self._snapshot()
            start = time.perf_counter()
            first_step = (epoch - 1) * steps_per_epoch
            rates = [self._scheduled_lr(base_lr, step, total_steps)
                     for step in range(first_step, first_step + steps_per_epoch)]
            epoch_order = list(order)
            shuffler.shuffle(epoch_order)
            progress = Progress(len(order), f"epoch {epoch}/{num_epochs}") if verbose else None
            mean_loss = self._train_epoch(inputs, targets, epoch_order, batch_size, rates, (augmenter, swapper),
                                          progress)
            # The loss of each step is computed before its update: only the weights show what the last step did.
            if not math.isfinite(mean_loss) or not self._weights_are_finite():
                self._restore(snapshot)
                problem = (f"the training loss became {mean_loss}" if not math.isfinite(mean_loss)
                           else "the weights became NaN or infinite")
                raise FloatingPointError(f"{problem} in epoch {epoch}; the weights from before that epoch are "
                                         f"restored. Try a lower learning rate (now {base_lr}).")
            finishing_continuation = epoch == num_epochs and continuing
            if finishing_continuation:
                kept, losses = self._finish_continuation(inputs[heldout], targets[heldout])
            seconds = time.perf_counter() - start
            record = {'epoch': len(self.history) + 1, 'loss': mean_loss, 'lr': rates[0], 'seconds': seconds,
                      'images_per_second': len(order) / seconds, 'val_psnr': None}
            if finishing_continuation:
                record.update(kept=kept, **({} if losses is None else {'heldout_losses': losses}))
            if validation is not None:
                denoised = self.predict(validation[0]).div_(255)
                record['val_psnr'] = psnr(denoised, validation[1].to(denoised.device).float() / 255)
            self.history.append(record)
            if verbose:
                print(_epoch_line(epoch, num_epochs, record), flush=True)
            if after_epoch is not None:
                after_epoch(record)
        return self.history

    def _train_epoch(self, inputs, targets, order, batch_size, rates, generators, progress):
        """One pass over the pairs ``order`` indexes, batch ``i`` at the rate ``rates[i]``, augmented and swapped
        by ``generators`` as the configuration says; returns the mean training loss."""
        augmenter, swapper = generators
        order = arange(1, device=self.device).new_tensor(order)
        loss_sum = 0
        for step, first in enumerate(range(0, len(order), batch_size)):
            self.optimizer.lr = rates[step]
            batch = order[first:first + batch_size]
            input, target = self._to_unit(inputs[batch]), self._to_unit(targets[batch])
            if self.config.swap:
                input, target = _random_swap(input, target, swapper)
            if self.config.augment:
                input, target = _random_symmetry(input, target, augmenter)
            loss_sum += self._training_step(input, target) * len(batch)
            if progress is not None:
                progress.update(min(first + batch_size, len(order)))
        if progress is not None:
            progress.close()
        self.optimizer.lr = self.config.lr
        return loss_sum.item() / len(order)

    def _finish_continuation(self, heldout_input, heldout_target):
        """The end of continued training: the held-out pairs choose how much of the change to keep; returns
        ``_keep_best``'s choice and losses (None, None without held-out pairs)."""
        if not len(heldout_input):
            return None, None
        return _keep_best([parameter for parameter, _ in self.network.param()], self.loaded_weights,
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

    def _weights_are_finite(self):
        """Whether no weight is NaN or infinite."""
        return all(parameter.isfinite().all().item() for parameter, _ in self.network.param())

    def _scheduled_lr(self, base_lr, step, total_steps):
        """The rate of ``step`` (from 0) of ``total_steps``, as ``config.schedule`` says."""
        if self.config.schedule == 'cosine':
            return base_lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
        return base_lr

    def _training_step(self, input, target):
        """One optimizer step on a batch (floats in [0, 1]); returns the loss as a 0-d tensor."""
        loss = self.loss.forward(self.network.forward(input), target)
        self.optimizer.zero_grad()
        self.network.backward_parameters(self.loss.backward())
        self.optimizer.step()
        return loss

    def predict(self, test_input):
        """Denoise ``[N, 3, H, W]`` images (uint8 or float in [0, 255], any N, H, W) -> float in [0, 255].

        Images are padded (edge replication) to a multiple of 4 and cropped back. Memory stays bounded: chunks of
        about ``PREDICT_CHUNK_PIXELS`` pixels, and a larger image in overlapping windows (``_predict_in_tiles``).
        """
        _check_images(test_input, 'test_input')
        n, _, height, width = test_input.shape
        padded_pixels = self._padded_size(height) * self._padded_size(width)
        output = empty(test_input.shape, device=test_input.device)
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
        images = self._to_unit(images)
        if pad_height:
            images = cat([images, images[:, :, -1:].expand(-1, -1, pad_height, -1)], 2)
        if pad_width:
            images = cat([images, images[:, :, :, -1:].expand(-1, -1, -1, pad_width)], 3)
        denoised = _symmetric_mean(self.network, images) if self.self_ensemble else self.network.forward(images)
        return denoised[:, :, :height, :width] * 255

    def _predict_in_tiles(self, image, output):
        """Denoise one ``[1, 3, H, W]`` image into ``output`` tile by tile, each tile with ``_tile_margin`` pixels of
        context on every side (the receptive radius, rounded up to a multiple of 4), so that each output pixel is
        that of one pass: tiles and windows start at multiples of 4 and the last windows reach the padded edge,
        so the strided convolutions sample what they sample in one pass, in every flip and transposition.
        """
        margin = self._tile_margin
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
