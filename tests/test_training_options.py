"""Mini-project 2's training options (optimizer, loss, schedule, augmentation, initialisation, kernel sizes),
its torch.nn twin, and the training command that drives them."""
import json
import math
import random

import pytest
import torch

from Proj_123456_654321.Miniproject_2 import model as m
from Proj_123456_654321.Miniproject_2.others import train
from Proj_123456_654321.Miniproject_2.others.twin import TorchTwinModel, copy_weights, twin_network

from test_model import noisy_pairs, parameters


def fresh_model(seed=0, model_class=m.Model, **options):
    torch.manual_seed(seed)
    return model_class(width=8, **options)


@pytest.mark.parametrize('upsampling, kernel_size, up_kernel_size', [
    ('nearest', 3, 3), ('nearest', 4, 3), ('nearest', 5, 5), ('nearest', 6, 3), ('nearest', 2, 1),
    ('transposed', 3, 2), ('transposed', 3, 3), ('transposed', 3, 4), ('transposed', 4, 5), ('transposed', 2, 1)])
@pytest.mark.parametrize('size', [(32, 32), (12, 20)])
def test_any_kernel_size_keeps_the_image_size_and_matches_the_torch_network(upsampling, kernel_size, up_kernel_size,
                                                                            size):
    model = fresh_model(kernel_size=kernel_size, up_kernel_size=up_kernel_size, upsampling=upsampling)
    assert model.config.architecture() == {'width': 8, 'kernel_size': kernel_size, 'up_kernel_size': up_kernel_size,
                                           'upsampling': upsampling}
    upsampling_block = m.TransposeConv2d if upsampling == 'transposed' else m.Upsampling
    assert [type(model.network[index]) for index in (4, 6)] == [upsampling_block] * 2
    images = torch.rand(2, 3, *size)
    output = model.network.forward(images)
    assert output.shape == images.shape
    theirs = twin_network(model.network)
    with torch.no_grad():
        for ours, their in zip([p for p, _ in model.network.param()], theirs.parameters()):
            their.copy_(ours)
        torch.testing.assert_close(output, theirs(images))


def test_the_torch_twin_is_built_block_by_block_for_every_kind_of_block():
    torch.manual_seed(0)
    network = m.Sequential(
        m.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)), m.LeakyReLU(0.2),
        m.TransposeConv2d(4, 5, 3, stride=2, padding=1, output_padding=1), m.Tanh(), m.NearestUpsampling(2),
        m.Sequential(m.Upsampling(5, 3, 3, scale_factor=3, padding=1, bias=False), m.ReLU()), m.Sigmoid())
    images = torch.rand(2, 3, 12, 10)
    torch.testing.assert_close(network.forward(images), copy_weights(network, twin_network(network))(images))
    with pytest.raises(TypeError, match='no torch.nn twin'):
        twin_network(m.MSE())


@pytest.mark.parametrize('options, message', [
    ({'up_kernel_size': 4, 'upsampling': 'nearest'}, 'odd'), ({'upsampling': 'bilinear'}, 'upsampling'), ({'optimizer': 'rmsprop'}, 'optimizer'), ({'loss': 'l2'}, 'loss'),
    ({'schedule': 'step'}, 'schedule'), ({'init': 'xavier'}, 'init')])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        m.Model(**options)


@pytest.mark.parametrize('project', [1, 2])
def test_a_model_is_built_from_a_config_or_its_fields_by_name(project):
    from Proj_123456_654321.Miniproject_1 import model as mp1
    module = {1: mp1, 2: m}[project]
    assert module.Model().config == module.Config()
    assert module.Model(width=8, lr=0.01).config == module.Config(width=8, lr=0.01)
    # fields given by name override the config's
    assert module.Model(module.Config(width=8), width=4, batch_size=2).config == module.Config(width=4, batch_size=2)
    with pytest.raises(TypeError, match='by name'):
        module.Model(8)
    with pytest.raises(TypeError, match='unexpected keyword'):
        module.Model(colour=3)
    with pytest.raises(ValueError, match='width'):
        module.Model(width=0)


