"""The Model API of Mini-project 2: training, prediction, saving and loading, input checks, import rules."""
import ast
import io
import math
import pickle
from pathlib import Path

import pytest
import torch

from Proj_123456_654321.Miniproject_2 import model as m

MODEL_FILE = Path(m.__file__)


def images(n, size=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=generator)


def noisy_pairs(n, seed=0):
    """Smooth clean images with two independent noise draws: something a denoiser can learn."""
    generator = torch.Generator().manual_seed(seed)
    clean = torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=generator) * 255,
                                            size=32, mode='bilinear', align_corners=False)
    noisy = [(clean + 25 * torch.randn(clean.shape, generator=generator)).round().clamp(0, 255).to(torch.uint8)
             for _ in range(2)]
    return noisy[0], noisy[1], clean


def parameters(model):
    return [parameter.clone() for parameter, _ in model.network.param()]


@pytest.fixture
def model():
    torch.manual_seed(0)
    return m.Model(width=8)


@pytest.mark.parametrize('options, block', [({}, 'TransposeConv2d'), ({'upsampling': 'nearest'}, 'Upsampling')],
                         ids=['default', 'nearest'])
def test_network_has_the_required_shape(options, block):
    """Each upsampling stage a stride-2 transposed convolution (the default) or nearest upsampling by 2 and a
    convolution, as the course allows."""
    network = m.Model(width=8, **options).network
    kinds = [type(module).__name__ for module in network]
    assert kinds == ['Conv2d', 'ReLU', 'Conv2d', 'ReLU', block, 'ReLU', block, 'Sigmoid']
    assert network[0].stride == (2, 2) and network[2].stride == (2, 2)
    assert all(network[index].stride == (2, 2) if block == 'TransposeConv2d' else network[index].scale_factor == 2
               for index in (4, 6))
    assert network[0].in_channels == 3 and network[6].out_channels == 3


def test_the_builder_defaults_to_the_shipped_network():
    """``Model._build_network`` without ``upsampling`` builds what ``Config()`` ships."""
    architecture = m.Config().architecture()
    shipped = m.Model._build_network(**architecture)
    default = m.Model._build_network(**{name: value for name, value in architecture.items() if name != 'upsampling'})
    assert [repr(block) for block in default] == [repr(block) for block in shipped]
    assert type(default[4]).__name__ == 'TransposeConv2d'


def test_default_model_loads_the_shipped_weights():
    model = m.Model()
    model.load_pretrained_model()
    assert len(model.network.param()) == 8


@pytest.mark.parametrize('shape', [(1, 3, 32, 32), (2, 3, 31, 17), (1, 3, 1, 1), (1, 3, 6, 129)])
@pytest.mark.parametrize('dtype', [torch.uint8, torch.float32, torch.float64])
def test_predict_keeps_the_shape_and_range(model, shape, dtype):
    test_input = (torch.rand(shape) * 255).to(dtype)
    original = test_input.clone()
    output = model.predict(test_input)
    assert output.shape == test_input.shape and output.is_floating_point()
    assert 0 <= output.min().item() and output.max().item() <= 255
    assert torch.equal(test_input, original), 'predict must not modify its input'


def test_predict_in_chunks_equals_predict_at_once(model):
    test_input = images(10, size=12)
    whole = model.predict(test_input)
    model.PREDICT_CHUNK_PIXELS = 3 * 12 * 12
    torch.testing.assert_close(model.predict(test_input), whole)


def test_predict_pads_by_edge_replication_and_crops_back(model):
    model.self_ensemble = False
    image = images(2, size=30)[:, :, :, :29]
    padded = torch.nn.functional.pad(image.float() / 255, (0, 3, 0, 2), mode='replicate')
    expected = model.network.forward(padded.to(model.device))[:, :, :30, :29].cpu() * 255
    torch.testing.assert_close(model.predict(image), expected)


def test_self_ensemble_averages_the_eight_symmetries(model):
    image = images(2, size=12)[:, :, :, :8]
    unit = image.float() / 255
    views = []
    for transpose in (False, True):
        for flips in ((), (2,), (3,), (2, 3)):
            view = unit.transpose(2, 3) if transpose else unit
            view = view.flip(flips) if flips else view
            output = model.network.forward(view)
            output = output.flip(flips) if flips else output
            views.append(output.transpose(2, 3) if transpose else output)
    expected = sum(views) / 8 * 255
    torch.testing.assert_close(model.predict(image), expected)
    model.self_ensemble = False
    assert not torch.allclose(model.predict(image), expected)


