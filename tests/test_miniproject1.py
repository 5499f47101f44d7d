"""The Mini-project 1 U-Net: the same Model API as Mini-project 2, with torch.nn, autograd and torch.optim."""
import json
import math
import pickle

import pytest
import torch

from Proj_123456_654321.Miniproject_1 import model as mp1

from test_model import BAD_INPUTS, GOOD, images, noisy_pairs


def parameters(model):
    return [parameter.detach().clone() for parameter in model.network.parameters()]


@pytest.fixture
def model():
    torch.manual_seed(0)
    return mp1.Model(width=8)


def test_shipped_weights_load():
    model = mp1.Model()
    model.load_pretrained_model()
    assert model.predict(images(2)).shape == (2, 3, 32, 32)


@pytest.mark.parametrize('shape', [(1, 3, 32, 32), (2, 3, 31, 17), (1, 3, 1, 1), (1, 3, 6, 129)])
@pytest.mark.parametrize('dtype', [torch.uint8, torch.float32])
def test_predict_keeps_the_shape_and_range(model, shape, dtype):
    test_input = (torch.rand(shape) * 255).to(dtype)
    original = test_input.clone()
    output = model.predict(test_input)
    assert output.shape == test_input.shape and output.is_floating_point()
    assert 0 <= output.min().item() and output.max().item() <= 255
    assert torch.equal(test_input, original)


def test_predict_in_chunks_equals_predict_at_once(model):
    test_input = images(10, size=16)
    whole = model.predict(test_input)
    model.PREDICT_CHUNK_PIXELS = 3 * 16 * 16
    torch.testing.assert_close(model.predict(test_input), whole)


def test_self_ensemble_commutes_with_flips_and_transposition_and_can_be_switched_off(model):
    image = images(1, size=16)
    denoised = model.predict(image)
    torch.testing.assert_close(model.predict(image.flip(2)), denoised.flip(2))
    torch.testing.assert_close(model.predict(image.transpose(2, 3)), denoised.transpose(2, 3))
    model.self_ensemble = False
    with torch.no_grad():
        plain = model.network.eval()(image.float() / 255).clamp(0, 1) * 255
    torch.testing.assert_close(model.predict(image), plain)


def test_training_improves_the_loss_and_records_history(model, capsys):
    noisy_1, noisy_2, clean = noisy_pairs(128)
    history = model.train(noisy_1, noisy_2, 3, batch_size=16, lr=3e-3, validation=(noisy_1[:16], clean[:16]), seed=1)
    assert [record['epoch'] for record in history] == [1, 2, 3]
    assert history[-1]['loss'] < history[0]['loss']
    assert all(record['val_psnr'] is not None for record in history)
    lines = [line for line in capsys.readouterr().out.splitlines() if ' loss ' in line]  # not the progress lines
    assert len(lines) == 3 and lines[0].startswith('epoch 1/3') and 'val PSNR' in lines[0]


def test_training_works_with_autograd_turned_off_by_miniproject_2(model):
    from Proj_123456_654321.Miniproject_2 import model as _  # its import turns autograd off process-wide
    noisy_1, noisy_2, _clean = noisy_pairs(32)
    previous = torch.is_grad_enabled()
    torch.set_grad_enabled(False)
    try:
        before = parameters(model)
        model.train(noisy_1, noisy_2, 1, batch_size=8, verbose=False)
    finally:
        torch.set_grad_enabled(previous)
    assert any(not torch.equal(a, b) for a, b in zip(before, parameters(model)))


def test_training_is_reproducible_with_a_seed():
    noisy_1, noisy_2, _ = noisy_pairs(32)
    results = []
    for _ in range(2):
        torch.manual_seed(3)
        model = mp1.Model(width=8)
        model.train(noisy_1, noisy_2, 1, batch_size=8, seed=5, verbose=False)
        results.append(parameters(model))
    assert all(torch.equal(a, b) for a, b in zip(*results))


def test_save_then_load_gives_identical_predictions(tmp_path, model):
    noisy_1, noisy_2, _ = noisy_pairs(32)
    model.train(noisy_1, noisy_2, 1, verbose=False)
    path = model.save_model(tmp_path / 'bestmodel.pth')
    assert [p.name for p in tmp_path.iterdir()] == ['bestmodel.pth']
    other = mp1.Model(width=8)
    other.load_pretrained_model(path)
    assert torch.equal(model.predict(noisy_1), other.predict(noisy_1))


def test_loading_refuses_code_and_other_configurations(tmp_path, model):
    path = tmp_path / 'bestmodel.pth'
    path.write_bytes(pickle.dumps({'format': mp1.Model.FILE_FORMAT, 'payload': print}))
    with pytest.raises(ValueError, match='not a readable bestmodel'):
        model.load_pretrained_model(path)
    mp1.Model(width=4).save_model(path)
    with pytest.raises(ValueError, match='configuration'):
        model.load_pretrained_model(path)
    with pytest.raises(FileNotFoundError, match='others.train'):
        model.load_pretrained_model(tmp_path / 'missing.pth')


