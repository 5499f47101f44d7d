"""The torch.nn twin of Mini-project 2's model: the identical network trained by the identical loop, but with
torch.nn modules, autograd and torch.optim instead of our blocks.

``TorchTwinModel`` is a ``Model``: it draws the same initial weights (our blocks' initialisation, copied into
the torch network), and ``Model.train`` shuffles, augments and schedules the learning rate as for our blocks;
only the training step (forward, loss, backward, optimizer step) and the forward of ``predict`` are torch's.
With the same seed, the two models differ only by floating-point rounding, so their validation PSNRs after
the same schedule measure whether our framework trains as well as torch does:

    python -m Proj_123456_654321.Miniproject_2.others.train --data DATA --epochs 5 --twin --out twin.pth
"""
import copy

import torch
from torch import nn

from ..model import Model
from .benchmark import copy_weights, twin_network

TORCH_LOSSES = {'mse': nn.MSELoss, 'l1': nn.L1Loss}


class _TorchNetwork:
    """A torch.nn network seen through our blocks' interface: ``forward`` without a graph (for ``predict``)
    and ``param()`` as ``(parameter, gradient)`` pairs (for the epoch snapshot and ``save_model``)."""

    def __init__(self, module):
        self.module = module

    def forward(self, input):
        with torch.no_grad():
            return self.module(input)

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
        loss_name = next(name for name, block in self.LOSSES.items() if isinstance(self.loss, block))
        module = copy_weights(self.network, twin_network(self.config)).to(self.device)
        self.network = _TorchNetwork(module)
        self.torch_loss = TORCH_LOSSES[loss_name]()
        self.optimizer = self._make_optimizer()

    def _make_optimizer(self):
        if not isinstance(self.network, _TorchNetwork):
            return super()._make_optimizer()
        parameters = self.network.module.parameters()
        if self.optimizer_name == 'sgd':
            return _TorchOptimizer(torch.optim.SGD(parameters, lr=self.lr, momentum=self.momentum))
        return _TorchOptimizer(torch.optim.Adam(parameters, lr=self.lr))

    def _training_step(self, input, target):
        optimizer = self.optimizer.optimizer
        # Importing our model.py turns autograd off process-wide.
        with torch.enable_grad():
            loss = self.torch_loss(self.network.module(input), target)
            optimizer.zero_grad()
            loss.backward()
        optimizer.step()
        return loss.detach()
