"""Tests of the capacity studies' script (Mini-project 2's others/capacity.py, which Mini-project 1's runs on
its U-Nets): resumable pieces, side-by-side epoch times, evaluation on several validation sets, the summary."""
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_1.others import capacity as mp1_capacity
from Proj_123456_654321.Miniproject_2 import model as m
from Proj_123456_654321.Miniproject_2.others import capacity, upsampling_study

from test_model import noisy_pairs

SMALL = {'shipped': {'width': 4, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest'},
         'wide': {'width': 8, 'kernel_size': 3, 'up_kernel_size': 5, 'upsampling': 'nearest'}}


def data_folders(tmp_path):
    """Two data folders with different training and validation pairs."""
    folders = []
    for seed in (0, 1):
        folder = tmp_path / f'data{seed}'
        folder.mkdir()
        noisy_1, noisy_2, clean = noisy_pairs(48, seed=seed)
        torch.save((noisy_1, noisy_2), folder / 'train_data.pkl')
        torch.save((noisy_1[:8], clean[:8].round().to(torch.uint8)), folder / 'val_data.pkl')
        folders.append(str(folder))
    return folders


@pytest.fixture
def study(tmp_path):
    """Mini-project 2's study with two small candidates and its results in a temporary folder; two data folders."""
    small = replace(capacity.STUDY, candidates=SMALL, folder=tmp_path / 'capacity')
    return small, data_folders(tmp_path)


def test_train_runs_in_pieces_each_resumed_with_a_new_seed(study):
    small, (data, _) = study
    folder = small.folder
    capacity.main(['train', 'wide', '--data', data, '--epochs', '1', '--threads', '1'], small)
    assert (folder / 'wide.pth').is_file()
    first = json.loads((folder / 'wide.json').read_text())
    assert first['seed'] == 0 and first['config'] == SMALL['wide'] and len(first['history']) == 1
    capacity.main(['train', 'wide', '--data', data, '--epochs', '2', '--threads', '1'], small)
    second = json.loads((folder / 'wide.json').read_text())
    assert second['seed'] == 1 and [run['epochs'] for run in second['runs']] == [1, 2]
    assert [record['epoch'] for record in second['history']] == [1, 2, 3]
    assert capacity.pieces(second) == f'1 on {Path(data).name} + 2 on {Path(data).name}'
    assert capacity.pieces(first) == f'1 on {Path(data).name}'
    capacity.main(['train', 'wide', '--data', data, '--epochs', '1', '--threads', '1', '--restart'], small)
    restarted = json.loads((folder / 'wide.json').read_text())
    assert 'runs' not in restarted and restarted['seed'] == 0 and len(restarted['history']) == 1
    with pytest.raises(SystemExit, match="'shipped' is not trained here"):
        capacity.main(['train', 'shipped', '--data', data], small)


def test_a_branch_continues_a_copy_of_another_candidate_and_leaves_it_as_it_was(study):
    small, (data, _) = study
    branched = replace(small, candidates={**SMALL, 'wide-2': SMALL['wide']})
    folder = small.folder
    capacity.main(['train', 'wide', '--data', data, '--epochs', '1', '--threads', '1'], branched)
    weights, record = (folder / 'wide.pth').read_bytes(), (folder / 'wide.json').read_text()
    capacity.main(['train', 'wide-2', '--from', 'wide', '--data', data, '--epochs', '1', '--threads', '1'], branched)
    assert (folder / 'wide.pth').read_bytes() == weights and (folder / 'wide.json').read_text() == record
    branch = json.loads((folder / 'wide-2.json').read_text())
    assert branch['seed'] == 1 and [run['epochs'] for run in branch['runs']] == [1, 1]
    assert branch['history'][:1] == json.loads(record)['history'], 'the branch goes on from the copied run'
    with pytest.raises(SystemExit, match='same configuration'):
        capacity.main(['train', 'wide', '--from', 'shipped', '--data', data, '--restart'], branched)
    assert (folder / 'wide.pth').read_bytes() == weights, 'a refused branch deletes nothing'


def test_time_records_each_configuration_relative_to_the_first(study, capsys):
    small, (data, _) = study
    capacity.main(['time', 'shipped', 'wide', '--data', data, '--pairs', '32', '--rounds', '2'], small)
    timing = json.loads(small.results_file.read_text())['time']
    assert set(timing) == {'shipped', 'wide'}
    assert timing['shipped']['ratio'] == 1 and timing['wide']['pairs'] == 32
    assert all(len(result['seconds']) == 2 for result in timing.values())
    assert timing['wide']['ratio'] == pytest.approx(timing['wide']['median'] / timing['shipped']['median'])
    assert 'round 2: ' in capsys.readouterr().out


def test_evaluate_scores_every_model_on_every_set_and_the_summary_compares_with_shipped(study):
    small, data = study
    folder = small.folder
    folder.mkdir()
    for name, architecture in SMALL.items():
        torch.manual_seed(len(name))
        m.Model(**architecture, device='cpu').save_model(folder / f'{name}.pth')
    capacity.main(['evaluate', '--data', data[0], '--data', data[1]], small)
    results = json.loads((folder / 'results.json').read_text())
    scores, gains = results['psnr'], results['vs_shipped']['wide']
    per_image = {}
    for name, architecture in SMALL.items():
        model = m.Model(**architecture, device='cpu')
        model.load_pretrained_model(folder / f'{name}.pth')
        for path in data:
            noisy, clean = torch.load(f'{path}/val_data.pkl')
            denoised = model.predict(noisy) / 255
            assert scores[name][path] == pytest.approx(m.psnr(denoised, clean.float() / 255), abs=1e-5)
            per_image[name, path] = [m.psnr(image[None], target[None].float() / 255)
                                     for image, target in zip(denoised, clean)]
    for path in data:
        difference = torch.tensor(per_image['wide', path], dtype=torch.float64) - torch.tensor(
            per_image['shipped', path], dtype=torch.float64)
        assert gains[path]['mean'] == pytest.approx(scores['wide'][path] - scores['shipped'][path], abs=1e-5)
        assert gains[path]['standard_error'] == pytest.approx(difference.std().item() / len(difference) ** 0.5,
                                                               rel=1e-3)
    capacity.main(['summary'], small)
    table = (folder / 'summary.md').read_text()
    row = next(line for line in table.splitlines() if line.startswith('| wide |'))
    assert all(f"{gains[path]['mean']:+.2f} ± {gains[path]['standard_error']:.2f}" in row for path in data)
    assert ('| shipped (before this study) | width=4, kernel_size=3, up_kernel_size=5, upsampling=nearest |  |  |'
            in table)


def test_evaluate_skips_a_candidate_without_weights(study, capsys):
    small, data = study
    capacity.main(['evaluate', '--data', data[0]], small)
    assert 'no weights' in capsys.readouterr().out
    assert not small.results_file.exists()


def test_the_shipped_configuration_is_a_measured_candidate():
    """Model()'s defaults are one of the upsampling study's candidates, so its results describe what ships;
    and the shipped file is of that architecture."""
    name = upsampling_study.STUDY.now_shipped()
    assert name is not None and name != 'shipped'
    defaults = m.Model.Config()
    assert all(getattr(defaults, field) == value
               for field, value in upsampling_study.STUDY.candidates[name].items())
    m.Model(device='cpu').load_pretrained_model()


def test_miniproject_1_runs_the_same_commands_on_its_u_nets(tmp_path, capsys):
    """Mini-project 1's study trains its own Model (a tapered residual U-Net here) in resumable pieces and
    compares it with its 'shipped' one; its summary names its own command."""
    small = replace(mp1_capacity.STUDY, folder=tmp_path / 'capacity', candidates={
        'shipped': {'width': 4, 'shape': 'flat', 'residual': False},
        'tapered': {'width': 4, 'shape': 'tapered', 'residual': True}})
    data = data_folders(tmp_path)
    mp1_capacity.main(['train', 'tapered', '--data', data[0], '--epochs', '1', '--threads', '1'], small)
    mp1_capacity.main(['train', 'tapered', '--data', data[0], '--epochs', '1', '--threads', '1'], small)
    history = json.loads((small.folder / 'tapered.json').read_text())
    assert history['model'] == 'Model' and history['config'] == small.candidates['tapered']
    assert [run['epochs'] for run in history['runs']] == [1, 1]
    torch.manual_seed(0)
    mp1.Model(**small.candidates['shipped']).save_model(small.folder / 'shipped.pth')
    mp1_capacity.main(['evaluate', '--data', data[0]], small)
    results = json.loads(small.results_file.read_text())
    assert set(results['psnr']) == {'shipped', 'tapered'} and data[0] in results['vs_shipped']['tapered']
    mp1_capacity.main(['summary'], small)
    table = (small.folder / 'summary.md').read_text()
    assert table.startswith('# What the U-Net shape buys (generated by `python -m '
                            'Proj_123456_654321.Miniproject_1.others.capacity summary`)')
    assert '| tapered | width=4, shape=tapered, residual=True |' in table


def test_miniproject_1_shipped_configuration_is_a_candidate_and_the_former_file_is_kept():
    name = mp1_capacity.STUDY.now_shipped()
    assert name is not None
    mp1.Model(device='cpu').load_pretrained_model()
    former = mp1_capacity.STUDY.candidates['shipped']
    mp1.Model(**former, device='cpu').load_pretrained_model(mp1_capacity.STUDY.folder / 'shipped.pth')
