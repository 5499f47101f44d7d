"""The course-style harness: checks a submission folder the way the autograder does.

    python test.py -p Proj_123456_654321 -d data

``-p`` is the project folder (``Proj_SCIPER1_SCIPER2``), ``-d`` the folder with ``train_data.pkl`` and
``val_data.pkl``. Under pytest (``pytest test.py``) the two come from the environment variables
``PROJECT_FOLDER`` and ``DATA_FOLDER`` (defaults: ``Proj_123456_654321`` and ``data``).

Like the autograder, it puts the project folder on ``sys.path`` and imports ``Miniproject_2.model``.
"""
import argparse
import importlib
import os
import sys
import time
import unittest
from pathlib import Path

import torch
import torch.nn.functional as F

PROJECT_FOLDER = Path(os.environ.get('PROJECT_FOLDER', 'Proj_123456_654321'))
DATA_FOLDER = Path(os.environ.get('DATA_FOLDER', 'data'))
MINIPROJECTS = (1, 2)


def psnr(denoised, clean):
    """Per-image PSNR over C, H, W of images in [0, 1], averaged over images."""
    mse = ((denoised - clean) ** 2).mean((1, 2, 3))
    return (-10 * torch.log10(mse)).mean().item()


def import_model(number):
    if str(PROJECT_FOLDER.resolve()) not in sys.path:
        sys.path.insert(0, str(PROJECT_FOLDER.resolve()))
    return importlib.import_module(f'Miniproject_{number}.model')


def load_data(name):
    path = DATA_FOLDER / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: build a stand-in data set with `python -m "
            f"Proj_123456_654321.Miniproject_2.others.build_data --out {DATA_FOLDER}` or copy the course's files there")
    return torch.load(path, weights_only=True)


def load_validation():
    """The validation pairs (noisy uint8, clean in [0, 1]) and the noisy input's PSNR."""
    noisy, clean = load_data('val_data.pkl')
    clean = clean.float() / 255
    return noisy, clean, psnr(noisy.float() / 255, clean)


def pretrained_model(number):
    model = import_model(number).Model()
    model.load_pretrained_model()
    return model


class HarnessTest(unittest.TestCase):

    def test_folder_structure(self):
        self.assertTrue(PROJECT_FOLDER.is_dir(), f"{PROJECT_FOLDER} is not a folder")
        self.assertTrue((PROJECT_FOLDER / '__init__.py').is_file())
        for number in MINIPROJECTS:
            folder = PROJECT_FOLDER / f'Miniproject_{number}'
            for name in ('__init__.py', 'model.py', 'bestmodel.pth'):
                self.assertTrue((folder / name).is_file(), f"missing {folder / name}")
            self.assertTrue((folder / 'others').is_dir(), f"missing {folder / 'others'}")

    def test_model_instantiates(self):
        for number in MINIPROJECTS:
            with self.subTest(miniproject=number):
                import_model(number).Model()

    def test_predict_shapes(self):
        for number in MINIPROJECTS:
            model = pretrained_model(number)
            for shape in ((1, 3, 32, 32), (1, 3, 512, 512), (3, 3, 31, 17), (1, 3, 7, 45)):
                with self.subTest(miniproject=number, shape=shape):
                    output = model.predict(torch.randint(0, 256, shape, dtype=torch.uint8))
                    self.assertEqual(tuple(output.shape), shape)
                    self.assertTrue(output.is_floating_point())
                    self.assertGreaterEqual(output.min().item(), 0)
                    self.assertLessEqual(output.max().item(), 255)

    def test_blocks_match_torch(self):
        model = import_model(2)
        x = torch.randn(2, 3, 17, 15)
        conv, sigmoid = model.Conv2d(3, 3, 3), model.Sigmoid()
        expected = F.conv2d(x, conv.weight, conv.bias)
        torch.testing.assert_close(conv.forward(x), expected)
        torch.testing.assert_close(sigmoid.forward(x), torch.sigmoid(x))
        torch.testing.assert_close(model.Sequential(conv, sigmoid).forward(x), torch.sigmoid(expected))

    def test_pretrained_psnr(self):
        noisy, clean, baseline = load_validation()
        for number in MINIPROJECTS:
            with self.subTest(miniproject=number):
                value = psnr(pretrained_model(number).predict(noisy) / 255, clean)
                print(f"\nMiniproject_{number}: pretrained validation PSNR {value:.2f} dB "
                      f"(noisy input {baseline:.2f} dB, {len(noisy)} images)", flush=True)
                self.assertGreater(value, baseline + 3)

    def test_train_one_epoch(self):
        train_input, train_target = load_data('train_data.pkl')
        noisy, clean, baseline = load_validation()
        for number in MINIPROJECTS:
            with self.subTest(miniproject=number):
                model = pretrained_model(number)
                start = time.perf_counter()
                model.train(train_input, train_target, 1)
                seconds = time.perf_counter() - start
                value = psnr(model.predict(noisy) / 255, clean)
                print(f"\nMiniproject_{number}: one epoch on {len(train_input)} pairs took {seconds:.1f} s; "
                      f"validation PSNR after it {value:.2f} dB (noisy input {baseline:.2f} dB)", flush=True)
                self.assertGreater(value, baseline)


def main():
    global PROJECT_FOLDER, DATA_FOLDER
    parser = argparse.ArgumentParser(description='Check a submission folder as the course autograder does.')
    parser.add_argument('-p', '--project-path', required=True, type=Path, help='e.g. Proj_123456_654321')
    parser.add_argument('-d', '--data-path', required=True, type=Path, help='folder with train/val_data.pkl')
    arguments, rest = parser.parse_known_args()
    PROJECT_FOLDER, DATA_FOLDER = arguments.project_path, arguments.data_path
    unittest.main(argv=[sys.argv[0], '-v'] + rest)


if __name__ == '__main__':
    main()
