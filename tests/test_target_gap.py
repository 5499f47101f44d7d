"""The footprint-mean "noise" of others/target_gap.py: the box average of each output pixel's footprint, drawn
on the pixelation's own generator, so that every patch after it is the pixelation's."""
import numpy as np
import pytest

from Proj_123456_654321.Miniproject_2.others.noises import Pixelation
from Proj_123456_654321.Miniproject_2.others.target_gap import FootprintMean


@pytest.mark.parametrize('seed', range(20))
def test_footprint_mean_is_the_box_average_and_draws_as_the_pick_does(seed):
    rng = np.random.default_rng(seed)
    factor = int(rng.integers(1, 7))
    height, width = (int(side) for side in rng.integers(1, 9, size=2))
    high_res = rng.integers(0, 256, size=(height * factor, width * factor, 3), dtype=np.uint8)
    picked = np.random.default_rng(seed + 100)
    means = FootprintMean((factor, factor)).pick(high_res, factor, picked)
    expected = np.empty((3, height, width))
    for row in range(height):
        for column in range(width):
            block = high_res[row * factor:(row + 1) * factor, column * factor:(column + 1) * factor]
            expected[:, row, column] = block.reshape(-1, 3).mean(axis=0)
    assert means.dtype == np.uint8 and means.shape == (3, height, width)
    assert np.abs(means - expected).max() <= 0.5
    reference = np.random.default_rng(seed + 100)
    Pixelation.pick(high_res, factor, reference)
    assert picked.integers(1 << 30) == reference.integers(1 << 30)
