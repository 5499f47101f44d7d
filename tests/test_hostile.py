"""Hostile files and settings (issue 13): crafted model files, absurd arguments and special files are refused
fast with a clear error, change nothing, and never leave NaN weights behind.

Loaders, and whatever could hang, run in a forked child under a time limit (``in_child``): a hang then fails
its test instead of blocking the suite. A signal would not do: printing a crafted structure loops in C code,
where no Python signal handler runs.
"""
import contextlib
import io
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2
from Proj_123456_654321.Miniproject_2.others import build_data, denoise

from test_model import noisy_pairs

ROOT = Path(__file__).resolve().parents[1]
TIME_LIMIT = 20  # seconds before a child counts as hung and is killed
FAST = 1.0  # seconds a loader may take to refuse a small crafted file
NOBODY = 65534  # the unprivileged user that permission cases run as when the tests run as root


# --------------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------------

def in_child(function, limit=TIME_LIMIT, unprivileged=False):
    """Run ``function()`` in a forked child; return ``(outcome, value, seconds)``: ``('returned', result)``,
    ``('raised', (exception type, message))`` or ``('exited', exit code)``, and how long ``function`` ran.

    Fails the test if the child runs longer than ``limit`` seconds (it is killed). ``unprivileged``: the child
    runs as an ordinary user, for whom file permissions hold (they do not bind root).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            torch.set_num_threads(1)  # the parent's thread pool does not survive the fork
            if unprivileged and os.geteuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            start = time.perf_counter()
            try:
                outcome = ('returned', function())
            except SystemExit as exit:
                outcome = ('exited', exit.code)
            except BaseException as error:  # reported to the parent, which judges it
                outcome = ('raised', (type(error), str(error)[:2000]))
            with os.fdopen(write_end, 'wb') as pipe:
                pickle.dump(outcome + (time.perf_counter() - start,), pipe)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, 'rb') as pipe:
        ready, _, _ = select.select([pipe], [], [], limit)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"still running after {limit} s (hung): killed")
        outcome = pickle.load(pipe)
    os.waitpid(pid, 0)
    return outcome


def refusal(function, limit=TIME_LIMIT):
    """The exception type and message that ``function()`` raises in a child, and the seconds it took."""
    outcome, value, seconds = in_child(function, limit)
    assert outcome == 'raised', f"expected an error, got {outcome} {value!r}"[:500]
    return value[0], value[1], seconds


def with_stderr(function):
    """``function`` returning its exit status (0 when it returns) and what it wrote to stderr."""
    def run():
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):
            try:
                function()
                status = 0
            except SystemExit as exit:
                status = exit.code
        return status, captured.getvalue()
    return run


def shared_reference_bomb(container=list, levels=64):
    """A container holding itself twice, ``levels`` deep: a few hundred bytes pickled (the pickle memo shares
    it), 2^levels elements to print or hash."""
    bomb = container()
    for _ in range(levels):
        bomb = container([bomb, bomb])
    return bomb


class Raw(bytes):
    """Pickle opcodes for one value, spliced into ``crafted_pickle``'s output as they are."""


def pickled(value):
    """Opcodes that push ``value`` (no protocol header, no STOP); dicts may hold ``Raw`` values."""
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict):
        return b'}' + b''.join(pickled(key) + pickled(item) + b's' for key, item in value.items())
    return pickle.dumps(value, protocol=3)[2:-1]


def crafted_pickle(value):
    """A pickle of ``value`` (protocol 3), with ``Raw`` opcodes where pickle.dumps cannot go."""
    return b'\x80\x03' + pickled(value) + b'.'


def tuple_bomb():
    """Opcodes of ``shared_reference_bomb(tuple)``, to put where a dict key goes: a dict built here would hash it."""
    return Raw(pickled(shared_reference_bomb(tuple)))


def deeply_nested_list(depth=20_000):
    """Opcodes of a list nested ``depth`` deep, far beyond the recursion limit (pickle.dumps cannot write it)."""
    return Raw(b']' * depth + b'a' * (depth - 1))


