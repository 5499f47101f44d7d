"""others/revision_check.py: the bit comparison finds a changed block, and passes an unchanged one."""
import itertools

import torch

from Proj_123456_654321.Miniproject_2.others import revision_check


def some_cases():
    cases = list(revision_check.block_cases())
    kinds = {}
    for case in cases:
        kinds.setdefault(case[0].split()[0], []).append(case)
    # a few of each kind, both layouts and dtypes among them
    return list(itertools.chain.from_iterable(found[::max(1, len(found) // 6)] for found in kinds.values()))


def test_the_grid_covers_every_convolution_and_the_network():
    kinds = {case[0].split()[0] for case in revision_check.block_cases()}
    assert kinds == {'Conv2d', 'TransposeConv2d', 'Upsampling', 'the'}


def test_a_revision_is_equal_to_itself(tmp_path):
    # Two loads of the same file: the working tree may differ from HEAD while a change is under way.
    now = revision_check.load_module('model_now', revision_check.MODEL_FILE)
    again = revision_check.load_module('model_again', revision_check.MODEL_FILE)
    for seed, (_, build, shape, channels_last, dtype) in enumerate(some_cases()):
        assert revision_check.differences(now, again, build, shape, channels_last, dtype, seed) == []


def test_a_git_revision_loads_as_a_module_of_its_own(tmp_path):
    then = revision_check.module_at('HEAD', tmp_path)
    assert then.__name__ == 'model_then' and then.Conv2d is not revision_check.load_module(
        'model_now', revision_check.MODEL_FILE).Conv2d


def test_a_change_of_one_ulp_is_found(tmp_path):
    now = revision_check.load_module('model_now', revision_check.MODEL_FILE)
    changed = revision_check.load_module('model_changed', revision_check.MODEL_FILE)
    forward = changed.Conv2d.forward
    changed.Conv2d.forward = lambda self, input: torch.nextafter(forward(self, input), torch.tensor(float('inf')))
    cases = [case for case in some_cases() if case[0].startswith('Conv2d')]
    for seed, (_, build, shape, channels_last, dtype) in enumerate(cases):
        assert revision_check.differences(now, changed, build, shape, channels_last, dtype, seed) == ['forward']


def test_training_is_compared_to_the_bit(tmp_path):
    now = revision_check.load_module('model_now', revision_check.MODEL_FILE)
    again = revision_check.load_module('model_again', revision_check.MODEL_FILE)
    assert revision_check.compare_training(now, again, report=lambda line: None) == []
    changed = revision_check.load_module('model_changed', revision_check.MODEL_FILE)
    rate = changed.Model._scheduled_lr
    changed.Model._scheduled_lr = lambda self, *args: rate(self, *args) * (1 + 2 ** -20)
    assert 'weights from scratch' in revision_check.compare_training(now, changed, report=lambda line: None)
