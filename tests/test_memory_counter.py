"""The CPU memory counter of tools/benchmark.py --memory on regions with known bytes."""
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