@pytest.mark.parametrize('project', [1, 2])
def test_the_device_is_chosen_at_construction(project):
    from Proj_123456_654321.Miniproject_1 import model as mp1
    module = {1: mp1, 2: m}[project]
    model = module.Model(width=4, device='cpu')
    assert model.device == torch.device('cpu')
    parameters = [p for p, _ in model.network.param()] if project == 2 else list(model.network.parameters())
    assert all(parameter.device == torch.device('cpu') for parameter in parameters)
    expected = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    assert module.Model(width=4).device.type == expected.type


def test_he_initialisation_draws_normal_weights_with_fan_in_variance():
    model = m.Model(width=64, init='he')
    for parameter, _ in model.network.param():
        if parameter.dim() == 4:
            fan_in = parameter[0].numel()
            assert abs(parameter.std().item() - math.sqrt(2 / fan_in)) < 0.15 * math.sqrt(2 / fan_in)
        else:
            assert torch.count_nonzero(parameter) == 0


def test_cosine_schedule_decays_to_zero_over_the_call_and_restores_the_rate():
    noisy_1, noisy_2, _ = noisy_pairs(64)
    model = fresh_model(schedule='cosine', lr=2e-3)
    seen = []
    original_step = model.optimizer.step

    def recording_step():
        seen.append(model.optimizer.lr)
        original_step()

    model.optimizer.step = recording_step
    model.train(noisy_1, noisy_2, 2, batch_size=16, verbose=False)
    total = len(seen)
    assert total == 8
    expected = [2e-3 * 0.5 * (1 + math.cos(math.pi * step / total)) for step in range(total)]
    assert seen == pytest.approx(expected)
    assert [record['lr'] for record in model.history] == pytest.approx([expected[0], expected[4]])
    assert model.optimizer.lr == 2e-3


def test_constant_schedule_keeps_the_rate_and_the_lr_argument_holds_for_one_call():
    noisy_1, noisy_2, _ = noisy_pairs(32)
    model = fresh_model(lr=1e-3)
    model.train(noisy_1, noisy_2, 1, lr=5e-4, verbose=False)
    assert model.history[0]['lr'] == 5e-4 and model.optimizer.lr == 1e-3


def test_augmentation_applies_one_symmetry_to_input_and_target_and_keeps_the_shuffling():
    noisy_1, noisy_2, _ = noisy_pairs(8)
    generator = random.Random(0)
    seen = set()
    for _ in range(64):
        input, target = m._random_symmetry(noisy_1.float(), noisy_2.float(), generator)
        found = [(flip_w, flip_h, transpose) for flip_w in (0, 1) for flip_h in (0, 1) for transpose in (0, 1)
                 if torch.equal(input, _symmetry(noisy_1.float(), flip_w, flip_h, transpose))
                 and torch.equal(target, _symmetry(noisy_2.float(), flip_w, flip_h, transpose))]
        assert found, 'input and target must get the same symmetry'
        seen.add(found[0])
    assert len(seen) == 8


def _symmetry(images, flip_w, flip_h, transpose):
    if flip_w:
        images = images.flip(3)
    if flip_h:
        images = images.flip(2)
    return images.transpose(2, 3) if transpose else images


def test_augmented_training_is_reproducible_and_differs_from_plain_training():
    noisy_1, noisy_2, _ = noisy_pairs(64)
    runs = []
    for augment in (True, True, False):
        model = fresh_model(augment=augment)
        model.train(noisy_1, noisy_2, 1, batch_size=16, seed=4, verbose=False)
        runs.append(parameters(model))
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(torch.equal(a, b) for a, b in zip(runs[0], runs[2]))


@pytest.mark.parametrize('options', [
    {}, {'loss': 'l1'}, {'optimizer': 'sgd', 'lr': 0.5, 'momentum': 0.0},
    {'optimizer': 'sgd', 'lr': 0.05, 'momentum': 0.9, 'schedule': 'cosine', 'augment': True},
    {'kernel_size': 4, 'up_kernel_size': 5}])
