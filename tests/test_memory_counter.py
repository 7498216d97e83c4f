"""The CPU memory counter of tools/benchmark.py --memory on regions with known bytes."""
import pytest
import torch

from mmseg.utils.memory_counter import PeakMemory, unique_tensor_bytes


def test_peak_of_known_allocations():
    """4000 + 2000 bytes alive together, then 2000 + 3000: the peak is 6000."""
    with PeakMemory('cpu') as memory:
        a = torch.empty(1000)                       # 4000 B
        b = torch.empty(250, dtype=torch.float64)   # 2000 B
        del a
        c = torch.empty(3000, dtype=torch.uint8)    # 3000 B
        del b, c
    assert memory.peak_bytes == 6000


def test_peak_of_a_toy_graph_and_its_backward():
    """relu keeps its 256x256 fp32 result for backward; backward allocates a gradient of
    the same size (which becomes x.grad): 2 x 262144 bytes plus a few scalars (sum's
    result and its gradient)."""
    x = torch.randn(256, 256, requires_grad=True)
    with PeakMemory('cpu') as memory:
        x.relu().sum().backward()
    assert 2 * 262144 <= memory.peak_bytes <= 2 * 262144 + 64
    assert x.grad is not None


def test_memory_freed_inside_counts_from_the_region_start():
    before = torch.empty(10000)
    with PeakMemory('cpu') as memory:
        del before          # allocated before the region: its free is ignored
        x = torch.empty(100)
        del x
    assert memory.peak_bytes == 400


def test_unique_bytes_count_shared_storage_once():
    w = torch.zeros(10, 10)
    assert unique_tensor_bytes([w, w[0], w.t(), None, torch.zeros(5)]) == 400 + 20


def test_random_batch_ignores_the_requested_top_rows():
    from mmseg.apis.step_memory import random_batch
    labels = random_batch(2, (8, 6), 19, 'cpu', ignored_rows=3)['gt_semantic_seg']
    assert labels.shape == (2, 1, 8, 6)
    assert (labels[:, :, :3] == 255).all() and (labels[:, :, 3:] < 19).all()
    assert (random_batch(2, (8, 6), 19, 'cpu', ignored_rows=0)['gt_semantic_seg'] < 19).all()


def load_benchmark():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / 'tools' / 'benchmark.py'
    spec = importlib.util.spec_from_file_location('tools_benchmark', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_memory_splits_the_peak_and_answers_the_fit(capsys):
    """One step per variant: the parts add up to the peak, low_memory needs less, and the
    fit answer names the switches for a GPU between the two needs."""
    from mmseg.apis.step_memory import GIB, predicted_gpu_gib
    benchmark = load_benchmark()
    args = ['--memory', '--encoder', 'mit_b0', '--size', '96', '--variants',
            'default,low_memory', '--device', 'cpu']
    results = benchmark.main(args)
    default, low = results['default'], results['low_memory']
    for r in (default, low):
        assert r['peak'] == r['weights'] + r['optimizer_state'] + r['gradients'] + \
            r['activations'] or r['activations'] == 0
        # AdamW: two moments per gradient, plus a scalar step count per parameter
        assert r['weights'] > 0
        assert 0 <= r['optimizer_state'] - 2 * r['gradients'] <= 8 * 1000
    assert low['activations'] < default['activations']
    assert low['weights'] == default['weights'] and low['gradients'] == default['gradients']
    between = (predicted_gpu_gib(default['peak']) + predicted_gpu_gib(low['peak'])) / 2
    capsys.readouterr()
    benchmark.main(args + ['--gpu-memory', f'{between:.6f}'])
    out = capsys.readouterr().out
    assert 'does not fit' in out and 'low_memory' in out.splitlines()[-1]
    assert f"{default['peak'] / GIB:.2f}" in out


def test_fit_answer_without_the_default_variant_does_not_claim_it(capsys):
    """Only low_memory measured: the answer cannot say the config as it is does not fit."""
    benchmark = load_benchmark()
    benchmark.main(['--memory', '--encoder', 'mit_b0', '--size', '64', '--variants',
                    'low_memory', '--device', 'cpu', '--gpu-memory', '100'])
    answer = capsys.readouterr().out.splitlines()[-1]
    assert answer.startswith('fits on a 100 GiB GPU with') and 'low_memory' in answer
    benchmark.main(['--memory', '--encoder', 'mit_b0', '--size', '64', '--variants',
                    'fused_backward', '--device', 'cpu', '--gpu-memory', '0.001'])
    answer = capsys.readouterr().out.splitlines()[-1]
    assert 'with the measured variants' in answer and 'measure low_memory' in answer


def test_benchmark_memory_reads_a_config_and_refuses_unknown_variants(tmp_path):
    from pathlib import Path
    benchmark = load_benchmark()
    config = Path(__file__).resolve().parents[1] / 'configs' / 'synthshift' / 'daformer.py'
    results = benchmark.main(['--memory', '--config', str(config), '--variants', 'default',
                              '--device', 'cpu'])
    assert results['default']['peak'] > 0
    with pytest.raises(SystemExit, match='unknown --variants'):
        benchmark.main(['--memory', '--variants', 'low_mem'])
