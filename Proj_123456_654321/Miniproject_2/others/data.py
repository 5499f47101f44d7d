"""Reading the course's data files (or the stand-in ones), with a clear error when they are missing; writing
files atomically; photos as 8-bit RGB, converted the same way by the data builder and the denoise command; and
what the tools that serve both mini-projects share: which model each one is, its weights, where its results go.

Pillow's ``convert('RGB')`` clips 16-bit values to 255 instead of scaling them, which turns a 16-bit PNG
almost all white; ``to_rgb`` scales them. 32-bit integer and float images (modes ``I`` and ``F``) have no
agreed white level, so both tools refuse them.
"""
import importlib
import os
import uuid
from pathlib import Path

import numpy as np
import torch
from PIL import Image

TRAIN_FILE = 'train_data.pkl'
VAL_FILE = 'val_data.pkl'
BUILD_HINT = ('build a stand-in data set with `python -m Proj_123456_654321.Miniproject_2.others.build_data '
              '--out {folder}`, or copy the course\'s train_data.pkl and val_data.pkl there')
UNSUPPORTED_MODES = ('I', 'F')
PROJECT_FOLDER = Path(__file__).resolve().parents[2]


def load_pair(folder, name):
    """Return the two uint8 tensors ``[N, 3, 32, 32]`` saved in ``folder/name``."""
    path = Path(folder) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: " + BUILD_HINT.format(folder=folder))
    first, second = torch.load(path, weights_only=True)
    return first, second


def load_train(folder):
    """``(noisy_imgs_1, noisy_imgs_2)`` from ``folder/train_data.pkl``."""
    return load_pair(folder, TRAIN_FILE)


def load_val(folder):
    """``(noisy_imgs, clean_imgs)`` from ``folder/val_data.pkl``."""
    return load_pair(folder, VAL_FILE)


def write_atomically(path, save):
    """``save(temporary path)`` beside ``path``, then a rename over it: an interrupted run never leaves a
    half-written file. Not tempfile.mkstemp: its files are private (mode 0600) whatever the umask."""
    path = Path(path)
    temporary = path.with_name(f'.{path.name}.{uuid.uuid4().hex}.tmp')
    try:
        save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path, text):
    """``text`` to ``path`` atomically (a results file that readers may open at any time)."""
    write_atomically(path, lambda temporary: temporary.write_text(text))


def save_tensors(tensors, path):
    """``torch.save`` to ``path`` atomically, synced to the disk before the rename."""
    def save(temporary):
        # Saving to a file object (not a path) keeps the archive's inner name fixed, so equal tensors give
        # byte-identical files.
        with open(temporary, 'xb') as file:
            torch.save(tensors, file)
            file.flush()
            os.fsync(file.fileno())
    write_atomically(path, save)


def check_depth(image, path):
    """ValueError if ``image`` (an open PIL image; only its header is read) is one ``to_rgb`` cannot convert."""
    if image.mode in UNSUPPORTED_MODES:
        raise ValueError(f"{path}: 32-bit ({image.mode}) images are not supported; save it with 8 bits")


def to_rgb(image, path):
    """``image`` (an open PIL image) as an 8-bit RGB image, 16-bit values scaled (65535 -> 255)."""
    check_depth(image, path)
    if image.mode.startswith('I;16'):
        image = Image.fromarray(np.rint(np.asarray(image) / 257).astype(np.uint8))
    return image.convert('RGB')


def model_module(project):
    """Mini-project ``project``'s ``model`` module (1: the torch.nn U-Net, 2: our blocks)."""
    return importlib.import_module(f'{PROJECT_FOLDER.name}.Miniproject_{project}.model')


def results_folder(project):
    """Where mini-project ``project``'s tools keep their results."""
    return PROJECT_FOLDER / f'Miniproject_{project}' / 'others' / 'results'


def parameters_of(model):
    """Either mini-project's ``Model``'s parameter tensors, in a fixed order."""
    if hasattr(model.network, 'param'):
        return [parameter for parameter, _ in model.network.param()]
    return list(model.network.parameters())