def mp2_payload(**changes):
    """The dict ``save_model`` of Mini-project 2 writes for ``Model(width=4)``, with ``changes``."""
    payload = {'format': mp2.Model.FILE_FORMAT, 'version': mp2.Model.FILE_VERSION, 'config': mp2_config(),
               'parameters': []}
    payload.update(changes)
    return payload


def mp2_config(**changes):
    """The configuration of ``Model(width=4)`` of Mini-project 2, with ``changes``."""
    return {**mp2.Config(width=4).architecture(), **changes}


def parameters(model):
    """Copies of the weights of a ``Model`` of either mini-project."""
    if isinstance(model, mp2.Model):
        return [parameter.clone() for parameter, _ in model.network.param()]
    return [parameter.detach().clone() for parameter in model.network.parameters()]


def unchanged(before, model):
    """Whether the weights of ``model`` still equal ``before`` (from ``parameters``)."""
    return all(torch.equal(a, b) for a, b in zip(before, parameters(model)))


def torch_archive(payload, pickle_bytes=None):
    """``torch.save(payload)`` as bytes; ``pickle_bytes``, if given, replace the archive's data.pkl (for
    structures torch.save cannot write)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    if pickle_bytes is None:
        return buffer.getvalue()
    source, crafted = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(crafted, 'w', zipfile.ZIP_STORED) as archive:
        for member in source.infolist():
            data = pickle_bytes if member.filename.endswith('/data.pkl') else source.read(member)
            archive.writestr(member.filename, data)
    return crafted.getvalue()


def mp1_payload(model, **changes):
    """What ``save_model`` of Mini-project 1 writes for ``model``, with ``changes``; ``edit_state(state)``, if
    given, first edits a copy of the network's state dict."""
    state = {key: value.contiguous().clone() for key, value in model.network.state_dict().items()}
    edit = changes.pop('edit_state', None)
    if edit is not None:
        edit(state)
    payload = {'format': mp1.Model.FILE_FORMAT, 'config': model.config.architecture(), 'state_dict': state}
    payload.update(changes)
    return payload


@pytest.fixture
def world_readable_tmp():
    """A temporary folder that the unprivileged user can enter (pytest's are private to their owner)."""
    folder = Path(tempfile.mkdtemp(prefix='hostile-'))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob('*'):
        path.chmod(0o755) if path.is_dir() else path.chmod(0o644)
    shutil.rmtree(folder)


def gradient_image(height=40, width=48):
    """A smooth uint8 RGB image [H, W, 3]."""
    y, x = np.mgrid[0:height, 0:width]
    ramp = (64 + 128 * (x / (width - 1) + y / (height - 1)) / 2).round().astype(np.uint8)
    return np.stack([ramp, ramp[::-1], np.full_like(ramp, 128)], -1)


# --------------------------------------------------------------------------------------------------------
# Loaders: crafted files are refused fast, with BestModelError, before any weight changes
# --------------------------------------------------------------------------------------------------------

MP2_CRAFTED = {
    'version is a shared-reference bomb': lambda: pickle.dumps(
        {'format': mp2.Model.FILE_FORMAT, 'version': shared_reference_bomb()}, protocol=4),
    'config value is a shared-reference bomb': lambda: pickle.dumps(
        mp2_payload(config=mp2_config(width=shared_reference_bomb())), protocol=4),
    'config value nested 20,000 deep': lambda: crafted_pickle(
        mp2_payload(config=mp2_config(width=deeply_nested_list()))),
    'version nested 20,000 deep': lambda: crafted_pickle(mp2_payload(version=deeply_nested_list())),
    'config with an int key': lambda: pickle.dumps(mp2_payload(config={**mp2_config(), 1: 2}), protocol=4),
    'version of 5,000 digits': lambda: pickle.dumps(mp2_payload(version=10 ** 5000), protocol=4),
    'dict key is a tuple bomb (hashing it never ends)': lambda: crafted_pickle(
        {'format': mp2.Model.FILE_FORMAT, tuple_bomb(): 1}),
}