def test_self_ensembled_predictions_commute_with_flips_and_transposition(model):
    # sizes that need no padding: padding on the bottom and right edges is not symmetric
    image = images(1, size=20)[:, :, :, :16]
    denoised = model.predict(image)
    torch.testing.assert_close(model.predict(image.flip(3)), denoised.flip(3))
    torch.testing.assert_close(model.predict(image.transpose(2, 3)), denoised.transpose(2, 3))


def test_training_improves_the_loss_and_records_history(model, capsys):
    noisy_1, noisy_2, clean = noisy_pairs(256)
    history = model.train(noisy_1, noisy_2, 3, batch_size=16, lr=3e-3, validation=(noisy_1[:32], clean[:32]), seed=1)
    assert len(history) == 3 == len(model.history)
    assert [record['epoch'] for record in history] == [1, 2, 3]
    assert history[-1]['loss'] < history[0]['loss']
    assert all(record['seconds'] > 0 and record['images_per_second'] > 0 for record in history)
    assert all(math.isfinite(record['val_psnr']) for record in history)
    lines = [line for line in capsys.readouterr().out.splitlines() if ' loss ' in line]  # not the progress lines
    assert len(lines) == 3 and lines[0].startswith('epoch 1/3') and 'img/s' in lines[0] and 'val PSNR' in lines[0]


def test_training_is_silent_when_asked_and_reproducible_with_a_seed(capsys):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    results = []
    for _ in range(2):
        torch.manual_seed(3)
        model = m.Model(width=8)
        model.train(noisy_1, noisy_2, 2, batch_size=8, seed=5, verbose=False)
        results.append(parameters(model))
    assert capsys.readouterr().out == ''
    for first, second in zip(*results):
        assert torch.equal(first, second)


def test_training_accepts_float_input_in_0_255(model):
    noisy_1, noisy_2, _ = noisy_pairs(32)
    model.train(noisy_1.float(), noisy_2.double(), 1, verbose=False)
    assert len(model.history) == 1


def test_training_continues_from_loaded_weights(tmp_path, model):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    model.train(noisy_1, noisy_2, 1, batch_size=8, verbose=False)
    path = model.save_model(tmp_path / 'bestmodel.pth')
    torch.manual_seed(1)
    fresh = m.Model(width=8)
    fresh.load_pretrained_model(path)
    fresh.train(noisy_1, noisy_2, 1, batch_size=8, lr=1e-12, verbose=False)
    for trained, continued in zip(parameters(model), parameters(fresh)):
        torch.testing.assert_close(continued, trained, atol=1e-9, rtol=0)


def test_save_then_load_gives_identical_predictions(tmp_path, model):
    noisy_1, noisy_2, _ = noisy_pairs(32)
    model.train(noisy_1, noisy_2, 1, verbose=False)
    path = model.save_model(tmp_path / 'bestmodel.pth')
    assert path.is_file() and not list(tmp_path.glob('*.tmp*'))
    other = m.Model(width=8)
    other.load_pretrained_model(path)
    for (saved, _), (loaded, _) in zip(model.network.param(), other.network.param()):
        assert torch.equal(saved, loaded)
    assert torch.equal(model.predict(noisy_1), other.predict(noisy_1))


