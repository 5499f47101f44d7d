"""Tests of others/mix_data.py: training pairs of several sets in one."""
import pytest
import torch

from Proj_123456_654321.Miniproject_2.others import mix_data


def save_set(folder, value, count):
    folder.mkdir()
    pairs = torch.full((count, 3, 32, 32), value, dtype=torch.uint8)
    torch.save((pairs, pairs + 1), folder / 'train_data.pkl')
    torch.save((pairs, pairs + 2), folder / 'val_data.pkl')


def test_mix_takes_the_first_pairs_of_each_set_shuffled_and_copies_validation(tmp_path):
    save_set(tmp_path / 'a', 10, 30)
    save_set(tmp_path / 'b', 100, 20)
    assert mix_data.main(['--out', str(tmp_path / 'mix'), '--take', f'{tmp_path / "a"}:12',
                          '--take', f'{tmp_path / "b"}:8', '--val', str(tmp_path / 'b')]) == 0
    first, second = torch.load(tmp_path / 'mix' / 'train_data.pkl', weights_only=True)
    values = first[:, 0, 0, 0].tolist()
    assert sorted(values) == [10] * 12 + [100] * 8 and values != sorted(values)
    assert torch.equal(second, first + 1)
    assert (tmp_path / 'mix' / 'val_data.pkl').read_bytes() == (tmp_path / 'b' / 'val_data.pkl').read_bytes()
    with pytest.raises(SystemExit) as refused:
        mix_data.main(['--out', str(tmp_path / 'mix'), '--take', f'{tmp_path / "a"}:1', '--val', str(tmp_path / 'a')])
    assert refused.value.code == 1


def test_mix_refuses_to_take_more_than_a_set_holds_and_bad_counts(tmp_path, capsys):
    save_set(tmp_path / 'a', 10, 5)
    with pytest.raises(SystemExit) as refused:
        mix_data.main(['--out', str(tmp_path / 'mix'), '--take', f'{tmp_path / "a"}:6', '--val', str(tmp_path / 'a')])
    assert refused.value.code == 1 and 'fewer than the 6 taken' in capsys.readouterr().err
    for bad in ('a', f'{tmp_path / "a"}:0', f'{tmp_path / "a"}:x'):
        with pytest.raises(SystemExit) as error:
            mix_data.main(['--out', str(tmp_path / 'm'), '--take', bad, '--val', str(tmp_path / 'a')])
        assert error.value.code == 2
    assert not (tmp_path / 'mix').exists()
