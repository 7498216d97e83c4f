"""Mix Transformer (MiT) encoder of SegFormer, as used by DAFormer / HRDA / MIC.

State-dict names follow the original release (``patch_embed1..4``, ``block1..4``,
``norm1..4``) so ImageNet weights (``pretrained/mit_b5.pth``) and the authors' DAFormer
checkpoints load key for key.
"""
import math
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.runner import BaseModule
from timm.layers import DropPath, trunc_normal_

from mmseg.models.builder import BACKBONES
from mmseg.models.utils.activation_checkpoint import checkpointed
from mmseg.utils import get_root_logger
from mmseg.utils.checkpoint import extract_state_dict, load_state_dict_checked, load_weights_file

PRETRAINED_HOW_TO = (
    'ImageNet-1k MiT weights (mit_b0.pth … mit_b5.pth) come from the SegFormer release; '
    'download them (see tools/download_checkpoints.sh) into pretrained/, or set '
    '`model.pretrained=None` (and `model.backbone.pretrained=None`) to train from scratch.')


class MixFFN(nn.Module):
    """fc1 → 3×3 depthwise conv on the token map → exact GELU → fc2 (Mix-FFN)."""

    def __init__(self, in_features, hidden_features, drop=0.):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.dwconv = DWConv(hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x, H, W):
        """x: B×N×C tokens (N = H·W) → B×N×C."""
        x = self.act(self.dwconv(self.fc1(x), H, W))
        x = self.drop(x)
        x = self.fc2(x)
        return self.drop(x)


class DWConv(nn.Module):
    """3×3 depthwise convolution applied to a token sequence viewed as an H×W map."""

    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x, H, W):
        B, N, C = x.shape
        x = x.transpose(1, 2).reshape(B, C, H, W)
        return self.dwconv(x).flatten(2).transpose(1, 2)


class EfficientSelfAttention(nn.Module):
    """Multi-head self-attention whose keys/values come from a map reduced by ``sr_ratio``.

    ``fast=True`` uses ``F.scaled_dot_product_attention`` (same maths, fused kernel);
    ``fast=False`` is the explicit reference computation.
    """

    def __init__(self, dim, num_heads=8, qkv_bias=False, qk_scale=None, attn_drop=0.,
                 proj_drop=0., sr_ratio=1, fast=True):
        super().__init__()
        assert dim % num_heads == 0, f'dim {dim} should be divided by num_heads {num_heads}.'
        self.dim = dim
        self.num_heads = num_heads
        self.scale = qk_scale or (dim // num_heads) ** -0.5
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, dim * 2, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr_ratio = sr_ratio
        self.fast = fast
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, kernel_size=sr_ratio, stride=sr_ratio)
            self.norm = nn.LayerNorm(dim)  # eps 1e-5, unlike the block norms

    def forward(self, x, H, W):
        """x: B×N×C (N = H·W) → B×N×C."""
        B, N, C = x.shape
        head_dim = C // self.num_heads
        q = self.q(x).reshape(B, N, self.num_heads, head_dim).transpose(1, 2)
        if self.sr_ratio > 1:
            x_map = x.transpose(1, 2).reshape(B, C, H, W)
            x = self.norm(self.sr(x_map).flatten(2).transpose(1, 2))
        kv = self.kv(x).reshape(B, -1, 2, self.num_heads, head_dim).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        if self.fast:
            drop = self.attn_drop.p if self.training else 0.
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)
        else:
            attn = (q @ k.transpose(-2, -1)) * self.scale
            attn = self.attn_drop(attn.softmax(dim=-1))
            out = attn @ v
        out = out.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(out))


class Block(nn.Module):
    """Pre-norm transformer block: x + DropPath(Attn(LN(x))), x + DropPath(MixFFN(LN(x)))."""

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=False, qk_scale=None, drop=0.,
                 attn_drop=0., drop_path=0., norm_layer=nn.LayerNorm, sr_ratio=1,
                 fast_attn=True):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = EfficientSelfAttention(dim, num_heads, qkv_bias, qk_scale, attn_drop, drop,
                                           sr_ratio, fast=fast_attn)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = MixFFN(dim, int(dim * mlp_ratio), drop)

    def forward(self, x, H, W):
        x = x + self.drop_path(self.attn(self.norm1(x), H, W))
        return x + self.drop_path(self.mlp(self.norm2(x), H, W))


class OverlapPatchEmbed(nn.Module):
    """Overlapping patch embedding: strided conv (with bias) then LayerNorm (eps 1e-5)."""

    def __init__(self, patch_size=7, stride=4, in_chans=3, embed_dim=768):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=stride,
                              padding=patch_size // 2)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x):
        """x: B×C×H×W → (tokens B×N×D, H', W')."""
        x = self.proj(x)
        _, _, H, W = x.shape
        return self.norm(x.flatten(2).transpose(1, 2)), H, W


