"""Mini-project 1's others/distill_data.py: the U-Net's denoising of the second noisy copy as the target."""
import pytest
import torch

from Proj_123456_654321.Miniproject_1.model import Model
from Proj_123456_654321.Miniproject_1.others import distill_data
from Proj_123456_654321.Miniproject_2.others.build_data import save_atomically
from Proj_123456_654321.Miniproject_2.others.data import load_train, load_val


@pytest.fixture
def data(tmp_path):
    generator = torch.Generator().manual_seed(0)
    folder = tmp_path / 'data'
    folder.mkdir()
    pairs = [torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=generator) for _ in range(4)]
    save_atomically(tuple(pairs[:2]), folder / 'train_data.pkl')
    save_atomically(tuple(pairs[2:]), folder / 'val_data.pkl')
    return folder


@pytest.mark.parametrize('self_ensemble', [False, True])
def test_the_targets_are_the_teachers_prediction_from_the_second_copy(tmp_path, data, self_ensemble, monkeypatch):
    monkeypatch.setattr(distill_data, 'CHUNK', 8)
    torch.manual_seed(1)
    teacher = Model(self_ensemble=self_ensemble)
    weights = teacher.save_model(tmp_path / 'teacher.pth')
    out = tmp_path / 'distilled'
    distill_data.main(['--data', str(data), '--out', str(out), '--weights', str(weights)]
                      + ['--self-ensemble'] * self_ensemble)
    noisy_1, noisy_2 = load_train(data)
    inputs, targets = load_train(out)
    assert torch.equal(inputs, noisy_1) and targets.dtype == torch.uint8
    assert torch.equal(targets, teacher.predict(noisy_2).round().to(torch.uint8))
    assert all(torch.equal(copied, original) for copied, original in zip(load_val(out), load_val(data)))


def test_existing_files_are_kept(tmp_path, data):
    weights = Model().save_model(tmp_path / 'teacher.pth')
    with pytest.raises(FileExistsError):
        distill_data.main(['--data', str(data), '--out', str(data), '--weights', str(weights)])
