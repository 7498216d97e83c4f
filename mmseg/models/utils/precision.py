"""Mixed precision for the UDA step: autocast for the forward passes, a GradScaler for
float16, losses and pseudo-label softmax in float32.

``enabled='auto'`` turns autocast on only where it is fast: on CUDA, and on CPUs with
native bfloat16 (AVX512-BF16 or AMX). Elsewhere bfloat16 autocast is emulated and runs
several times slower than float32 (an AVX2-only CPU: a MiT-B0 DAFormer step at 128² took
~11× longer, ``tools/benchmark.py``)."""
import contextlib
import warnings

import torch

DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}
ENABLED_CHOICES = (False, True, 'auto')


def training_device_type():
    """Where tools/train.py trains: 'cuda' when a GPU is visible, else 'cpu'."""
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def cpu_capability():
    """The vector instruction set ATen dispatches to ('AVX2', 'AVX512', ...)."""
    return torch.backends.cpu.get_cpu_capability()


def cpu_has_native_bf16():
    """True when the CPU computes bfloat16 natively (AVX512-BF16 or AMX tiles) and ATen
    uses its AVX512 kernels (``ATEN_CPU_CAPABILITY=avx2`` makes it behave like AVX2)."""
    if not cpu_capability().startswith('AVX512'):
        return False
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def compute_environment():
    """What speed and float results depend on: CPU kind, bfloat16 support, threads,
    torch version, GPU."""
    return dict(cpu_capability=cpu_capability(), cpu_native_bf16=cpu_has_native_bf16(),
                threads=torch.get_num_threads(), torch=torch.__version__,
                gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None)


def autocast_is_fast(dtype, device_type):
    return device_type == 'cuda' or (dtype == torch.bfloat16 and cpu_has_native_bf16())


def resolve_autocast(enabled, dtype_name='bfloat16', device_type=None):
    """Whether autocast runs for ``mixed_precision=dict(enabled=..., dtype=...)`` on
    ``device_type`` (default: the training device). 'auto' → only where it is fast; an
    explicit True on a CPU without native support warns about the slow-down."""
    if enabled not in ENABLED_CHOICES:
        raise ValueError(f"mixed_precision.enabled must be one of {ENABLED_CHOICES}, got "
                         f'{enabled!r}')
    if dtype_name not in DTYPES:
        raise ValueError(f"mixed_precision.dtype must be one of {sorted(DTYPES)}, "
                         f'got {dtype_name!r}')
    device_type = device_type or training_device_type()
    fast = autocast_is_fast(DTYPES[dtype_name], device_type)
    if enabled == 'auto':
        return fast
    if enabled and not fast:
        warnings.warn(
            f'mixed_precision: {dtype_name} autocast on a CPU without native {dtype_name} '
            f'(ATen capability {cpu_capability()}) is emulated and expected to be 5-11x '
            "slower than float32; set optimization.mixed_precision.enabled='auto' (or "
            'False) to train in float32 here.', stacklevel=3)
    return bool(enabled)


def precision_name(enabled, dtype_name='bfloat16', device_type=None):
    """'float32' or e.g. 'bfloat16 autocast' — what a run with these settings computes in."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        on = resolve_autocast(enabled, dtype_name, device_type)
    return f'{dtype_name} autocast' if on else 'float32'


def at_least_float32(tensor):
    """``tensor`` in float32 if it is in a lower precision (autocast outputs), else as it is
    (float32 stays, float64 is not truncated)."""
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


class MixedPrecision:
    """``enabled`` (False, True or 'auto') and ``dtype`` from
    ``optimization.mixed_precision`` in the config (see :func:`resolve_autocast`)."""

    def __init__(self, enabled=False, dtype='bfloat16'):
        self.enabled = resolve_autocast(enabled, dtype)
        self.dtype = DTYPES[dtype]
        self.scaler = None
        if self.enabled and self.dtype == torch.float16:
            self.scaler = torch.amp.GradScaler(training_device_type())

    def autocast(self, device):
        """Context for a forward pass on ``device`` (a no-op when disabled)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=self.dtype)

    def backward(self, loss, retain_graph=False):
        if self.scaler is not None:
            loss = self.scaler.scale(loss)
        loss.backward(retain_graph=retain_graph)

    def step(self, optimizer, update=True):
        """Step ``optimizer`` (float16: unscale its gradients, skip on inf/NaN); ``update``
        the loss scale afterwards — False when another optimizer steps next."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        if update:
            self.scaler.update()

    def state_dict(self):
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state):
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