def test_saving_is_atomic(tmp_path, model, monkeypatch):
    path = tmp_path / 'bestmodel.pth'
    model.save_model(path)
    before = path.read_bytes()

    def failing_dump(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(m.pickle, 'dump', failing_dump)
    with pytest.raises(OSError, match='disk full'):
        m.Model(width=8).save_model(path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_load_from_another_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = m.Model()
    model.load_pretrained_model()
    assert model.predict(images(1)).shape == (1, 3, 32, 32)


def test_missing_file_says_where_and_how(tmp_path, model):
    with pytest.raises(FileNotFoundError, match=r'no pretrained model at .*missing\.pth.*others\.train'):
        model.load_pretrained_model(tmp_path / 'missing.pth')


def test_other_configuration_says_what_differs(tmp_path):
    path = m.Model(width=8).save_model(tmp_path / 'bestmodel.pth')
    with pytest.raises(m.BestModelError, match=r'width: file 8, model 12.*Model\(width=8'):
        m.Model(width=12).load_pretrained_model(path)


@pytest.mark.parametrize('upsampling', ['nearest', 'transposed'])
def test_a_file_older_than_the_upsampling_field_is_refused_and_changes_nothing(tmp_path, upsampling):
    """Files written before the ``upsampling`` field hold networks that no longer ship: refused, as any file of
    another configuration, whatever the model."""
    path = m.Model(width=8, upsampling='nearest').save_model(tmp_path / 'former.pth')
    payload = pickle.loads(path.read_bytes())
    del payload['config']['upsampling']
    path.write_bytes(pickle.dumps(payload, protocol=4))
    model = m.Model(width=8, upsampling=upsampling)
    before = parameters(model)
    with pytest.raises(m.BestModelError, match=r'no valid network configuration .*upsampling.*no longer ship'):
        model.load_pretrained_model(path)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model))) and model.loaded_weights is None


@pytest.mark.parametrize('upsampling', ['nearest', 'transposed'])
def test_a_saved_upsampling_loads_only_into_its_own(tmp_path, upsampling):
    other = {'nearest': 'transposed', 'transposed': 'nearest'}[upsampling]
    up_kernel_size = 3  # odd: valid for both
    path = m.Model(width=8, up_kernel_size=up_kernel_size, upsampling=upsampling).save_model(tmp_path / 'b.pth')
    m.Model(width=8, up_kernel_size=up_kernel_size, upsampling=upsampling).load_pretrained_model(path)
    with pytest.raises(m.BestModelError, match=f'upsampling: file {upsampling}, model {other}'):
        m.Model(width=8, up_kernel_size=up_kernel_size, upsampling=other).load_pretrained_model(path)
    payload = pickle.loads(path.read_bytes())
    payload['config']['upsampling'] = 'x' * 1000  # too long to be a choice: refused before it is printed
    path.write_bytes(pickle.dumps(payload, protocol=4))
    with pytest.raises(m.BestModelError, match='no valid network configuration'):
        m.Model(width=8, upsampling=upsampling).load_pretrained_model(path)


def test_swapping_exchanges_each_pair_with_probability_one_half():
    generator = m.random.Random(0)
    input, target = torch.arange(400.).view(400, 1, 1, 1), -torch.arange(400.).view(400, 1, 1, 1)
    swapped_input, swapped_target = m._random_swap(input, target, generator)
    exchanged = swapped_input < 0
    assert torch.equal(swapped_input.abs(), input) and torch.equal(swapped_target, -swapped_input)
    assert 150 < exchanged.sum().item() < 250


def test_training_with_swapping_is_reproducible_and_differs_from_without():
    noisy_1, noisy_2, _ = noisy_pairs(64)
    runs = []
    for swap in (True, True, False):
        torch.manual_seed(0)
        model = m.Model(width=8, swap=swap)
        model.train(noisy_1, noisy_2, 1, batch_size=8, seed=3, verbose=False)
        runs.append(parameters(model))
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(torch.equal(a, b) for a, b in zip(runs[0], runs[2]))


class Exploit:
    def __reduce__(self):
        return (Path('/tmp/should_not_exist_exploit').touch, ())


def test_restricted_unpickler_refuses_code(tmp_path, model):
    path = tmp_path / 'bestmodel.pth'
    path.write_bytes(pickle.dumps({'format': m.Model.FILE_FORMAT, 'payload': Exploit()}))
    with pytest.raises(m.BestModelError, match='refusing to load'):
        model.load_pretrained_model(path)
    assert not Path('/tmp/should_not_exist_exploit').exists()


def test_restricted_unpickler_refuses_torch_tensors(tmp_path, model):
    path = tmp_path / 'bestmodel.pth'
    buffer = io.BytesIO()
    pickle.dump({'weights': torch.zeros(3)}, buffer)
    path.write_bytes(buffer.getvalue())
    with pytest.raises(m.BestModelError, match='refusing to load'):
        model.load_pretrained_model(path)