def test_files_from_before_shape_and_residual_load_as_the_flat_u_net(tmp_path):
    """Files written before the architecture had ``shape`` and ``residual`` save only ``width``: they are the flat,
    non-residual U-Net, and load into it only."""
    torch.manual_seed(0)
    source = mp1.Model(width=4, shape='flat', residual=False)
    path = tmp_path / 'bestmodel.pth'
    state = {key: value.clone() for key, value in source.network.state_dict().items()}
    torch.save({'format': mp1.Model.FILE_FORMAT, 'config': {'width': 4}, 'state_dict': state}, path)
    model = mp1.Model(width=4, shape='flat', residual=False)
    model.load_pretrained_model(path)
    noisy = images(2)
    assert torch.equal(model.predict(noisy), source.predict(noisy))
    with pytest.raises(mp1.BestModelError, match="'residual': False"):
        mp1.Model(width=4).load_pretrained_model(path)


@pytest.mark.parametrize('shape, encoder, decoder', [('flat', (8, 8, 8, 8), (16, 16, 8)),
                                                     ('tapered', (8, 16, 24, 32), (32, 24, 8)),
                                                     ('lean', (6, 12, 24, 32), (24, 12, 6))])
def test_the_shape_sets_the_channels_of_each_level(shape, encoder, decoder):
    network = mp1.UNet(width=8, shape=shape)
    convolutions = [network.encode_1[1][0], network.encode_2[0], network.encode_3[0], network.bottleneck[0]]
    assert tuple(layer.out_channels for layer in convolutions) == encoder
    decoder_levels = (network.decode_3, network.decode_2, network.decode_1)
    assert tuple(level[1][0].out_channels for level in decoder_levels) == decoder
    assert network(torch.rand(2, 3, 16, 24)).shape == (2, 3, 16, 24)


def test_a_residual_u_net_adds_its_output_to_its_input():
    torch.manual_seed(0)
    plain = mp1.UNet(width=4, shape='tapered', residual=False)
    residual = mp1.UNet(width=4, shape='tapered', residual=True)
    residual.load_state_dict(plain.state_dict())
    x = torch.rand(3, 3, 8, 16)
    with torch.no_grad():
        assert torch.equal(residual(x), x + plain(x))


def test_a_tapered_residual_model_saves_and_loads_its_architecture(tmp_path):
    torch.manual_seed(0)
    source = mp1.Model(width=4, shape='tapered', residual=True)
    path = source.save_model(tmp_path / 'bestmodel.pth')
    model = mp1.Model(width=4, shape='tapered', residual=True)
    model.load_pretrained_model(path)
    noisy = images(2)
    assert torch.equal(model.predict(noisy), source.predict(noisy))
    with pytest.raises(mp1.BestModelError, match="'shape': 'tapered'"):
        mp1.Model(width=4, shape='flat', residual=False).load_pretrained_model(path)


@pytest.mark.parametrize('bad, error, message', BAD_INPUTS)
def test_bad_input_changes_nothing(model, bad, error, message):
    before = parameters(model)
    with pytest.raises(error, match=message):
        model.train(bad, GOOD, 1)
    with pytest.raises(error, match=message):
        model.train(GOOD, bad, 1)
    with pytest.raises(error, match=message):
        model.predict(bad)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))
    assert model.history == []


def test_divergence_stops_and_restores_the_weights(model):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    before = parameters(model)
    with pytest.raises(FloatingPointError, match='restored'):
        model.train(noisy_1, noisy_2, 1, lr=1e30, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))


def test_a_finite_loss_explosion_stops_and_restores_the_weights(model):
    # lr 1 takes this U-Net's loss from about 0.3 to about 4e27: finite, so only the ratio test catches it.
    noisy_1, noisy_2, _ = noisy_pairs(64)
    model.train(noisy_1, noisy_2, 1, seed=0, verbose=False)
    before = parameters(model)
    with pytest.raises(FloatingPointError, match=r'in epoch 1 \(previous epoch: 0\.\d+\).*restored') as error:
        model.train(noisy_1, noisy_2, 1, lr=1.0, seed=0, verbose=False)
    assert math.isfinite(float(str(error.value).split('became ')[1].split(' ')[0]))
    assert all(torch.equal(a, b) for a, b in zip(before, parameters(model)))
    assert len(model.history) == 1


class RateRecorder(mp1.Model):
    """Records the learning rate of every optimizer step of its train calls."""

    def _optimizer_and_schedule(self, lr, total_steps):
        optimizer, schedule = super()._optimizer_and_schedule(lr, total_steps)
        self.rates = []
        optimizer.register_step_pre_hook(lambda optimizer, *_: self.rates.append(optimizer.param_groups[0]['lr']))
        return optimizer, schedule