def test_torch_twin_trains_to_the_same_weights(options):
    """Same seed, data and schedule: our blocks and torch.nn + autograd + torch.optim end up equal up to
    floating-point rounding after 16 steps. Adam turns rounding differences of near-zero gradients into
    steps of up to ``lr``, hence the tolerance; a wrong gradient or schedule moves weights by far more."""
    noisy_1, noisy_2, clean = noisy_pairs(128)
    ours = fresh_model(**options)
    twin = fresh_model(model_class=TorchTwinModel, **options)
    for (mine, _), theirs in zip(ours.network.param(), twin.network.module.parameters()):
        assert torch.equal(mine, theirs)
    for model in (ours, twin):
        model.train(noisy_1, noisy_2, 2, batch_size=16, seed=2, validation=(noisy_1[:16], clean[:16]),
                    verbose=False)
    for (mine, _), theirs in zip(ours.network.param(), twin.network.module.parameters()):
        torch.testing.assert_close(mine, theirs.detach(), atol=1e-3, rtol=0)
    assert abs(ours.history[-1]['val_psnr'] - twin.history[-1]['val_psnr']) < 0.01
    assert ours.history[-1]['loss'] == pytest.approx(twin.history[-1]['loss'], rel=1e-3)


def test_torch_twin_saves_in_our_format(tmp_path):
    twin = fresh_model(model_class=TorchTwinModel)
    path = twin.save_model(tmp_path / 'twin.pth')
    ours = fresh_model(seed=1)
    ours.load_pretrained_model(path)
    images = torch.rand(2, 3, 16, 16) * 255
    torch.testing.assert_close(ours.predict(images), twin.predict(images))


@pytest.fixture
def data_folder(tmp_path):
    noisy_1, noisy_2, clean = noisy_pairs(64)
    torch.save((noisy_1, noisy_2), tmp_path / 'train_data.pkl')
    torch.save((noisy_1[:16], clean[:16].round().to(torch.uint8)), tmp_path / 'val_data.pkl')
    return tmp_path


@pytest.mark.parametrize('extra', [[], ['--twin'],
                                   ['--loss', 'l1', '--schedule', 'cosine', '--augment', '--init', 'he',
                                    '--optimizer', 'sgd', '--momentum', '0.9', '--lr', '0.01',
                                    '--kernel-size', '4', '--up-kernel-size', '5']])
def test_training_command_writes_the_configuration_and_history(data_folder, tmp_path, extra):
    history = tmp_path / 'run.json'
    out = tmp_path / 'run.pth'
    train.main(['--data', str(data_folder), '--epochs', '2', '--width', '8', '--batch-size', '16',
                '--out', str(out), '--history', str(history), '--threads', '1'] + extra)
    result = json.loads(history.read_text())
    assert result['model'] == ('TorchTwinModel' if '--twin' in extra else 'Model')
    assert result['self_ensembled_validation'] is True
    assert result['config']['width'] == 8 and len(result['history']) == 2
    assert result['best_val_psnr'] == max(record['val_psnr'] for record in result['history'])
    if '--loss' in extra:
        assert result['config'] == {'width': 8, 'kernel_size': 4, 'up_kernel_size': 5, 'upsampling': 'transposed'}
        assert result['training'] == {'lr': 0.01, 'batch_size': 16, 'optimizer': 'sgd', 'momentum': 0.9,
                                      'loss': 'l1', 'schedule': 'cosine', 'augment': True, 'swap': False, 'init': 'he'}
    assert out.is_file()


@pytest.mark.parametrize('project', ['Miniproject_2', 'Miniproject_1'])
def test_a_resumed_run_keeps_the_better_weights_and_appends_to_the_history(data_folder, tmp_path, project):
    import importlib
    model_class = importlib.import_module(f'Proj_123456_654321.{project}.model').Model
    history, out = tmp_path / 'run.json', tmp_path / 'run.pth'
    common = ['--data', str(data_folder), '--width', '4', '--batch-size', '16', '--out', str(out),
              '--history', str(history), '--threads', '1']
    train.main(common + ['--epochs', '2', '--lr', '0.003'], model_class=model_class)
    first = json.loads(history.read_text())
    saved = out.read_bytes()
    # A rate this large wrecks the weights: no resumed epoch may replace the file.
    train.main(common + ['--epochs', '2', '--lr', '1', '--resume'], model_class=model_class)
    resumed = json.loads(history.read_text())
    assert out.read_bytes() == saved
    assert [record['epoch'] for record in resumed['history']] == [1, 2, 3, 4]
    assert resumed['history'][:2] == first['history']
    assert [run['epochs'] for run in resumed['runs']] == [2, 2]
    assert [run['training']['lr'] for run in resumed['runs']] == [0.003, 1]
    assert (resumed['best_epoch'], resumed['best_val_psnr']) == (first['best_epoch'], first['best_val_psnr'])
    assert resumed['total_seconds'] > first['total_seconds']
    # A useful rate improves on them: the better epoch replaces the file and becomes the best.
    train.main(common + ['--epochs', '2', '--lr', '0.003', '--resume'], model_class=model_class)
    again = json.loads(history.read_text())
    assert len(again['runs']) == 3 and len(again['history']) == 6
    if again['best_val_psnr'] > first['best_val_psnr']:
        assert again['best_epoch'] in (5, 6) and out.read_bytes() != saved
    else:
        assert again['best_epoch'] == first['best_epoch'] and out.read_bytes() == saved


