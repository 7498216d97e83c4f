"""Speed and memory switches of the training step, from the config's ``optimization``
dict.

Every switch except ``mixed_precision`` keeps results within float noise of the reference
path (plain fp32 eager, what the parity fixtures check). The memory switches:

- ``activation_checkpointing.backbone_stages``: MiT stages (1-4) whose blocks are
  recomputed in the backward pass instead of keeping their activations;
- ``activation_checkpointing.decode_head``: the same for the decode head (both HRDA heads);
- ``fused_source_backward``: one backward for the source CE and the ImageNet feature
  distance, instead of a CE backward that retains the graph and a second one;
- ``no_grad_aspp_chunks``: N > 1 runs DAFormer's ASPP fusion in pieces in passes without
  autograd (the EMA teachers, evaluation during training): each branch map goes straight
  into its slice of the bottleneck conv, and the depthwise-separable branches run over N
  groups of input channels, so neither the concatenated branch maps nor the N×C_in×H×W
  depthwise maps exist (``mmseg/models/utils/chunked_aspp.py``; the same result up to the
  order of the sums). The EMA teacher's pass over HRDA's sliding windows (18 at 1024²) is where the
  largest configs peak once the student is checkpointed;
- ``low_memory=True``: all four (the recommended set, 8 chunks; explicit keys beside it
  win).

Checkpointing and the fused backward apply to the student in every pass (source, mixed,
masked; both HRDA scales); teachers and the ImageNet copy run without gradients and keep
no activations anyway.
"""
import copy

import torch

from mmseg.utils.registry import closest_names

DEFAULT_OPTIMIZATION = dict(
    fast_attention=True,    # F.scaled_dot_product_attention in MiT
    foreach_ema=True,       # EMA teacher update with torch._foreach_* kernels
    channels_last=False,    # NHWC memory format for the convolutions
    compile=False,          # torch.compile the student's backbone and head
    mixed_precision=dict(enabled=False, dtype='bfloat16'),
    activation_checkpointing=dict(backbone_stages=(), decode_head=False),
    fused_source_backward=False,
    no_grad_aspp_chunks=1,
    low_memory=False)

# What ``low_memory=True`` turns on.
LOW_MEMORY_OPTIMIZATION = dict(
    activation_checkpointing=dict(backbone_stages=(1, 2, 3, 4), decode_head=True),
    fused_source_backward=True,
    no_grad_aspp_chunks=8)
DICT_KEYS = ('mixed_precision', 'activation_checkpointing')

REFERENCE_OPTIMIZATION = dict(fast_attention=False, foreach_ema=False, channels_last=False,
                              compile=False, mixed_precision=dict(enabled=False))


def resolve_optimization(cfg=None):
    """Defaults updated by ``cfg`` (after the ``low_memory`` set when it is on); unknown
    keys raise naming the closest valid key."""
    cfg = dict(cfg or {})
    resolved = copy.deepcopy(DEFAULT_OPTIMIZATION)
    if cfg.get('low_memory'):
        _update(resolved, LOW_MEMORY_OPTIMIZATION)
    _update(resolved, cfg)
    chunks = resolved['no_grad_aspp_chunks']
    if not isinstance(chunks, int) or isinstance(chunks, bool) or chunks < 1:
        raise ValueError('optimization.no_grad_aspp_chunks must be an int >= 1 (1 = off), '
                         f'got {chunks!r}')
    return resolved


def _update(resolved, cfg, prefix='optimization.'):
    for key, value in cfg.items():
        if key not in resolved:
            hint = closest_names(key, resolved)
            raise KeyError(f"Unknown key {prefix}{key}"
                           + (f"; did you mean {hint[0]!r}?" if hint else '')
                           + f' Valid keys: {sorted(resolved)}')
        if key in DICT_KEYS and prefix == 'optimization.':
            _update(resolved[key], dict(value or {}), f'{prefix}{key}.')
        else:
            resolved[key] = copy.deepcopy(value)


def apply_optimization(model, cfg=None):
    """Configure ``model`` (a segmentor or a UDA wrapper) in place; returns the settings."""
    from mmseg.models.backbones.mix_transformer import MixVisionTransformer
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    from mmseg.models.uda.ema_teacher import EMATeacher
    from mmseg.models.uda.uda_decorator import UDADecorator
    from mmseg.models.utils.aspp import ASPPModule
    settings = resolve_optimization(cfg)
    checkpointing = settings['activation_checkpointing']
    for module in model.modules():
        if isinstance(module, MixVisionTransformer):
            module.set_fast_attention(settings['fast_attention'])
            module.set_activation_checkpointing(checkpointing['backbone_stages'])
        if isinstance(module, BaseDecodeHead):
            module.activation_checkpointing = bool(checkpointing['decode_head'])
        if isinstance(module, ASPPModule):
            module.channel_chunks = settings['no_grad_aspp_chunks']
    for teacher in _teachers(model, EMATeacher):
        teacher.foreach = settings['foreach_ema']
    if settings['channels_last']:
        model.to(memory_format=torch.channels_last)
    if isinstance(model, UDADecorator):
        model.set_mixed_precision(**settings['mixed_precision'])
        model.fused_source_backward = settings['fused_source_backward']
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