@pytest.mark.parametrize('payload, message', [
    (b'not a pickle at all', 'not a readable bestmodel'),
    (pickle.dumps([1, 2, 3]), 'not written by Model.save_model'),
])
def test_unreadable_files_are_refused(tmp_path, model, payload, message):
    path = tmp_path / 'bestmodel.pth'
    path.write_bytes(payload)
    with pytest.raises(m.BestModelError, match=message):
        model.load_pretrained_model(path)


def test_truncated_parameters_are_refused(tmp_path, model):
    path = model.save_model(tmp_path / 'bestmodel.pth')
    payload = pickle.loads(path.read_bytes())
    payload['parameters'][0]['data'] = payload['parameters'][0]['data'][:-4]
    path.write_bytes(pickle.dumps(payload))
    with pytest.raises(m.BestModelError, match='do not have the shapes'):
        model.load_pretrained_model(path)


GOOD = images(4)
BAD_INPUTS = [
    ([[1, 2, 3]], TypeError, 'must be a torch tensor'),
    (torch.zeros(4, 3, 32, 32, dtype=torch.int64), TypeError, 'uint8 or floating point'),
    (torch.zeros(3, 32, 32), ValueError, r'\[N, 3, H, W\]'),
    (torch.zeros(4, 1, 32, 32), ValueError, r'\[N, 3, H, W\]'),
    (torch.zeros(0, 3, 32, 32), ValueError, 'empty'),
    (torch.full((4, 3, 32, 32), float('nan')), ValueError, 'NaN'),
    (torch.full((4, 3, 32, 32), 300.0), ValueError, r'\[0, 255\]'),
    (torch.full((4, 3, 32, 32), -1.0), ValueError, r'\[0, 255\]'),
]


@pytest.mark.parametrize('bad, error, message', BAD_INPUTS)
def test_bad_training_input_changes_nothing(model, bad, error, message):
    before = parameters(model)
    with pytest.raises(error, match=message):
        model.train(bad, GOOD, 1)
    with pytest.raises(error, match=message):
        model.train(GOOD, bad, 1)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))
    assert model.history == []


@pytest.mark.parametrize('bad, error, message', BAD_INPUTS)
def test_bad_prediction_input_is_refused(model, bad, error, message):
    with pytest.raises(error, match=message):
        model.predict(bad)


@pytest.mark.parametrize('call, message', [
    (lambda model: model.train(GOOD, images(3), 1), 'same shape'),
    (lambda model: model.train(GOOD[:, :, :30, :30], GOOD[:, :, :30, :30], 1), 'multiples of 4'),
    (lambda model: model.train(GOOD, GOOD, 0), 'num_epochs'),
    (lambda model: model.train(GOOD, GOOD, 1.5), 'num_epochs'),
    (lambda model: model.train(GOOD, GOOD, 1, batch_size=0), 'batch_size'),
    (lambda model: model.train(GOOD, GOOD, 1, lr=-1.0), 'lr'),
    (lambda model: model.train(GOOD, GOOD, 1, validation=(GOOD, images(3))), 'same shape'),
])
def test_bad_training_arguments_change_nothing(model, call, message):
    before = parameters(model)
    with pytest.raises(ValueError, match=message):
        call(model)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))


def test_divergence_from_a_huge_learning_rate_restores_the_epoch_start(model):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    before = parameters(model)
    with pytest.raises(FloatingPointError, match='learning rate'):
        model.train(noisy_1, noisy_2, 2, lr=1e30, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))