def test_a_resumed_history_must_be_of_the_same_architecture(data_folder, tmp_path):
    history, out = tmp_path / 'run.json', tmp_path / 'run.pth'
    common = ['--data', str(data_folder), '--epochs', '1', '--batch-size', '16', '--history', str(history),
              '--threads', '1']
    train.main(common + ['--width', '4', '--out', str(out)])
    train.main(common + ['--width', '6', '--out', str(tmp_path / 'other.pth')])
    with pytest.raises(ValueError, match='another architecture'):
        train.main(common + ['--width', '4', '--out', str(out), '--resume'])


def test_training_command_records_the_unet_of_miniproject_1_too(data_folder, tmp_path):
    from Proj_123456_654321.Miniproject_1 import model as mp1
    history = tmp_path / 'unet.json'
    train.main(['--data', str(data_folder), '--epochs', '1', '--width', '4', '--shape', 'tapered', '--residual',
                '--out', str(tmp_path / 'unet.pth'), '--history', str(history)], model_class=mp1.Model)
    result = json.loads(history.read_text())
    assert result['config'] == {'width': 4, 'shape': 'tapered', 'residual': True}
    assert result['training'] == {'lr': 1e-3, 'batch_size': 32, 'augment': True,
                                  'channels_last': True, 'bfloat16': True}


def test_the_unet_command_takes_only_the_unets_options(data_folder, tmp_path, capsys):
    from Proj_123456_654321.Miniproject_1 import model as mp1
    assert train.parse_arguments(['--data', 'd', '--no-augment', '--lr', '0.5'], mp1.Model).lr == 0.5
    with pytest.raises(SystemExit):
        train.parse_arguments(['--data', 'd', '--kernel-size', '3'], mp1.Model)
    assert 'unrecognized arguments: --kernel-size' in capsys.readouterr().err


def test_average_takes_the_mean_of_the_last_snapshots_and_keeps_the_best(tmp_path, capsys):
    from Proj_123456_654321.Miniproject_2.others import average
    snapshots = tmp_path / 'snapshots'
    snapshots.mkdir()
    weights = []
    for epoch in (1, 2, 3):
        torch.manual_seed(epoch)
        model = m.Model()
        model.save_model(snapshots / f'seed0-epoch{epoch:03d}.pth')
        weights.append([parameter.clone() for parameter, _ in model.network.param()])
    averaged = average.averaged(sorted(snapshots.glob('*.pth'))[-2:], m.Model)
    for parameter, first, second in zip((p for p, _ in averaged.network.param()), weights[1], weights[2]):
        torch.testing.assert_close(parameter, (first + second) / 2)
    noisy, other, clean = noisy_pairs(8)
    (tmp_path / 'data').mkdir()
    torch.save((noisy, clean.round().to(torch.uint8)), tmp_path / 'data' / 'val_data.pkl')
    average.main(['--data', str(tmp_path / 'data'), '--snapshots', str(snapshots), '--last', '2', '3',
                  '--out', str(tmp_path / 'best.pth')])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(' epochs')[0] for line in lines[:3]] == ['last   1', 'last   2', 'last   3']
    scores = [float(line.split(': ')[1].split()[0]) for line in lines[:3]]
    assert lines[3].startswith(f'best: the last {[1, 2, 3][scores.index(max(scores))]} epochs')
    assert (tmp_path / 'best.pth').exists()
    with pytest.raises(SystemExit):
        average.main(['--data', str(tmp_path / 'data'), '--snapshots', str(snapshots), '--last', '4'])