def cosine(lr, step, total_steps):
    return lr / 100 + (lr - lr / 100) * (1 + math.cos(math.pi * step / total_steps)) / 2


def test_training_from_random_weights_warms_the_rate_up_and_later_calls_do_not(tmp_path):
    noisy_1, noisy_2, _ = noisy_pairs(160)
    torch.manual_seed(0)
    model = RateRecorder(width=8)
    # 10 steps an epoch, 30 in all: the warm-up is a tenth of them, each step at (k + 1) / 3 of the cosine's rate.
    model.train(noisy_1, noisy_2, 3, batch_size=16, lr=1e-3, seed=0, verbose=False)
    assert len(model.rates) == 30
    for step, rate in enumerate(model.rates):
        # torch computes the chained rates recursively: equal to the closed form within rounding.
        assert rate == pytest.approx(cosine(1e-3, step, 30) * min(1, (step + 1) / 3), rel=1e-4)
    # A second call, and training after load_pretrained_model, continue trained weights: no warm-up.
    model.train(noisy_1, noisy_2, 1, batch_size=16, lr=1e-3, seed=0, verbose=False)
    assert model.rates[0] == pytest.approx(1e-3, rel=1e-9)
    model.save_model(tmp_path / 'trained.pth')
    loaded = RateRecorder(width=8)
    loaded.load_pretrained_model(tmp_path / 'trained.pth')
    loaded.train(noisy_1, noisy_2, 1, batch_size=16, lr=1e-3, seed=0, verbose=False)
    assert loaded.rates[0] == pytest.approx(1e-3, rel=1e-9)


def test_warm_up_is_at_most_warmup_steps_long():
    noisy_1, noisy_2, _ = noisy_pairs(64)
    torch.manual_seed(0)
    model = RateRecorder(width=8)
    model.WARMUP_STEPS = 2
    # 4 steps an epoch, 40 in all: a tenth would be 4, WARMUP_STEPS caps it at 2.
    model.train(noisy_1, noisy_2, 10, batch_size=16, lr=1e-3, seed=0, verbose=False)
    assert model.rates[:3] == pytest.approx([cosine(1e-3, 0, 40) / 2, cosine(1e-3, 1, 40), cosine(1e-3, 2, 40)],
                                            rel=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no GPU on this machine')
def test_gpu_path():
    model = mp1.Model(width=8)
    assert next(model.network.parameters()).is_cuda
    noisy_1, noisy_2, clean = noisy_pairs(32)
    model.train(noisy_1, noisy_2, 1, batch_size=8, validation=(noisy_1[:8], clean[:8]), verbose=False)
    assert model.predict(noisy_1[:4]).device.type == 'cpu'


def test_the_budget_times_each_u_net_on_every_path_against_the_first(tmp_path, monkeypatch):
    from Proj_123456_654321.Miniproject_1.others import speed
    monkeypatch.setattr(speed, 'RESULTS_FILE', tmp_path / 'speed.json')
    monkeypatch.setattr(speed, 'SUMMARY_FILE', tmp_path / 'speed.md')
    noisy_1, noisy_2, _ = noisy_pairs(40)
    monkeypatch.setattr(speed, 'load_train', lambda folder: (noisy_1, noisy_2))
    built = []
    monkeypatch.setattr(speed, 'Model', lambda **options: built.append(options) or mp1.Model(**options))
    speed.main(['budget', '--data', 'unused', '--pairs', '32', '--rounds', '2', '--compare-with', 'flat48', 'light'])
    result = json.loads((tmp_path / 'speed.json').read_text())['budget']
    shipped = mp1.Config().shape
    names = {f'{shape} / {setting}' for shape in ('flat48', 'light', shipped) for setting in speed.BUDGET_SETTINGS}
    assert result['pairs'] == 32 and set(result['seconds']) == names and result['shapes'] == ['flat48', 'light', shipped]
    assert all(len(seconds) == 2 and min(seconds) > 0 for seconds in result['seconds'].values())
    assert {'width': 48, 'shape': 'flat', 'residual': False, 'bfloat16': False, 'channels_last': True} in built
    light = result['seconds']['light / float32, channels-last']
    assert result['seconds_per_50000_pairs']['light / float32, channels-last'] == pytest.approx(
        (light[0] + light[1]) / 2 * 50000 / 32)
    per_50000 = result['seconds_per_50000_pairs']
    ratio = per_50000['light / float32, channels-last'] / per_50000['flat48 / float32, channels-last']
    summary = (tmp_path / 'speed.md').read_text()
    rows = {line.split(' | ')[0][2:]: line for line in summary.splitlines() if line.startswith('| ')}
    assert rows['flat48'].endswith('| 1.00 |') and rows['light'].endswith(f'| {ratio:.2f} |') and shipped in rows
