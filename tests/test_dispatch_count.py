"""The operation counter of others/dispatch_count.py: it counts what ATen runs, tells views from the rest, and
counts one training step of both sides."""
import torch

from Proj_123456_654321.Miniproject_2.others import dispatch_count


def test_it_counts_each_operation_and_tells_views_apart():
    tensor = torch.zeros(4, 3)
    counter = dispatch_count.OperationCounter()
    with counter:
        tensor.add_(1)
        tensor.t().reshape(-1)  # a transpose is a view; reshaping it copies
        tensor[1].sum()
    summary = counter.summary()
    assert summary['by_operation']['add_'] == 1
    assert {'t', 'select'} <= set(summary['view_operations'])
    assert 'add_' not in summary['view_operations'] and 'sum' not in summary['view_operations']
    assert summary['total'] == sum(summary['by_operation'].values())
    assert summary['views'] + summary['not_views'] == summary['total']


def test_a_step_is_counted_for_both_sides_and_the_same_each_time():
    config = {'width': 8, 'kernel_size': 3, 'up_kernel_size': 3}
    first, second = (dispatch_count.count_configuration(config, batch_size=2) for _ in range(2))
    assert first == second
    for side in ('ours', 'torch'):
        assert 0 < first[side]['not_views'] < first[side]['total']
    assert first['torch']['by_operation']['convolution'] == 4
    assert 'mm' in first['ours']['by_operation'] and 'convolution' not in first['ours']['by_operation']


def test_the_command_writes_its_json(tmp_path, capsys):
    path = tmp_path / 'counts.json'
    dispatch_count.main(['--widths', '8', '--batch-sizes', '2', '--json', str(path)])
    assert path.exists() and 'ours' in capsys.readouterr().out
