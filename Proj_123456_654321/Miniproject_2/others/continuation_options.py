"""The continued-training settings that only ``others/continued.py``'s experiments use, for both mini-projects.

``Model.train`` continues from loaded weights by plain training and the held-out choice (``Continuation``).
Before that, ``continued.py`` measured other ways to continue, which the shipped models do not use; they live
here, as a ``Model`` subclass per mini-project (``experimental_model``), so that they stay runnable:

* ``lr_scale``: continued training runs at that times the model's rate (an explicit ``lr=`` is used as given);
* ``warmup``: the rate rises linearly over the first fraction of the call's steps (a fresh Adam's first steps
  move every weight by about the full rate);
* ``anchor``: each step pulls the weights back towards the loaded ones by ``anchor`` times the step's rate (at
  most 1) times their difference (decoupled, as AdamW's weight decay);
* ``average``: the weights kept are the mean of those after each of the last fraction of the steps;
* ``blend``: then moved back towards the loaded ones so that this fraction of the change stays (interpolating
  the weights keeps most of what was learnt and forgets less, as WiSE-FT found for fine-tuning).

The defaults (``lr_scale=1``, ``blend=1``, zeros) change nothing. Training from scratch ignores them, as it
ignores ``Continuation``.
"""
import math
from dataclasses import dataclass

import torch

from .. import model as mp2
from ...Miniproject_1 import model as mp1
from .both_projects import parameters_of


@dataclass(frozen=True)
class Options:
    lr_scale: float = 1.0
    warmup: float = 0.0
    anchor: float = 0.0
    average: float = 0.0
    blend: float = 1.0

    def __post_init__(self):
        mp2._positive_number(self.lr_scale, 'lr_scale')
        mp2._finite_number(self.anchor, 'anchor')
        if not 0 < mp2._finite_number(self.blend, 'blend') <= 1:
            raise ValueError(f"blend must be a fraction in (0, 1], got {self.blend!r}")
        for name in ('warmup', 'average'):
            if mp2._finite_number(getattr(self, name), name) >= 1:
                raise ValueError(f"{name} must be a fraction in [0, 1), got {getattr(self, name)!r}")


class WeightAverage:
    """The running mean of the weights after each step from ``first_step`` on (``mean``, None before then)."""

    def __init__(self, first_step):
        self.first_step, self.count, self.mean = first_step, 0, None

    def update(self, step, parameters):
        if step < self.first_step:
            return
        self.count += 1
        if self.mean is None:
            self.mean = [parameter.detach().clone() for parameter in parameters]
        else:
            for mean, parameter in zip(self.mean, parameters):
                mean.add_(parameter - mean, alpha=1 / self.count)


class _Steps:
    """Where one continued ``train`` call of ``total`` steps stands: steps done, what ``Options`` make of its
    steps, and the weights they act on."""

    def __init__(self, options, total, parameters):
        self.done, self.parameters = 0, parameters
        self.warmup = math.ceil(options.warmup * total)
        self.average = WeightAverage(total - math.ceil(options.average * total)) if options.average else None


class _WithOptions:
    """``Model.train`` with ``self.options`` (an ``Options``) when it continues from loaded weights. Each
    mini-project's subclass says where its steps end."""

    options = Options()
    _steps = None

    def _options_apply(self):
        return self.loaded_weights is not None and self.options != Options()

    def train(self, train_input, train_target, num_epochs, *, lr=None, **keywords):
        self._steps = None
        if self._options_apply() and lr is None:
            lr = self.config.lr * self.options.lr_scale
        return super().train(train_input, train_target, num_epochs, lr=lr, **keywords)

    def _start_steps(self, total_steps):
        """Called by each subclass's hook that first learns the call's number of steps, before any step."""
        if self._steps is None and self._options_apply():
            self._steps = _Steps(self.options, total_steps, parameters_of(self))

    def _after_step(self, rate):
        """The anchor's pull and the average's update, after each optimizer step at ``rate``."""
        if self._steps is None:
            return
        with torch.no_grad():
            if self.options.anchor:
                pull = min(1, rate * self.options.anchor)
                for parameter, loaded in zip(self._steps.parameters, self.loaded_weights):
                    parameter.sub_(parameter - loaded, alpha=pull)
            if self._steps.average is not None:
                self._steps.average.update(self._steps.done, self._steps.parameters)
        self._steps.done += 1

    def _finish_continuation(self, heldout_input, heldout_target):
        if self._steps is not None:
            with torch.no_grad():
                if self._steps.average is not None:
                    for parameter, mean in zip(self._steps.parameters, self._steps.average.mean):
                        parameter.copy_(mean)
                if self.options.blend != 1:
                    for parameter, loaded in zip(self._steps.parameters, self.loaded_weights):
                        parameter.sub_(parameter - loaded, alpha=1 - self.options.blend)
        return super()._finish_continuation(heldout_input, heldout_target)


class Model2(_WithOptions, mp2.Model):
    """Mini-project 2's ``Model`` with ``Options``: the warm-up scales ``_scheduled_lr``, the step's end is
    ``_training_step``'s."""

    def _scheduled_lr(self, base_lr, step, total_steps):
        self._start_steps(total_steps)
        if self._steps is not None and self._steps.warmup:
            base_lr = base_lr * min(1, (step + 1) / self._steps.warmup)
        return super()._scheduled_lr(base_lr, step, total_steps)

    def _training_step(self, input, target):
        loss = super()._training_step(input, target)
        self._after_step(self.optimizer.lr)
        return loss


class Model1(_WithOptions, mp1.Model):
    """Mini-project 1's ``Model`` with ``Options``: the warm-up is a ``LinearLR`` chained before the cosine, the
    step's end a step hook of the optimizer."""

    def _optimizer_and_schedule(self, lr, total_steps):
        optimizer, schedule = super()._optimizer_and_schedule(lr, total_steps)
        self._start_steps(total_steps)
        if self._steps is None:
            return optimizer, schedule
        if self._steps.warmup > 1:
            # Step k (from 0) of the warm-up runs at (k + 1) / warmup of the cosine's rate.
            warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1 / self._steps.warmup,
                                                       total_iters=self._steps.warmup - 1)
            schedule = torch.optim.lr_scheduler.ChainedScheduler([warmup, schedule], optimizer)
        optimizer.register_step_post_hook(lambda optimizer, *_: self._after_step(optimizer.param_groups[0]['lr']))
        return optimizer, schedule


def experimental_model(module):
    """The subclass with ``Options`` of ``module``'s ``Model`` (``module``: either mini-project's model)."""
    return {mp1: Model1, mp2: Model2}[module]
