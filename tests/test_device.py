"""Both models keep every tensor on their device and copy nothing to or from the host per training step.

No GPU needed: the models and their inputs live on PyTorch's ``meta`` device (tensors with a shape and no data),
where a tensor made on the CPU by mistake meets the others. ``HostTraffic`` records what would cross between a
GPU and the host: an operation that mixes meta and CPU tensors, a read of a meta value into Python (``.item()``,
``bool()``, ``float()``: a sync on a GPU; answered here with ``READ``, as meta tensors hold no value), a tensor
made on the device from host data (``new_tensor``, ``torch.tensor``, indexing with a Python list); and it refuses
a copy of a meta tensor to the host. ``train`` may cross a fixed number of times per call and per epoch (the
loss of the epoch, the finiteness checks), never per step: its traffic must not change with the number of steps.
"""
import collections

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2

DEVICE = torch.device('meta')
READ = 0.5  # a finite loss, a pixel value within [0, 255]
PROJECTS = {'miniproject 1': mp1, 'miniproject 2': mp2}
# On meta, torch.nn's load_state_dict turns the copy of the file's CPU tensors into the parameters into a no-op
# (the meta device holds no values), and says so.
pytestmark = pytest.mark.filterwarnings('ignore:for .*copying from a non-meta parameter')
# The grader's case: it trains one epoch from the loaded weights, and enough pairs for the held-out choice
# (at least Continuation.MIN_HOLDOUT held-out pairs, CONTINUATION.holdout of them).
CONTINUED_PAIRS = 3300


@pytest.fixture(autouse=True)
def storage_addresses(monkeypatch):
    """Meta storages hold no memory: ``data_ptr()`` is 0 for all of them. Mini-project 2's optimizer tells
    storages apart by address to lay the parameters end to end (``_FlatBuffers``), as it does on a GPU; here
    each storage's identity stands in for its address."""
    data_ptr = torch.UntypedStorage.data_ptr
    monkeypatch.setattr(torch.UntypedStorage, 'data_ptr',
                        lambda storage: storage._cdata if storage.device == DEVICE else data_ptr(storage))


class HostTraffic(TorchDispatchMode):
    """Records in ``events`` every crossing between ``DEVICE`` and the host (see the module docstring)."""

    def __init__(self, monkeypatch):
        super().__init__()
        self.events = []
        for owner, name in ((torch.Tensor, 'new_tensor'), (torch, 'tensor'), (torch, 'as_tensor')):
            monkeypatch.setattr(owner, name, self._recording_creation(getattr(owner, name), name))
        getitem = torch.Tensor.__getitem__

        def indexed(tensor, index):
            if tensor.device == DEVICE and any(isinstance(part, (list, tuple)) for part in
                                               (index if isinstance(index, tuple) else (index,))):
                self.events.append('indexes a device tensor with host data')
            return getitem(tensor, index)
        monkeypatch.setattr(torch.Tensor, '__getitem__', indexed)

    def _recording_creation(self, create, name):
        def recording(*args, **kwargs):
            tensor = create(*args, **kwargs)
            if isinstance(tensor, torch.Tensor) and tensor.device == DEVICE:
                self.events.append(f'{name}: a device tensor from host data')
            return tensor
        return recording

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        tensors = [value for value in tree_leaves((args, kwargs)) if isinstance(value, torch.Tensor)]
        if func is torch.ops.aten._local_scalar_dense.default and tensors[0].device == DEVICE:
            self.events.append('reads a device value into Python')
            dtype = tensors[0].dtype
            return True if dtype == torch.bool else READ if dtype.is_floating_point else 1
        to_host = (func is torch.ops.aten._to_copy.default and kwargs.get('device') is not None
                   and torch.device(kwargs['device']).type == 'cpu')
        if func is torch.ops.aten.copy_.default:
            to_host = args[0].device.type == 'cpu'
        if to_host and any(tensor.device == DEVICE for tensor in tensors):
            raise AssertionError(f"{func} copies a tensor from the device to the host")
        output = func(*args, **kwargs)
        devices = {value.device.type for value in tree_leaves((tensors, output)) if isinstance(value, torch.Tensor)}
        if len(devices) > 1:
            self.events.append(f'{func} mixes host and device tensors')
        return output


def images(n, size=32, height=None):
    return torch.empty(n, 3, height or size, size, dtype=torch.uint8, device=DEVICE)


