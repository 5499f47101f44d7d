"""What one training step dispatches: the ATen operations of our blocks' step against the torch twin's.

    python -m Proj_123456_654321.Miniproject_2.others.dispatch_count [--widths 16 32 64] [--batch-sizes 16 32]
        [--json PATH]

On a GPU every ATen operation that is not a view launches one kernel or more, and every operation, views
included, costs host time; a step as small as ours is bound by those costs rather than by arithmetic. The
count needs no GPU: a ``TorchDispatchMode`` tallies every operation that reaches ATen during one training
step (forward, MSE loss, zero_grad, backward, Adam step), after one untimed step so that the optimizers'
state exists. The step is ``benchmark``'s, for the submitted configuration (``Model()``'s width, kernels and
batch size) and each ``--widths`` × ``--batch-sizes`` pair with 3×3 kernels, ours and the twin's with the same
weights and batch. An operation is a view when its schema returns an alias of an input without writing to it
(``view``, ``permute``, ``select``, ``as_strided``, ...; also ``_unsafe_view``, which relabels a tensor
without a kernel). Writes ``others/results/dispatch_count.json`` and
prints a table per row.
"""
import argparse
import collections
import json
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ..model import Model
from .benchmark import _random_batch, _torch_training_step, our_training_step, step_configurations
from .twin import copy_weights, twin_network

RESULTS_FILE = Path(__file__).resolve().parent / 'results' / 'dispatch_count.json'
SEED = 0
# Operations whose schema returns a new tensor but which only relabel the storage of one they were given,
# launching no kernel: counted with the views.
METADATA_ONLY = {'_unsafe_view'}


def is_view(operation):
    """Whether an ATen operation returns a view of an input: an alias that it does not write."""
    if operation.overloadpacket.__name__ in METADATA_ONLY:
        return True
    returns = operation._schema.returns
    return bool(returns) and all(value.alias_info is not None and not value.alias_info.is_write
                                 for value in returns)


class OperationCounter(TorchDispatchMode):
    """Counts the ATen operations dispatched inside its ``with`` block, by name (``aten.add_.Tensor`` is
    ``add_``)."""

    def __init__(self):
        super().__init__()
        self.counts = collections.Counter()
        self.views = set()

    def __torch_dispatch__(self, operation, types, args=(), kwargs=None):
        name = operation.overloadpacket.__name__
        self.counts[name] += 1
        if is_view(operation):
            self.views.add(name)
        return operation(*args, **(kwargs or {}))

    def summary(self):
        views = sum(count for name, count in self.counts.items() if name in self.views)
        total = sum(self.counts.values())
        return {'total': total, 'not_views': total - views, 'views': views,
                'by_operation': dict(self.counts.most_common()), 'view_operations': sorted(self.views)}


def count_step(step):
    """The operations of one call of ``step``, after one uncounted call."""
    step()
    counter = OperationCounter()
    with counter:
        step()
    return counter.summary()


def count_configuration(config, batch_size):
    """Ours and the twin's counts of one training step of a network ``config`` on a batch of ``batch_size``."""
    torch.manual_seed(SEED)
    ours = Model._build_network(**config)
    theirs = copy_weights(ours, twin_network(ours))
    inputs, targets = _random_batch(batch_size, 'cpu')
    return {'ours': count_step(our_training_step(ours, inputs, targets)),
            'torch': count_step(_torch_training_step(theirs, inputs, targets))}


def format_row(name, counts):
    ours, theirs = counts['ours'], counts['torch']
    return (f"{name:<26} ours {ours['not_views']:4d} not views {ours['total']:4d} in all | torch "
            f"{theirs['not_views']:4d} not views {theirs['total']:4d} in all | ratio "
            f"{ours['not_views'] / theirs['not_views']:.2f} / {ours['total'] / theirs['total']:.2f}")


def format_operations(counts, top=12):
    lines = []
    for side in ('ours', 'torch'):
        by_operation = counts[side]['by_operation']
        views = set(counts[side]['view_operations'])
        listed = ', '.join(f"{name}{' (view)' if name in views else ''} {count}"
                           for name, count in list(by_operation.items())[:top])
        lines.append(f"  {side}: {listed}")
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--widths', type=int, nargs='*', default=[16, 32, 64])
    parser.add_argument('--batch-sizes', type=int, nargs='*', default=[16, 32])
    parser.add_argument('--json', type=Path, default=RESULTS_FILE)
    arguments = parser.parse_args(argv)
    rows = []
    for name, config, batch_size in step_configurations(arguments.widths, arguments.batch_sizes):
        counts = count_configuration(config, batch_size)
        rows.append({'config': name, **config, 'batch_size': batch_size, **counts})
        print(format_row(name, counts), flush=True)
        if len(rows) == 1:
            print(format_operations(counts), flush=True)
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    arguments.json.write_text(json.dumps({'torch': torch.__version__, 'rows': rows}, indent=1) + '\n')
    print(f"wrote {arguments.json}")


if __name__ == '__main__':
    main()
