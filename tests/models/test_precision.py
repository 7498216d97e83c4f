"""Mixed precision chosen by capability: enabled='auto' uses bfloat16 autocast only where
it is fast (CUDA, CPUs with native bfloat16); an explicit bfloat16 on a CPU without it
warns."""
import warnings

import pytest
import torch

from mmseg.models.utils import precision
from mmseg.models.utils.precision import MixedPrecision, precision_name, resolve_autocast


@pytest.fixture
def cpu_kind(monkeypatch):
    """Pretend to run on a CPU of the given ATen capability and bfloat16 support."""
    def set_kind(capability, avx512_bf16=False, amx=False):
        monkeypatch.setattr(precision, 'cpu_capability', lambda: capability)
        monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: avx512_bf16)
        monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: amx)
    return set_kind


@pytest.mark.parametrize('capability, avx512_bf16, amx, native', [
    ('AVX2', False, False, False),
    ('AVX2', True, False, False),      # ATEN_CPU_CAPABILITY=avx2 on a BF16 CPU
    ('AVX512', False, False, False),   # AVX512 without the BF16 extension
    ('AVX512', True, False, True),
    ('AVX512', False, True, True),     # AMX tiles
    ('DEFAULT', False, False, False),
])
def test_native_bf16_detection(cpu_kind, capability, avx512_bf16, amx, native):
    cpu_kind(capability, avx512_bf16, amx)
    assert precision.cpu_has_native_bf16() is native
    assert resolve_autocast('auto', 'bfloat16', 'cpu') is native


def test_auto_is_float32_on_a_cpu_without_native_bf16(cpu_kind):
    cpu_kind('AVX2')
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # 'auto' never warns
        assert resolve_autocast('auto', 'bfloat16', 'cpu') is False
        assert resolve_autocast('auto', 'float16', 'cpu') is False
    assert resolve_autocast('auto', 'bfloat16', 'cuda') is True
    assert precision_name('auto', 'bfloat16', 'cpu') == 'float32'


def test_forced_values_are_respected(cpu_kind):
    cpu_kind('AVX512', avx512_bf16=True)
    assert resolve_autocast(False, 'bfloat16', 'cpu') is False
    assert resolve_autocast(True, 'bfloat16', 'cpu') is True
    assert precision_name(True, 'bfloat16', 'cpu') == 'bfloat16 autocast'
    cpu_kind('AVX2')
    with pytest.warns(UserWarning, match=r'without native bfloat16.*AVX2.*slower'):
        assert resolve_autocast(True, 'bfloat16', 'cpu') is True


def test_mixed_precision_resolves_auto_for_the_training_device(cpu_kind, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cpu_kind('AVX2')
    assert MixedPrecision('auto').enabled is False
    cpu_kind('AVX512', amx=True)
    assert MixedPrecision('auto').enabled is True


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match='mixed_precision.enabled'):
        resolve_autocast('yes')
    with pytest.raises(ValueError, match='mixed_precision.dtype'):
        resolve_autocast(True, 'float8')