class MixVisionTransformer(BaseModule):
    """Hierarchical MiT encoder; ``forward`` returns 4 maps at strides 4, 8, 16, 32."""

    def __init__(self, img_size=224, patch_size=16, in_chans=3, embed_dims=(64, 128, 256, 512),
                 num_heads=(1, 2, 4, 8), mlp_ratios=(4, 4, 4, 4), qkv_bias=False, qk_scale=None,
                 drop_rate=0., attn_drop_rate=0., drop_path_rate=0., norm_layer=nn.LayerNorm,
                 depths=(3, 4, 6, 3), sr_ratios=(8, 4, 2, 1), style=None, pretrained=None,
                 init_cfg=None, freeze_patch_embed=False, fast_attn=True):
        super().__init__(init_cfg)
        if style is not None and style != 'pytorch':
            raise ValueError(f"MiT backbone: style={style!r} is not supported, use 'pytorch'")
        self.pretrained = pretrained
        self.checkpoint_stages = ()  # optimization.activation_checkpointing.backbone_stages
        self.depths = depths
        self.embed_dims = embed_dims
        self.patch_embed1 = OverlapPatchEmbed(7, 4, in_chans, embed_dims[0])
        self.patch_embed2 = OverlapPatchEmbed(3, 2, embed_dims[0], embed_dims[1])
        self.patch_embed3 = OverlapPatchEmbed(3, 2, embed_dims[1], embed_dims[2])
        self.patch_embed4 = OverlapPatchEmbed(3, 2, embed_dims[2], embed_dims[3])
        if freeze_patch_embed:
            for i in range(1, 5):
                getattr(self, f'patch_embed{i}').requires_grad_(False)

        drop_path_rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        first = 0
        for stage in range(4):
            blocks = nn.ModuleList([
                Block(embed_dims[stage], num_heads[stage], mlp_ratios[stage], qkv_bias, qk_scale,
                      drop_rate, attn_drop_rate, drop_path_rates[first + j], norm_layer,
                      sr_ratios[stage], fast_attn=fast_attn)
                for j in range(depths[stage])])
            setattr(self, f'block{stage + 1}', blocks)
            setattr(self, f'norm{stage + 1}', norm_layer(embed_dims[stage]))
            first += depths[stage]
        self.apply(self._init_module)

    @staticmethod
    def _init_module(m):
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight, std=.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)
        elif isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            m.weight.data.normal_(0, math.sqrt(2.0 / fan_out))
            if m.bias is not None:
                m.bias.data.zero_()

    def init_weights(self):
        """Load ImageNet weights from ``self.pretrained`` (SegFormer release format)."""
        if not isinstance(self.pretrained, str):
            return
        checkpoint = load_weights_file(self.pretrained, 'Pretrained MiT weights',
                                       PRETRAINED_HOW_TO)
        state_dict = extract_state_dict(checkpoint)
        state_dict = {k[len('backbone.'):] if k.startswith('backbone.') else k: v
                      for k, v in state_dict.items()}
        # The release files also hold the ImageNet classifier ('head.*'): loaded non-strictly.
        load_state_dict_checked(self, state_dict, f'pretrained weights {self.pretrained!r}',
                                strict=False, logger=get_root_logger())

    def set_activation_checkpointing(self, stages):
        """Recompute the blocks of ``stages`` (1-4) in the backward pass instead of keeping
        their activations."""
        invalid = [s for s in stages if s not in (1, 2, 3, 4)]
        if invalid:
            raise ValueError(f'activation checkpointing: MiT stages are 1-4, got {invalid}')
        self.checkpoint_stages = tuple(stages)

    def set_fast_attention(self, enabled):
        for m in self.modules():
            if isinstance(m, EfficientSelfAttention):
                m.fast = enabled

    def forward(self, x):
        """x: B×3×H×W → [B×C_i×H/s×W/s for s in (4, 8, 16, 32)]."""
        B = x.shape[0]
        outs = []
        for stage in range(1, 5):
            x, H, W = getattr(self, f'patch_embed{stage}')(x)
            for blk in getattr(self, f'block{stage}'):
                x = checkpointed(blk, blk, x, H, W) if stage in self.checkpoint_stages \
                    else blk(x, H, W)
            x = getattr(self, f'norm{stage}')(x)
            x = x.reshape(B, H, W, -1).permute(0, 3, 1, 2).contiguous()
            outs.append(x)
        return outs


_MIT_COMMON = dict(patch_size=4, num_heads=(1, 2, 5, 8), mlp_ratios=(4, 4, 4, 4), qkv_bias=True,
                   norm_layer=partial(nn.LayerNorm, eps=1e-6), sr_ratios=(8, 4, 2, 1),
                   drop_rate=0.0, drop_path_rate=0.1)


def _mit_variant(name, embed_dims, depths):
    """Register ``name`` as MixVisionTransformer with the paper's numbers as defaults."""

    def __init__(self, **kwargs):
        MixVisionTransformer.__init__(
            self, **{**_MIT_COMMON, 'embed_dims': embed_dims, 'depths': depths, **kwargs})

    doc = f'MiT-{name[-2:].upper()}: dims {embed_dims}, depths {depths}.'
    cls = type(name, (MixVisionTransformer,), {'__init__': __init__, '__doc__': doc})
    return BACKBONES.register_module(module=cls)


mit_b0 = _mit_variant('mit_b0', (32, 64, 160, 256), (2, 2, 2, 2))
mit_b1 = _mit_variant('mit_b1', (64, 128, 320, 512), (2, 2, 2, 2))
mit_b2 = _mit_variant('mit_b2', (64, 128, 320, 512), (3, 4, 6, 3))
mit_b3 = _mit_variant('mit_b3', (64, 128, 320, 512), (3, 4, 18, 3))
mit_b4 = _mit_variant('mit_b4', (64, 128, 320, 512), (3, 8, 27, 3))
mit_b5 = _mit_variant('mit_b5', (64, 128, 320, 512), (3, 6, 40, 3))
