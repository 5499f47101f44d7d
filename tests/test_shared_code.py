"""The helpers both mini-projects carry stay the same text.

Under the grader's ``sys.path`` (the project folder itself) Mini-project 1's model cannot import Mini-project 2's,
and Mini-project 2's may import no project code at all, so each ``model.py`` has its own copy of these."""
import inspect

import pytest

from Proj_123456_654321.Miniproject_1 import model as mp1
from Proj_123456_654321.Miniproject_2 import model as mp2

SHARED = ('psnr', '_check_images', '_positive_int', '_finite_number', '_positive_number', 'Progress',
          'BestModelError', '_is_small_int', '_check_pickle_keys', 'Continuation',
          '_check_training_arguments', '_split_heldout', '_epoch_line', '_next_pairs', '_keep_best', '_symmetric_mean',
          'Model._heldout_loss',
          'Model._padded_size', 'Model._to_unit', 'Model.default_path')


def source(module, dotted_name):
    value = module
    for name in dotted_name.split('.'):
        value = getattr(value, name)
    return inspect.getsource(value)


@pytest.mark.parametrize('name', SHARED)
def test_both_mini_projects_carry_the_same(name):
    assert source(mp1, name) == source(mp2, name)
