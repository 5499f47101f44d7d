import pytest
import torch


@pytest.fixture
def autograd():
    """model.py turns autograd off globally (``torch.set_grad_enabled(False)``), as the course requires;
    torch reference computations need it back. Our blocks run the same either way."""
    with torch.enable_grad():
        yield
