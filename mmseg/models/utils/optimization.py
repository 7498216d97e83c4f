"""Speed switches of the training step, from the config's ``optimization`` dict.

Every switch except ``mixed_precision`` keeps results within float noise of the reference
path (plain fp32 eager, what the parity fixtures check).
"""
import copy

import torch

from mmseg.utils.registry import closest_names

DEFAULT_OPTIMIZATION = dict(
    fast_attention=True,    # F.scaled_dot_product_attention in MiT
    foreach_ema=True,       # EMA teacher update with torch._foreach_* kernels
    channels_last=False,    # NHWC memory format for the convolutions
    compile=False,          # torch.compile the student's backbone and head
    mixed_precision=dict(enabled=False, dtype='bfloat16'))

REFERENCE_OPTIMIZATION = dict(fast_attention=False, foreach_ema=False, channels_last=False,
                              compile=False, mixed_precision=dict(enabled=False))


def resolve_optimization(cfg=None):
    """Defaults updated by ``cfg``; unknown keys raise naming the closest valid key."""
    resolved = copy.deepcopy(DEFAULT_OPTIMIZATION)
    for key, value in (cfg or {}).items():
        if key not in resolved:
            hint = closest_names(key, resolved)
            raise KeyError(f"Unknown key optimization.{key}"
                           + (f"; did you mean {hint[0]!r}?" if hint else '')
                           + f' Valid keys: {sorted(resolved)}')
        if key == 'mixed_precision':
            resolved[key].update(value or {})
        else:
            resolved[key] = value
    return resolved


def apply_optimization(model, cfg=None):
    """Configure ``model`` (a segmentor or a UDA wrapper) in place; returns the settings."""
    from mmseg.models.backbones.mix_transformer import MixVisionTransformer
    from mmseg.models.uda.ema_teacher import EMATeacher
    from mmseg.models.uda.uda_decorator import UDADecorator
    settings = resolve_optimization(cfg)
    for module in model.modules():
        if isinstance(module, MixVisionTransformer):
            module.set_fast_attention(settings['fast_attention'])
    for teacher in _teachers(model, EMATeacher):
        teacher.foreach = settings['foreach_ema']
    if settings['channels_last']:
        model.to(memory_format=torch.channels_last)
    if isinstance(model, UDADecorator):
        model.set_mixed_precision(**settings['mixed_precision'])
    if settings['compile']:
        student = model.get_model() if isinstance(model, UDADecorator) else model
        student.backbone.compile()
        student.decode_head.compile()
    return settings


def _teachers(model, teacher_cls):
    found = [m for m in model.modules() if isinstance(m, teacher_cls)]
    extra = getattr(model, 'teacher', None)
    if isinstance(extra, teacher_cls) and extra not in found:
        found.append(extra)
    return found
