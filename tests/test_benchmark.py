"""The benchmark script ``Miniproject_2/others/benchmark.py``: the agreement check, the alternating timer, a
tiny end-to-end run (what it measures is not checked here, only that it runs and reports), and its operation
counter (``dispatch-count``): it counts what ATen runs, tells views from the rest, and counts one training
step of both sides."""
import json
import statistics

import pytest
import torch

from Proj_123456_654321.Miniproject_2.model import Model
from Proj_123456_654321.Miniproject_2.others import benchmark
from Proj_123456_654321.Miniproject_2.others.twin import AgreementError, copy_weights, twin_network

# The shipped network at width 8.
CONFIG = {**Model.Config().architecture(), 'width': 8}


def networks(seed=0):
    torch.manual_seed(seed)
    ours = Model._build_network(**CONFIG)
    return ours, copy_weights(ours, twin_network(ours))


def batch(seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(4, 3, 32, 32, generator=generator), torch.rand(4, 3, 32, 32, generator=generator)


def test_check_agreement_passes_on_the_twin():
    ours, theirs = networks()
    differences = benchmark.check_agreement(ours, theirs, *batch())
    assert set(differences) >= {'output', 'loss'} and len(differences) == 2 + 8
    assert max(differences.values()) < 1e-5


def test_check_agreement_fails_when_one_twin_weight_is_perturbed():
    ours, theirs = networks()
    with torch.no_grad():
        # a first-layer weight multiplies raw, positive pixels, so the change reaches the output
        theirs[0].weight[0, 0, 1, 1] += 0.1
    with pytest.raises(AgreementError, match='disagree'):
        benchmark.check_agreement(ours, theirs, *batch())


def test_copy_weights_refuses_a_twin_of_another_shape():
    torch.manual_seed(0)
    with pytest.raises(AgreementError, match='shapes'):
        copy_weights(Model._build_network(**CONFIG), twin_network(Model._build_network(**dict(CONFIG, width=16))))


def test_time_alternating_alternates_and_returns_medians_of_repeats():
    calls = []
    times = benchmark.time_alternating(lambda: calls.append('a'), lambda: calls.append('b'), repeats=5, warmup=2)
    assert ''.join(calls) == 'ab' * 7
    assert len(times.samples_a_ms) == len(times.samples_b_ms) == 5
    assert times.median_a_ms == statistics.median(times.samples_a_ms) >= 0
    assert times.median_b_ms == statistics.median(times.samples_b_ms) >= 0


def test_main_writes_the_json_report(tmp_path, monkeypatch, capsys):
    # 1,000 images at the submitted width take seconds on a small CPU; the code path is the same
    monkeypatch.setattr(benchmark, 'PREDICT_CASES', (('predict 8x32x32', (8, 3, 32, 32)),
                                                     ('predict 1x64x64', (1, 3, 64, 64))))
    path = tmp_path / 'benchmark.json'
    benchmark.main(['--widths', '8', '--batch-sizes', '4', '--repeats', '3', '--warmup', '1', '--threads', '1',
                    '--epoch-size', '64', '--device', 'cpu', '--json', str(path)])
    results = json.loads(path.read_text())

    assert set(results) == {'environment', 'settings', 'step', 'epoch', 'predict'}
    assert results['environment']['threads'] == 1
    assert {'device', 'device_name', 'cpu_model', 'torch_version', 'model_sha256'} <= set(results['environment'])
    shipped = Model.Config()
    # The submitted network, then the grid: the same network at the widths and batch sizes given.
    assert [{name: row[name] for name in (*shipped.ARCHITECTURE, 'batch_size')} for row in results['step']] == [
        {**shipped.architecture(), 'batch_size': shipped.batch_size}, {**CONFIG, 'batch_size': 4}]
    assert [row['config'] for row in results['step']] == ['submitted w160 k3/t3 b16', 'w8 k3/t3 b4']
    for row in results['step'] + results['predict']:
        assert row['ours_ms'] > 0 and row['torch_ms'] > 0 and row['ratio'] > 0 and row['ours_images_per_second'] > 0

    epoch = results['epoch']
    assert epoch['ratio'] > 0 and epoch['images'] == 64
    for side in ('ours', 'torch'):
        assert epoch[side]['seconds'] > 0 and epoch[side]['peak_rss_kib'] >= epoch[side]['rss_before_kib'] > 0
    # same weights, same shuffling, same batches: the two loops train the same way
    assert epoch['ours']['loss'] == pytest.approx(epoch['torch']['loss'], rel=1e-4)

    printed = capsys.readouterr().out
    assert 'ours ms' in printed and 'submitted' in printed and str(path) in printed


def test_time_rounds_alternates_the_order_round_by_round():
    calls, lines = [], []
    seconds = benchmark.time_rounds(['a', 'b', 'c'], calls.append, rounds=3, report=lines.append)
    assert calls == ['a', 'b', 'c', 'c', 'b', 'a', 'a', 'b', 'c']
    assert list(seconds) == ['a', 'b', 'c'] and all(len(values) == 3 for values in seconds.values())
    assert all(value >= 0 for values in seconds.values() for value in values)
    assert [line.split(':')[0] for line in lines] == ['round 1', 'round 2', 'round 3']


def test_the_counter_counts_each_operation_and_tells_views_apart():
    tensor = torch.zeros(4, 3)
    counter = benchmark.OperationCounter()
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
    first, second = (benchmark.count_configuration(CONFIG, batch_size=2) for _ in range(2))
    assert first == second
    for side in ('ours', 'torch'):
        assert 0 < first[side]['not_views'] < first[side]['total']
    assert first['torch']['by_operation']['convolution'] == 4
    assert 'mm' in first['ours']['by_operation'] and 'convolution' not in first['ours']['by_operation']


def test_the_dispatch_count_writes_its_json(tmp_path, capsys):
    path = tmp_path / 'counts.json'
    benchmark.main(['dispatch-count', '--widths', '8', '--batch-sizes', '2', '--json', str(path)])
    rows = json.loads(path.read_text())['rows']
    assert [row['config'] for row in rows] == ['submitted w160 k3/t3 b16', 'w8 k3/t3 b2']
    assert 'ours' in capsys.readouterr().out
