"""Peak tensor memory of a piece of code, on CPU as on CUDA.

- CUDA: the caching allocator's peak (``torch.cuda.max_memory_allocated``) minus what was
  allocated on entry.
- CPU: an exact count of live tensor bytes. The profiler (``profile_memory=True``) records
  every allocation and free of the CPU allocator with its address and size; the peak is
  the largest sum of the blocks allocated inside the region and not yet freed. Frees of
  memory allocated before the region are ignored, so count what is alive on entry (the
  weights, optimizer state) separately.
"""
import torch
from torch._C._profiler import _EventType
from torch.profiler import ProfilerActivity, profile


def unique_tensor_bytes(tensors):
    """Bytes of the distinct storages behind ``tensors`` (views and shared weights once)."""
    seen, total = set(), 0
    for t in tensors:
        if t is None:
            continue
        storage = t.untyped_storage()
        if storage.data_ptr() not in seen:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
    return total


def optimizer_state_tensors(optimizer):
    return [v for state in optimizer.state.values() for v in state.values()
            if torch.is_tensor(v)]


class PeakMemory:
    """``with PeakMemory(device) as m: ...`` → ``m.peak_bytes``: the largest number of
    tensor bytes allocated inside the region and alive at the same time."""

    def __init__(self, device):
        self.cuda = str(device).startswith('cuda')
        self.peak_bytes = None
        self._profiler = None
        self._start = 0

    def __enter__(self):
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self._start = torch.cuda.memory_allocated()
        else:
            self._profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
            self._profiler.__enter__()
        return self

    def __exit__(self, *exc):
        if self.cuda:
            torch.cuda.synchronize()
            self.peak_bytes = torch.cuda.max_memory_allocated() - self._start
            return False
        self._profiler.__exit__(*exc)
        if exc[0] is None:
            self.peak_bytes = cpu_peak_bytes(self._profiler)
        return False


def allocation_events(prof):
    """(time ns, address, bytes) of every CPU allocation (+) and free (−), in order."""
    events, stack = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        event = stack.pop()
        stack.extend(event.children)
        if event.tag == _EventType.Allocation and event.extra_fields.device.type == 'cpu':
            fields = event.extra_fields
            events.append((event.start_time_ns, fields.ptr, fields.alloc_size))
    return sorted(events)


def cpu_peak_bytes(prof):
    """The largest sum of bytes allocated in the profiled region and alive together. Frees
    of blocks allocated before the region (garbage of earlier code) are ignored."""
    live, current, peak = {}, 0, 0
    for _, ptr, size in allocation_events(prof):
        if size > 0:
            live[ptr] = size
            current += size
            peak = max(peak, current)
        elif ptr in live:
            current -= live.pop(ptr)
    return peak