def state_tensors(project, model, optimizers):
    """``{name: tensor}`` for every tensor of ``model``'s training state: parameters, gradients, the optimizer's
    state, the loaded weights. torch.optim keeps Adam's step count on the host unless ``capturable`` (a number
    the host updates, no copy): that one is left out."""
    tensors = {f'loaded weight {index}': value for index, value in enumerate(model.loaded_weights or [])}
    if project is mp2:
        for index, (parameter, gradient) in enumerate(model.network.param()):
            tensors[f'parameter {index}'], tensors[f'gradient {index}'] = parameter, gradient
        for index, slot in enumerate(model.optimizer.state):
            tensors.update({f'optimizer state {index} {key}': value for key, value in slot.items()})
        flat = model.optimizer._flat
        assert flat is not None, 'the optimizer updates one flat buffer, as on a GPU'
        tensors.update({'flat parameters': flat.parameter, 'flat gradients': flat.gradient,
                        **{f'flat state {key}': value for key, value in flat.state.items()}})
    else:
        for name, parameter in model.network.named_parameters():
            tensors[name] = parameter
            if parameter.grad is not None:
                tensors[f'{name} gradient'] = parameter.grad
        tensors.update({f'buffer {name}': buffer for name, buffer in model.network.named_buffers()})
        for optimizer in optimizers:
            for index, slot in enumerate(optimizer.state.values()):
                tensors.update({f'optimizer state {index} {key}': value for key, value in slot.items()
                                if key != 'step'})
    return tensors


def make_model(project, monkeypatch, load):
    """The shipped model on ``DEVICE`` (loaded from ``bestmodel.pth`` if ``load``), and the list that collects
    the optimizers Mini-project 1 makes in each ``train`` call."""
    model = project.Model(device=DEVICE)
    optimizers = []
    if project is mp1:
        make = model._optimizer_and_schedule

        def kept(*args):
            optimizer, schedule = make(*args)
            optimizers.append(optimizer)
            return optimizer, schedule
        monkeypatch.setattr(model, '_optimizer_and_schedule', kept)
    if load:
        with HostTraffic(monkeypatch):
            model.load_pretrained_model()
    return model, optimizers


def assert_on_the_device(project, model, optimizers):
    elsewhere = {name: str(tensor.device) for name, tensor in state_tensors(project, model, optimizers).items()
                 if tensor.device != DEVICE}
    assert elsewhere == {}


@pytest.mark.parametrize('project', PROJECTS.values(), ids=PROJECTS.keys())
def test_loading_puts_the_weights_on_the_device(project, monkeypatch):
    model, optimizers = make_model(project, monkeypatch, load=True)
    assert model.loaded_weights and all(weight.device == DEVICE for weight in model.loaded_weights)
    assert_on_the_device(project, model, optimizers)


def train_traffic(project, monkeypatch, pairs, batch_size, continuing, inputs_on):
    """The host traffic of one ``train`` epoch on ``pairs`` pairs, batches of ``batch_size``, and the model."""
    model, optimizers = make_model(project, monkeypatch, load=continuing)
    noisy = images(pairs) if inputs_on == 'device' else torch.zeros(pairs, 3, 32, 32, dtype=torch.uint8)
    with HostTraffic(monkeypatch) as traffic:
        model.train(noisy, noisy, 1, batch_size=batch_size, seed=0, verbose=False)
    assert_on_the_device(project, model, optimizers)
    return collections.Counter(traffic.events), model


@pytest.mark.parametrize('inputs_on', ['device', 'host'])
@pytest.mark.parametrize('continuing', [False, True], ids=['from random weights', 'from the loaded weights'])
@pytest.mark.parametrize('project', PROJECTS.values(), ids=PROJECTS.keys())
def test_training_stays_on_the_device_and_crosses_to_the_host_per_call_not_per_step(
        project, monkeypatch, continuing, inputs_on):
    pairs, batch_size = (CONTINUED_PAIRS, 128) if continuing else (64, 32)
    traffic, model = train_traffic(project, monkeypatch, pairs, batch_size, continuing, inputs_on)
    twice_the_steps, _ = train_traffic(project, monkeypatch, pairs, batch_size // 2, continuing, inputs_on)
    assert twice_the_steps == traffic, 'host traffic that grows with the number of steps'
    if inputs_on == 'device':
        assert not [event for event in traffic if 'mixes' in event], traffic
    if continuing:  # the held-out pairs chose between the loaded and the trained weights
        assert model.history[-1]['kept'] is not None and len(model.history[-1]['heldout_losses']) == 2


@pytest.mark.parametrize('project', PROJECTS.values(), ids=PROJECTS.keys())
def test_predict_stays_on_the_device(project, monkeypatch):
    model, _ = make_model(project, monkeypatch, load=True)
    tiled = []
    predict_in_tiles = model._predict_in_tiles
    monkeypatch.setattr(model, '_predict_in_tiles', lambda *args: tiled.append(1) or predict_in_tiles(*args))
    inputs = [images(5), images(3, size=29, height=30), images(300, size=40), images(1, size=512, height=520),
              torch.empty(2, 3, 32, 32, device=DEVICE)]
    with HostTraffic(monkeypatch) as traffic:
        outputs = [model.predict(input) for input in inputs]
    assert tiled == [1], 'the 520×512 image goes through the network in tiles'
    assert all(output.device == DEVICE and output.shape == input.shape for output, input in zip(outputs, inputs))
    # only the check of the float input's values (finite, within [0, 255]) reads the device
    assert collections.Counter(traffic.events) == {'reads a device value into Python': 3}