def imported_names(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield from ((node.module, alias.name) for alias in node.names)


def test_model_py_follows_the_import_rules():
    tree = ast.parse(MODEL_FILE.read_text())
    allowed_from = {('torch', 'empty'), ('torch', 'cat'), ('torch', 'arange'),
                    ('torch.nn.functional', 'fold'), ('torch.nn.functional', 'unfold')}
    for module, name in imported_names(tree):
        if name is None:
            assert module == 'torch' or module.split('.')[0] in __import__('sys').stdlib_module_names, module
        else:
            assert (module, name) in allowed_from or module.split('.')[0] in __import__('sys').stdlib_module_names, \
                (module, name)
    torch_uses = {ast.unparse(node) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == 'torch'}
    assert torch_uses <= {'torch.set_grad_enabled', 'torch.cuda', 'torch.device'}, torch_uses
    cuda_uses = {ast.unparse(node) for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and ast.unparse(node.value) == 'torch.cuda'}
    assert cuda_uses <= {'torch.cuda.is_available'}, cuda_uses


def test_model_py_disables_autograd_at_import():
    tree = ast.parse(MODEL_FILE.read_text())
    calls = [ast.unparse(node) for node in tree.body if isinstance(node, ast.Expr)]
    assert 'torch.set_grad_enabled(False)' in calls


def check_device_matches_cpu(device, reference_options=None):
    """Train a model on ``device`` and one on the CPU from the same weights, with the same seed and pairs, and
    predict with the same weights and settings on both: the weights, losses and outputs must agree to float
    rounding. ``reference_options`` changes the CPU model's attributes (a planted difference, to see the
    check fail). On the CPU for ``device`` the check is trivially met: it means something on a GPU only."""
    torch.manual_seed(0)
    reference, model = m.Model(width=8, device='cpu'), m.Model(width=8, device=device)
    device_type = torch.device(device).type  # a tensor's device has an index ('cuda:0'), 'cuda' has none
    assert model.device.type == device_type
    for (theirs, _), (mine, _) in zip(reference.network.param(), model.network.param()):
        mine.copy_(theirs)  # each device draws its own initial weights: start both from the CPU's
    noisy_1, noisy_2, clean = noisy_pairs(64)
    for each in (model, reference):
        each.train(noisy_1, noisy_2, 2, batch_size=16, seed=4, validation=(noisy_1[:16], clean[:16]), verbose=False)
    assert all(parameter.device.type == gradient.device.type == device_type
               for parameter, gradient in model.network.param())
    for mine, theirs in zip(model.history, reference.history):
        assert mine['loss'] == pytest.approx(theirs['loss'], rel=1e-4)
        assert mine['val_psnr'] == pytest.approx(theirs['val_psnr'], abs=1e-3)
    for (mine, _), (theirs, _) in zip(model.network.param(), reference.network.param()):
        # Rounding differs from device to device; Adam turns it into up to a step (lr) where a gradient is
        # within rounding of 0, and the two then train apart only by such steps: a mean far below a step.
        difference = (mine.cpu() - theirs).abs()
        assert difference.max() < 2 * model.config.lr and difference.mean() < 1e-5, (difference.max(),
                                                                                   difference.mean())
        theirs.copy_(mine)  # predict compares the same weights
    for name, value in (reference_options or {}).items():
        setattr(reference, name, value)
    output, expected = model.predict(noisy_1[:4]), reference.predict(noisy_1[:4])
    assert output.device.type == 'cpu' and output.shape == noisy_1[:4].shape
    torch.testing.assert_close(output, expected, atol=1e-3, rtol=1e-4)
    on_device = model.predict(noisy_1[:4].to(device))
    assert on_device.device.type == device_type
    torch.testing.assert_close(on_device.cpu(), expected, atol=1e-3, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no GPU on this machine')
def test_gpu_path_matches_cpu():
    check_device_matches_cpu('cuda')


@pytest.mark.parametrize('first, channels', [(lambda: m.Conv2d(3, 4, 3, stride=2, padding=1), 4),
                                             (lambda: m.Upsampling(3, 4, 3, padding=1), 4),
                                             (lambda: m.TransposeConv2d(3, 4, 4, stride=2, padding=1), 4),
                                             (m.ReLU, 3)])
def test_backward_parameters_accumulates_what_backward_does(first, channels):
    torch.manual_seed(0)
    network = m.Sequential(first(), m.ReLU(), m.Conv2d(channels, 2, 3, padding=1))
    x = torch.randn(2, 3, 12, 12)
    grad = torch.randn_like(network.forward(x))
    network.backward(grad)
    expected = [gradient.clone() for _, gradient in network.param()]
    network.zero_grad()
    network.forward(x)
    assert network.backward_parameters(grad) is None
    for (_, gradient), reference in zip(network.param(), expected):
        torch.testing.assert_close(gradient, reference, rtol=0, atol=0)