@pytest.mark.parametrize('craft', MP2_CRAFTED.values(), ids=MP2_CRAFTED.keys())
def test_miniproject_2_refuses_crafted_files_fast(tmp_path, craft):
    path = tmp_path / 'bestmodel.pth'
    path.write_bytes(craft())
    model = mp2.Model(width=4)
    error, message, seconds = refusal(lambda: model.load_pretrained_model(path))
    assert error is mp2.BestModelError, (error, message)
    assert str(path) in message and len(message) < 500
    assert seconds < FAST


@pytest.mark.parametrize('bad_value', [float('nan'), float('inf')])
def test_miniproject_2_refuses_non_finite_weights_and_loads_nothing(tmp_path, bad_value):
    source = mp2.Model(width=4)
    path = source.save_model(tmp_path / 'bestmodel.pth')
    payload = pickle.loads(path.read_bytes())
    last = payload['parameters'][-1]
    last['data'] = last['data'][:-4] + np.float32(bad_value).tobytes()
    path.write_bytes(pickle.dumps(payload, protocol=4))
    model = mp2.Model(width=4)
    before = parameters(model)
    with pytest.raises(mp2.BestModelError, match='NaN or infinite'):
        model.load_pretrained_model(path)
    assert unchanged(before, model), 'no weight may change before the whole file is checked'


MP1_CRAFTED = {
    'config value is a shared-reference bomb': lambda model: torch_archive(
        mp1_payload(model, config={'width': shared_reference_bomb()})),
    'config value nested 20,000 deep': lambda model: torch_archive({}, crafted_pickle(
        {'format': mp1.Model.FILE_FORMAT, 'config': {'width': deeply_nested_list()}, 'state_dict': {}})),
    'dict key is a tuple bomb (hashing it never ends)': lambda model: torch_archive({}, crafted_pickle(
        {'format': mp1.Model.FILE_FORMAT, tuple_bomb(): 1})),
    'no state_dict': lambda model: torch_archive({'format': mp1.Model.FILE_FORMAT, 'config': {'width': 4}}),
    'residual saved as an int': lambda model: torch_archive(mp1_payload(
        model, config={'width': 4, 'shape': 'flat', 'residual': 0})),
    'an unknown shape': lambda model: torch_archive(mp1_payload(
        model, config={'width': 4, 'shape': 'round', 'residual': False})),
    'an unknown architecture field': lambda model: torch_archive(mp1_payload(
        model, config={'width': 4, 'shape': 'flat', 'residual': False, 'depth': 3})),
    'a tensor of the wrong shape': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state.update({'output.bias': torch.zeros(4)}))),
    'a missing key': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state.pop('output.bias'))),
    'an unknown key': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state.update({'extra': torch.zeros(1)}))),
    'a float64 tensor': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state.update({'output.bias': state['output.bias'].double()}))),
    'a NaN weight': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state['output.weight'].view(-1)[-1].fill_(float('nan')))),
    'an infinite weight': lambda model: torch_archive(mp1_payload(
        model, edit_state=lambda state: state['output.bias'].fill_(float('inf')))),
}


@pytest.mark.parametrize('craft', MP1_CRAFTED.values(), ids=MP1_CRAFTED.keys())
def test_miniproject_1_refuses_crafted_files_fast_and_loads_nothing(tmp_path, craft):
    torch.manual_seed(0)
    model = mp1.Model(width=4)
    path = tmp_path / 'bestmodel.pth'
    path.write_bytes(craft(mp1.Model(width=4)))
    before = parameters(model)

    def load():
        try:
            model.load_pretrained_model(path)
        finally:
            assert unchanged(before, model), 'no weight may change before the whole file is checked'

    error, message, seconds = refusal(load)
    assert getattr(mp1, 'BestModelError', None) is error and issubclass(error, ValueError), (error, message)
    assert str(path) in message and len(message) < 500
    assert seconds < FAST


