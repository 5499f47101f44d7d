"""The torch.nn twin of Mini-project 2's network and model: the identical network built from torch.nn modules,
and the identical training loop run with torch.nn, autograd and torch.optim instead of our blocks.

``twin_network(network)`` builds the torch.nn network that computes what our ``network`` computes, block by
block from each block's own attributes (as numpy-ml builds its torch twins from a layer's hyperparameters);
``copy_weights`` copies our weights into it. The benchmark (``others/benchmark.py``) times the two.

``TorchTwinModel`` is a ``Model`` (by default the shipped one): it draws the same initial weights (our
blocks' initialisation, copied into the torch network), and ``Model.train`` shuffles, augments and schedules
as for our blocks; only the training step and the forward of ``predict`` are torch's. With the same seed the
two differ only by floating-point rounding, so their validation PSNRs after the same schedule measure whether
our framework trains as well as torch does (``train --twin``).
"""
import copy

import torch
from torch import nn

from .. import model as framework
from ..model import Model

TORCH_LOSSES = {'mse': nn.MSELoss, 'l1': nn.L1Loss}
TORCH_ACTIVATIONS = {framework.ReLU: nn.ReLU, framework.Sigmoid: nn.Sigmoid, framework.Tanh: nn.Tanh}


class AgreementError(AssertionError):
    """Our network and its torch twin compute different things: comparing them would compare nothing."""


def twin_network(network):
    """The ``nn.Sequential`` that computes what ``network`` (one of our blocks, or a ``Sequential`` of them)
    computes, with torch's default initial weights: copy ours with ``copy_weights``."""
    return nn.Sequential(*_torch_modules(network))


def _torch_modules(block):
    """The torch.nn modules equivalent to ``block``, built from its attributes."""
    if isinstance(block, framework.Sequential):
        return [module for inner in block for module in _torch_modules(inner)]
    if isinstance(block, framework.Upsampling):  # before Conv2d: an Upsampling is a Conv2d of the upsampled image
        return [nn.Upsample(scale_factor=block.scale_factor, mode='nearest'), _torch_convolution(block)]
    if isinstance(block, framework.Conv2d):
        return [_torch_convolution(block)]
    if isinstance(block, framework.TransposeConv2d):
        return [nn.ConvTranspose2d(block.in_channels, block.out_channels, block.kernel_size, stride=block.stride,
                                   padding=block.padding, output_padding=block.output_padding,
                                   dilation=block.dilation, bias=block.bias is not None)]
    if isinstance(block, framework.NearestUpsampling):
        return [nn.Upsample(scale_factor=block.scale_factor, mode='nearest')]
    if isinstance(block, framework.LeakyReLU):
        return [nn.LeakyReLU(block.negative_slope)]
    if type(block) in TORCH_ACTIVATIONS:
        return [TORCH_ACTIVATIONS[type(block)]()]
    raise TypeError(f"no torch.nn twin for {block!r}")


def _torch_convolution(block):
    return nn.Conv2d(block.in_channels, block.out_channels, block.kernel_size, stride=block.stride,
                     padding=block.padding, dilation=block.dilation, bias=block.bias is not None)


def copy_weights(ours, theirs):
    """Copy our network's parameters into the twin (both list weight, bias per convolution, in order); returns
    the twin."""
    our_parameters = [parameter for parameter, _ in ours.param()]
    their_parameters = list(theirs.parameters())
    shapes = [tuple(p.shape) for p in our_parameters], [tuple(p.shape) for p in their_parameters]
    if shapes[0] != shapes[1]:
        raise AgreementError(f"the twin does not have our parameter shapes: ours {shapes[0]}, twin {shapes[1]}")
    with torch.no_grad():
        for our_parameter, their_parameter in zip(our_parameters, their_parameters):
            their_parameter.copy_(our_parameter)
    return theirs


class _TorchNetwork:
    """A torch.nn network seen through our blocks' interface: ``forward`` (or a call, as our blocks) without a
    graph (for ``predict``) and ``param()`` as ``(parameter, gradient)`` pairs (for the epoch snapshot and
    ``save_model``)."""

    def __init__(self, module):
        self.module = module

    def forward(self, input):
        with torch.no_grad():
            return self.module(input)

    def __call__(self, input):
        return self.forward(input)

    def param(self):
        return [(parameter, parameter.grad) for parameter in self.module.parameters()]

    def to(self, *args, **kwargs):
        self.module.to(*args, **kwargs)
        return self


class _TorchOptimizer:
    """A torch.optim optimizer with our optimizers' ``lr`` attribute and state copies."""

    def __init__(self, optimizer):
        self.optimizer = optimizer

    @property
    def lr(self):
        return self.optimizer.param_groups[0]['lr']

    @lr.setter
    def lr(self, value):
        for group in self.optimizer.param_groups:
            group['lr'] = value

    def state_dict(self):
        return copy.deepcopy(self.optimizer.state_dict())

    def load_state_dict(self, state_dict):
        self.optimizer.load_state_dict(copy.deepcopy(state_dict))


class TorchTwinModel(Model):
    """``Model`` with the network, loss and optimizer replaced by their torch.nn / torch.optim equivalents."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        module = copy_weights(self.network, twin_network(self.network)).to(self.device)
        self.network = _TorchNetwork(module)
        self.torch_loss = TORCH_LOSSES[self.config.loss]()
        self.optimizer = self._make_optimizer()

    def _make_optimizer(self):
        if not isinstance(self.network, _TorchNetwork):
            return super()._make_optimizer()
        parameters = self.network.module.parameters()
        if self.config.optimizer == 'sgd':
            return _TorchOptimizer(torch.optim.SGD(parameters, lr=self.config.lr, momentum=self.config.momentum))
        return _TorchOptimizer(torch.optim.Adam(parameters, lr=self.config.lr))

    def _training_step(self, input, target):
        optimizer = self.optimizer.optimizer
        # Importing our model.py turns autograd off process-wide.
        with torch.enable_grad():
            loss = self.torch_loss(self.network.module(input), target)
            optimizer.zero_grad()
            loss.backward()
        optimizer.step()
        return loss.detach()
