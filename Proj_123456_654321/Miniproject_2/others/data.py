"""Load the course's data files (or the stand-in ones) with a clear error when they are missing."""
from pathlib import Path

import torch

TRAIN_FILE = 'train_data.pkl'
VAL_FILE = 'val_data.pkl'
TRAIN_CLEAN_FILE = 'train_clean.pkl'
BUILD_HINT = ('build a stand-in data set with `python -m Proj_123456_654321.Miniproject_2.others.build_data '
              '--out {folder}`, or copy the course\'s train_data.pkl and val_data.pkl there')


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


def load_train_clean(folder):
    """The clean patches behind the training pairs, uint8 ``[N, 3, 32, 32]``, from
    ``folder/train_clean.pkl`` (written by ``build_data --with-clean``)."""
    path = Path(folder) / TRAIN_CLEAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: build the data set with `python -m "
                                f"Proj_123456_654321.Miniproject_2.others.build_data --out {folder} --with-clean`")
    return torch.load(path, weights_only=True)