def test_denoise_command_refuses_a_bomb_model_in_one_line(tmp_path):
    image = tmp_path / 'photo.png'
    Image.fromarray(gradient_image()).save(image)
    model = tmp_path / 'bomb.pth'
    model.write_bytes(MP2_CRAFTED['config value is a shared-reference bomb']())
    command = [sys.executable, '-m', 'Proj_123456_654321.Miniproject_2.others.denoise', str(image),
               '--out', str(tmp_path / 'out'), '--model', str(model)]
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail('denoise --model with a crafted file still runs after 60 s')
    assert result.returncode == 1 and result.stderr.startswith('denoise: error: ')
    assert result.stderr.count('\n') == 1 and 'Traceback' not in result.stderr
    assert not (tmp_path / 'out').exists()


def nan_model(tmp_path):
    """Arguments loading the shipped model of Mini-project 2 with one NaN bias (it would write black PNGs)."""
    model = mp2.Model()
    model.load_pretrained_model()
    model.network[-2].bias.fill_(float('nan'))
    return ['--model', str(model.save_model(tmp_path / 'nan.pth'))]


def miniproject_1_model_without_state_dict(tmp_path):
    """Arguments loading a Mini-project 1 file without its state dict."""
    payload = {'format': mp1.Model.FILE_FORMAT, 'config': {'width': 48}}
    (tmp_path / 'nostate.pth').write_bytes(torch_archive(payload))
    return ['--miniproject', '1', '--model', str(tmp_path / 'nostate.pth')]


@pytest.mark.parametrize('problem', [nan_model, miniproject_1_model_without_state_dict])
def test_denoise_command_refuses_bad_models_in_one_line(tmp_path, problem):
    image = tmp_path / 'photo.png'
    Image.fromarray(gradient_image()).save(image)
    arguments = [str(image), '--out', str(tmp_path / 'out'), *problem(tmp_path)]
    outcome, value, _ = in_child(with_stderr(lambda: denoise.main(arguments)))
    assert outcome == 'returned', value
    status, error = value
    assert status == 1 and error.startswith('denoise: error: ') and error.count('\n') == 1, error
    assert not (tmp_path / 'out').exists(), 'no black PNG written'


# --------------------------------------------------------------------------------------------------------
# Training: invalid or non-finite settings are refused, and no epoch ends with NaN weights
# --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('project', [mp2, mp1], ids=['miniproject 2', 'miniproject 1'])
def test_train_refuses_an_infinite_learning_rate(project):
    noisy_1, noisy_2, _ = noisy_pairs(8)
    model = project.Model(width=4)
    before = parameters(model)
    with pytest.raises(ValueError, match='lr'):
        model.train(noisy_1, noisy_2, 1, batch_size=8, lr=float('inf'), verbose=False)
    assert unchanged(before, model) and model.history == []


@pytest.mark.parametrize('options', [{'lr': float('nan')}, {'lr': float('inf')}, {'lr': 0},
                                     {'momentum': float('nan')}, {'momentum': -1, 'optimizer': 'sgd'}],
                         ids=str)
