"""What the tools that serve both mini-projects share: which model each one is, its weights as a list, and
where its results go.

Those tools take a mini-project's number (``--project 1|2``) or its ``Model`` class: ``train.py``'s ``main``,
``capacity.py``'s ``Study``, ``continued.py``, ``continuation_options.py``, ``robustness.py`` and
``baselines.py`` (``mp1``, ``mp2``), ``report.py``, and the data (``build_data.py``, ``data.py``).
Mini-project 1's own commands (``Miniproject_1/others/``: ``train``, ``capacity``, ``speed``) wrap them with
its U-Net and keep their results under Mini-project 1.
"""
import importlib
from pathlib import Path

PROJECT_FOLDER = Path(__file__).resolve().parents[2]
MODEL_MODULES = {project: f'{PROJECT_FOLDER.name}.Miniproject_{project}.model' for project in (1, 2)}


def model_module(project):
    """Mini-project ``project``'s ``model`` module (1: the torch.nn U-Net, 2: our blocks)."""
    return importlib.import_module(MODEL_MODULES[project])


def results_folder(project):
    """Where mini-project ``project``'s tools keep their results."""
    return PROJECT_FOLDER / f'Miniproject_{project}' / 'others' / 'results'


def parameters_of(model):
    """Either mini-project's ``Model``'s parameter tensors, in a fixed order."""
    if hasattr(model.network, 'param'):
        return [parameter for parameter, _ in model.network.param()]
    return list(model.network.parameters())
