"""Progress of long work: training epochs (both mini-projects), denoise's tiles, BM3D."""
import io

import numpy as np
import pytest
import torch

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2
from Proj_123456_654321.Miniproject_2.others import denoise

from test_model import noisy_pairs


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_file_or_pipe_gets_one_plain_line_per_quarter():
    stream = io.StringIO()
    progress = mp2.Progress(100, 'work', stream=stream)
    for done in range(1, 101):
        progress.update(done)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert [line.split(',')[0] for line in lines] == [
        'work: 25/100 images (25 %)', 'work: 50/100 images (50 %)', 'work: 75/100 images (75 %)']
    assert all('images/s' in line and line.endswith('s left') for line in lines)


def test_a_terminal_gets_one_line_rewritten_in_place_then_cleared():
    stream = Terminal()
    progress = mp2.Progress(10, 'work', unit='tiles', stream=stream, interval=0)
    for done in range(1, 11):
        progress.update(done)
    progress.close()
    text = stream.getvalue()
    assert '\n' not in text
    assert text.count('\r') == 11 and 'work: 10/10 tiles (100 %)' in text and text.endswith('\r\x1b[K')


def test_a_terminal_is_redrawn_at_most_every_interval():
    stream = Terminal()
    progress = mp2.Progress(1000, 'work', stream=stream, interval=3600)
    for done in range(1, 1001):
        progress.update(done)
    assert stream.getvalue() == ''


@pytest.mark.parametrize('miniproject', [mp1, mp2], ids=['miniproject1', 'miniproject2'])
def test_training_shows_progress_inside_each_epoch(miniproject, capsys):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    torch.manual_seed(0)
    miniproject.Model(width=8).train(noisy_1, noisy_2, 2, batch_size=8, seed=0)
    lines = capsys.readouterr().out.splitlines()
    progress = [line.split(',')[0] for line in lines if 'images (' in line]
    assert progress == [f'epoch {epoch}/2: {done}/64 images ({percent} %)'
                        for epoch in (1, 2) for done, percent in ((16, 25), (32, 50), (48, 75))]
    assert [line.split()[:2] for line in lines if ' loss ' in line] == [['epoch', '1/2'], ['epoch', '2/2']]


@pytest.mark.parametrize('miniproject', [mp1, mp2], ids=['miniproject1', 'miniproject2'])
def test_training_is_silent_without_verbose(miniproject, capsys):
    noisy_1, noisy_2, _ = noisy_pairs(64)
    miniproject.Model(width=8).train(noisy_1, noisy_2, 1, batch_size=8, seed=0, verbose=False)
    assert capsys.readouterr().out == ''


def test_denoise_shows_progress_over_its_tiles(capsys):
    torch.manual_seed(0)
    model = mp2.Model(width=8)
    pixels = np.random.default_rng(0).integers(0, 256, (3, 40, 40), dtype=np.uint8)
    denoise.denoise(model, pixels, tile_size=10, margin=4, label='photo.png')
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(',')[0] for line in lines] == [
        'photo.png: 4/16 tiles (25 %)', 'photo.png: 8/16 tiles (50 %)', 'photo.png: 12/16 tiles (75 %)']