def test_miniproject_2_model_refuses_invalid_optimizer_settings(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        mp2.Model(width=4, **options)


def overflow_each_step(model, monkeypatch):
    """Make each optimizer step of ``model`` leave an infinite weight, as a step whose update overflows
    float32 does. (A finite rate that large is refused by torch's conversion of the step size to float32, so
    the overflow is simulated.)"""
    if isinstance(model, mp2.Model):
        owner, first_weight = model.optimizer, model.network.param()[0][0]
    else:  # Mini-project 1 makes its torch.optim.Adam inside train
        owner, first_weight = torch.optim.Adam, next(model.network.parameters())
    step = owner.step

    def overflowing_step(*arguments, **keywords):
        result = step(*arguments, **keywords)
        with torch.no_grad():
            first_weight[(0,) * first_weight.dim()] = float('inf')
        return result

    monkeypatch.setattr(owner, 'step', overflowing_step)


@pytest.mark.parametrize('project', [mp2, mp1], ids=['miniproject 2', 'miniproject 1'])
def test_an_epoch_ending_with_non_finite_weights_is_undone(project, monkeypatch):
    # One batch: its loss is computed before the only step, so the loss check alone sees nothing wrong.
    noisy_1, noisy_2, _ = noisy_pairs(8)
    model = project.Model(width=4)
    before = parameters(model)
    overflow_each_step(model, monkeypatch)
    with pytest.raises(FloatingPointError, match='weights became NaN or infinite.*restored'):
        model.train(noisy_1, noisy_2, 1, batch_size=8, verbose=False)
    assert unchanged(before, model) and model.history == []


def pairs():
    """A ``param()`` list of one parameter."""
    return [(torch.zeros(3), torch.zeros(3))]


INVALID_OPTIMIZERS = {
    'SGD lr=nan': (lambda: mp2.SGD(pairs(), lr=float('nan')), 'lr'),
    'SGD lr=inf': (lambda: mp2.SGD(pairs(), lr=float('inf')), 'lr'),
    'SGD momentum=-0.5': (lambda: mp2.SGD(pairs(), lr=0.1, momentum=-0.5), 'momentum'),
    'SGD momentum=nan': (lambda: mp2.SGD(pairs(), lr=0.1, momentum=float('nan')), 'momentum'),
    'SGD dampening=-1': (lambda: mp2.SGD(pairs(), lr=0.1, dampening=-1), 'dampening'),
    'SGD weight_decay=-1': (lambda: mp2.SGD(pairs(), lr=0.1, weight_decay=-1), 'weight_decay'),
    'SGD weight_decay=inf': (lambda: mp2.SGD(pairs(), lr=0.1, weight_decay=float('inf')), 'weight_decay'),
    'Adam lr=nan': (lambda: mp2.Adam(pairs(), lr=float('nan')), 'lr'),
    'Adam lr=inf': (lambda: mp2.Adam(pairs(), lr=float('inf')), 'lr'),
    'Adam eps=nan': (lambda: mp2.Adam(pairs(), eps=float('nan')), 'eps'),
    'Adam weight_decay=-1': (lambda: mp2.Adam(pairs(), weight_decay=-1), 'weight_decay'),
    'Adam betas=(0.9,)': (lambda: mp2.Adam(pairs(), betas=(0.9,)), 'betas'),
    'Adam betas of 3': (lambda: mp2.Adam(pairs(), betas=(0.9, 0.99, 0.5)), 'betas'),
    'Adam betas=0.9': (lambda: mp2.Adam(pairs(), betas=0.9), 'betas'),
}


@pytest.mark.parametrize('make, argument', INVALID_OPTIMIZERS.values(), ids=INVALID_OPTIMIZERS.keys())
def test_optimizers_refuse_invalid_settings_as_torch_optim_does(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


# --------------------------------------------------------------------------------------------------------
# Blocks: arguments and inputs are checked, with messages naming the argument
# --------------------------------------------------------------------------------------------------------

BLOCKS_WITH_CHANNELS = {
    'Conv2d': lambda **arguments: mp2.Conv2d(**{'in_channels': 2, 'out_channels': 3, 'kernel_size': 3,
                                                **arguments}),
    'TransposeConv2d': lambda **arguments: mp2.TransposeConv2d(**{'in_channels': 2, 'out_channels': 3,
                                                                  'kernel_size': 3, **arguments}),
    'Upsampling': lambda **arguments: mp2.Upsampling(**{'in_channels': 2, 'out_channels': 3, 'kernel_size': 3,
                                                        **arguments}),
}
BAD_COUNTS = [pytest.param(value, error, id=repr(value))
              for value, error in [(0, ValueError), (-1, ValueError), (None, TypeError), (3.0, TypeError),
                                   (True, TypeError)]]


@pytest.mark.parametrize('block', BLOCKS_WITH_CHANNELS.values(), ids=BLOCKS_WITH_CHANNELS.keys())
@pytest.mark.parametrize('argument', ['in_channels', 'out_channels'])
@pytest.mark.parametrize('value, error', BAD_COUNTS)
def test_blocks_refuse_bad_channel_counts(block, argument, value, error):
    with pytest.raises(error, match=argument):
        block(**{argument: value})


@pytest.mark.parametrize('block', BLOCKS_WITH_CHANNELS.values(), ids=BLOCKS_WITH_CHANNELS.keys())
@pytest.mark.parametrize('value', [3.0, None], ids=repr)
def test_blocks_refuse_kernel_sizes_that_are_not_ints(block, value):
    with pytest.raises(TypeError, match='kernel_size'):
        block(kernel_size=value)


BAD_CONSTRUCTIONS = {
    "LeakyReLU('0.1')": (lambda: mp2.LeakyReLU('0.1'), TypeError, 'negative_slope'),
    'LeakyReLU(nan)': (lambda: mp2.LeakyReLU(float('nan')), ValueError, 'negative_slope'),
    'Sequential(ReLU(), 3)': (lambda: mp2.Sequential(mp2.ReLU(), 3), TypeError, 'argument 1'),
    'Model(width=0)': (lambda: mp2.Model(width=0), ValueError, 'width'),
    'Model(width=-1)': (lambda: mp2.Model(width=-1), ValueError, 'width'),
    'Model(width=2.5)': (lambda: mp2.Model(width=2.5), TypeError, 'width'),
    'Model(kernel_size=2.5)': (lambda: mp2.Model(kernel_size=2.5), TypeError, 'kernel_size'),
    'Model(up_kernel_size=3.0)': (lambda: mp2.Model(up_kernel_size=3.0), TypeError, 'up_kernel_size'),
    'Model(batch_size=0)': (lambda: mp2.Model(batch_size=0), ValueError, 'batch_size'),
    'Mini-project 1 Model(width=0)': (lambda: mp1.Model(width=0), ValueError, 'width'),
    "Mini-project 1 Model(shape='round')": (lambda: mp1.Model(shape='round'), ValueError, 'shape'),
    'Mini-project 1 Model(residual=1)': (lambda: mp1.Model(residual=1), TypeError, 'residual'),
    'Mini-project 1 Model(batch_size=0)': (lambda: mp1.Model(batch_size=0), ValueError, 'batch_size'),
    'Mini-project 1 Model(lr=nan)': (lambda: mp1.Model(lr=float('nan')), ValueError, 'lr'),
}


@pytest.mark.parametrize('make, error, argument', BAD_CONSTRUCTIONS.values(), ids=BAD_CONSTRUCTIONS.keys())
def test_constructors_refuse_bad_arguments_naming_them(make, error, argument):
    with pytest.raises(error, match=argument):
        make()


def fresh_blocks_with_backward():
    """``{name: (block, arguments of its backward)}`` for blocks that no forward has run through."""
    return {
        'Conv2d': (mp2.Conv2d(2, 3, 3), (torch.zeros(1, 3, 2, 2),)),
        'TransposeConv2d': (mp2.TransposeConv2d(2, 3, 3), (torch.zeros(1, 3, 6, 6),)),
        'Upsampling': (mp2.Upsampling(2, 3, 3, padding=1), (torch.zeros(1, 3, 8, 8),)),
        'ReLU': (mp2.ReLU(), (torch.zeros(1, 2, 4, 4),)),
        'LeakyReLU': (mp2.LeakyReLU(), (torch.zeros(1, 2, 4, 4),)),
        'Sigmoid': (mp2.Sigmoid(), (torch.zeros(1, 2, 4, 4),)),
        'Tanh': (mp2.Tanh(), (torch.zeros(1, 2, 4, 4),)),
        'MSE': (mp2.MSE(), ()),
        'L1': (mp2.L1(), ()),
        'Sequential': (mp2.Sequential(mp2.Conv2d(2, 3, 3), mp2.ReLU()), (torch.zeros(1, 3, 2, 2),)),
    }


@pytest.mark.parametrize('name', fresh_blocks_with_backward())
def test_backward_before_forward_says_to_call_forward_first(name):
    block, gradient = fresh_blocks_with_backward()[name]
    with pytest.raises(RuntimeError, match='call forward first'):
        block.backward(*gradient)


@pytest.mark.parametrize('block', BLOCKS_WITH_CHANNELS.values(), ids=BLOCKS_WITH_CHANNELS.keys())
@pytest.mark.parametrize('dtype', [torch.uint8, torch.float64], ids=str)
def test_blocks_refuse_inputs_of_another_dtype_naming_both(block, dtype):
    with pytest.raises(TypeError, match=rf'torch\.float32.*{dtype}'):
        block(padding=1).forward(torch.zeros(1, 2, 8, 8, dtype=dtype))


@pytest.mark.parametrize('block', BLOCKS_WITH_CHANNELS.values(), ids=BLOCKS_WITH_CHANNELS.keys())
def test_blocks_refuse_an_empty_batch(block):
    with pytest.raises(ValueError, match='empty'):
        block(padding=1).forward(torch.zeros(0, 2, 8, 8))


# --------------------------------------------------------------------------------------------------------
# Tools: regular files only, one-line errors, 16-bit images read alike
# --------------------------------------------------------------------------------------------------------

def test_denoise_skips_a_fifo_or_a_folder_named_like_an_image(tmp_path):
    good = tmp_path / 'good.png'
    Image.fromarray(gradient_image()).save(good)
    os.mkfifo(tmp_path / 'fifo.png')
    (tmp_path / 'folder.png').mkdir()
    inputs = [str(tmp_path / 'fifo.png'), str(good), str(tmp_path / 'folder.png')]
    outcome, value, _ = in_child(with_stderr(lambda: denoise.main([*inputs, '--out', str(tmp_path / 'out')])))
    assert outcome == 'returned', value
    status, error = value
    assert status == 0, error
    assert 'fifo.png: not a regular file' in error and 'folder.png: not a regular file' in error
    assert sorted(path.name for path in (tmp_path / 'out').iterdir()) == ['good_denoised.png']


def test_denoise_with_only_a_fifo_is_a_one_line_error(tmp_path):
    os.mkfifo(tmp_path / 'fifo.png')
    arguments = [str(tmp_path / 'fifo.png'), '--out', str(tmp_path / 'out')]
    outcome, value, _ = in_child(with_stderr(lambda: denoise.main(arguments)))
    assert outcome == 'returned', value
    status, error = value
    assert status == 1 and error.splitlines()[-1].startswith('denoise: error: no image'), error


def test_build_data_skips_a_fifo_named_like_an_image(tmp_path, capsys):
    folder = tmp_path / 'photos'
    folder.mkdir()
    Image.fromarray(gradient_image()).save(folder / 'good.png')
    os.mkfifo(folder / 'fifo.png')
    outcome, value, _ = in_child(lambda: build_data.source_photos([str(folder)]))
    assert outcome == 'returned', value
    train, val = value
    assert str(folder / 'good.png') in train + val and str(folder / 'fifo.png') not in train + val


def test_build_data_skips_an_unreadable_image(world_readable_tmp):
    folder = world_readable_tmp / 'photos'
    folder.mkdir()
    for name in ('good.png', 'secret.png'):
        Image.fromarray(gradient_image()).save(folder / name)
    (folder / 'secret.png').chmod(0)
    outcome, value, _ = in_child(lambda: build_data.source_photos([str(folder)]), unprivileged=True)
    assert outcome == 'returned', value
    train, val = value
    assert str(folder / 'good.png') in train + val and str(folder / 'secret.png') not in train + val


def read_only_folder(folder):
    """A ``--out`` folder nobody but root can write into, and the error expected for it."""
    folder = folder / 'read-only'
    folder.mkdir()
    folder.chmod(0o555)
    return str(folder), 'cannot write into'


def out_inside_a_file(folder):
    """A ``--out`` below a file, and the error expected for it."""
    (folder / 'file').write_text('not a folder')
    return str(folder / 'file' / 'data'), 'is not a folder'


def out_is_a_file(folder):
    """A ``--out`` that is a file, and the error expected for it."""
    (folder / 'file').write_text('not a folder')
    return str(folder / 'file'), 'is not a folder'


@pytest.mark.parametrize('make_out', [read_only_folder, out_inside_a_file, out_is_a_file])
def test_build_data_refuses_an_unwritable_out_before_building(world_readable_tmp, make_out):
    out, expected = make_out(world_readable_tmp)
    arguments = ['--out', out, '--train', '8', '--val', '4', '--quiet']
    outcome, value, seconds = in_child(with_stderr(lambda: build_data.main(arguments)), unprivileged=True)
    assert outcome == 'returned', value
    status, error = value
    assert status == 1 and error.startswith('build_data: error: --out') and error.count('\n') == 1, error
    assert expected in error and seconds < FAST, 'refused before the build'


def test_build_data_scales_16_bit_images_as_denoise_does(tmp_path):
    path = tmp_path / 'deep.png'
    Image.fromarray(gradient_image()[..., 0].astype(np.uint16) * 257).save(path)
    pixels = np.asarray(build_data.load_photo(path))
    assert np.array_equal(pixels, denoise.read_rgb(path).transpose(1, 2, 0))
    assert np.array_equal(pixels[..., 0], gradient_image()[..., 0])


def test_build_data_skips_32_bit_images_as_denoise_refuses_them(tmp_path, capsys):
    path = tmp_path / 'float.tiff'
    Image.fromarray(np.full((40, 48), 0.5, np.float32)).save(path)
    with pytest.raises(ValueError, match='32-bit'):
        denoise.read_rgb(path)
    with pytest.raises(ValueError, match='no usable photo'):
        build_data.load_photos([str(path)], 'train')
    assert '32-bit' in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------------
# Memory: predict processes a large image in tiles, with the output of one pass
# --------------------------------------------------------------------------------------------------------

@pytest.fixture
def one_thread():
    """Hundreds of tiny forward passes: threads only add synchronisation, which a busy machine makes slow."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize('project, options, size, tile', [
    (mp2, {}, (98, 75), 48),
    (mp2, {'upsampling': 'transposed', 'up_kernel_size': 4}, (98, 75), 48),
    (mp2, {'upsampling': 'transposed', 'kernel_size': 5, 'up_kernel_size': 5}, (98, 75), 56),
    (mp2, {'upsampling': 'nearest', 'up_kernel_size': 5}, (98, 75), 48),
    # a wider receptive field: a wider margin
    (mp2, {'upsampling': 'nearest', 'kernel_size': 4, 'up_kernel_size': 7}, (98, 75), 56),
    (mp1, {}, (130, 121), 112),
], ids=['miniproject 2', 'miniproject 2, transposed 4', 'miniproject 2, transposed, larger kernels',
        'miniproject 2, nearest', 'miniproject 2, nearest, larger kernels', 'miniproject 1'])
def test_predict_tiles_a_large_image_with_the_output_of_one_pass(project, options, size, tile, one_thread):
    torch.manual_seed(0)
    model = project.Model(width=4, **options)  # self-ensembled, so every flip and transposition is tiled too
    image = torch.randint(0, 256, (2, 3, *size), dtype=torch.uint8)
    whole = model.predict(image)
    model.PREDICT_CHUNK_PIXELS = tile * tile
    model.PREDICT_TILE_SIZE = tile
    seen = []
    network_forward = model.network.forward

    def forward(input):
        seen.append(input.shape[2] * input.shape[3])
        return network_forward(input)

    model.network.forward = forward  # a torch.nn network's __call__ calls it too
    tiled = model.predict(image)
    assert max(seen) <= tile * tile, 'one image must go through the network in tiles'
    torch.testing.assert_close(tiled, whole)


MEASURE = '''
import resource, sys, torch
from Proj_123456_654321.Miniproject_2.model import Model
model = Model()
model.self_ensemble = False
image = torch.randint(0, 256, (1, 3, 1024, 1024), dtype=torch.uint8)
model.predict(image[:, :, :32, :32])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model.predict(image)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
'''


def test_predict_on_a_large_image_keeps_memory_bounded():
    result = subprocess.run([sys.executable, '-c', MEASURE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    extra_megabytes = float(result.stdout)
    assert extra_megabytes < 600, f"predict on 1024x1024 took {extra_megabytes:.0f} MB more"
