"""Interlaced sparse self-attention (ISA, Huang et al. 2019): DAFormer's ISA fusion
(:class:`ISALayer`) and the ISANet head (``ISAHead``) share the relation blocks and the
interlaced permutation (:func:`interlaced_relations`)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule


def _projection(in_channels, channels, num_convs, conv_cfg, norm_cfg, act_cfg):
    """``num_convs`` 1×1 ConvModules (a bare ConvModule when there is one)."""
    convs = [ConvModule(in_channels if i == 0 else channels, channels, 1, conv_cfg=conv_cfg,
                        norm_cfg=norm_cfg, act_cfg=act_cfg) for i in range(num_convs)]
    return convs[0] if num_convs == 1 else nn.Sequential(*convs)


class RelationBlock(nn.Module):
    """Self-attention among the pixels of each group: softmax(qᵀk·c^-0.5)·v → out conv.

    query/key: ``key_query_num_convs`` 1×1 ConvModules each (DAFormer's ISA fusion: 1,
    mmseg 0.x ISAHead: 2); value: a plain 1×1 conv with bias; output: ConvModule.
    """

    def __init__(self, in_channels, channels, conv_cfg, norm_cfg, act_cfg,
                 key_query_num_convs=1):
        super().__init__()
        self.channels = channels
        self.key_project = _projection(in_channels, channels, key_query_num_convs, conv_cfg,
                                       norm_cfg, act_cfg)
        self.query_project = _projection(in_channels, channels, key_query_num_convs, conv_cfg,
                                         norm_cfg, act_cfg)
        self.value_project = nn.Conv2d(in_channels, in_channels, 1)
        self.output_project = ConvModule(in_channels, in_channels, 1, conv_cfg=conv_cfg,
                                         norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        """x: G×C×h×w (G independent groups) → G×C×h×w."""
        G, C = x.shape[:2]
        query = self.query_project(x).flatten(2).transpose(1, 2)   # G×N×c
        key = self.key_project(x).flatten(2)                        # G×c×N
        value = self.value_project(x).flatten(2).transpose(1, 2)   # G×N×C
        sim = F.softmax(torch.matmul(query, key) * self.channels ** -.5, dim=-1)
        context = torch.matmul(sim, value).transpose(1, 2).reshape(G, C, *x.shape[2:])
        return self.output_project(context)


def interlaced_relations(x, down_factor, global_relation, local_relation):
    """Global relation over strided pixel groups, then local relation within
    ``down_factor`` blocks. The map is zero-padded to a multiple of ``down_factor``
    (split p//2 before, p − p//2 after) and cropped back. x: N×C×H×W → N×C×H×W."""
    n, c, h, w = x.shape
    loc_h, loc_w = down_factor
    glb_h, glb_w = math.ceil(h / loc_h), math.ceil(w / loc_w)
    pad_h, pad_w = glb_h * loc_h - h, glb_w * loc_w - w
    if pad_h > 0 or pad_w > 0:
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    # global relation: pixels with the same position inside their block form a group
    x = x.view(n, c, glb_h, loc_h, glb_w, loc_w).permute(0, 3, 5, 1, 2, 4)
    x = global_relation(x.reshape(-1, c, glb_h, glb_w))
    # local relation: the pixels of one block form a group
    x = x.view(n, loc_h, loc_w, c, glb_h, glb_w).permute(0, 4, 5, 3, 1, 2)
    x = local_relation(x.reshape(-1, c, loc_h, loc_w))
    x = x.view(n, glb_h, glb_w, c, loc_h, loc_w).permute(0, 3, 1, 4, 2, 5)
    x = x.reshape(n, c, glb_h * loc_h, glb_w * loc_w)
    if pad_h > 0 or pad_w > 0:
        x = x[:, :, pad_h // 2:pad_h // 2 + h, pad_w // 2:pad_w // 2 + w]
    return x


class ISALayer(nn.Module):
    """1×1 ConvModule, then global relation over strided pixel groups and local relation
    within ``down_factor`` blocks (map zero-padded to a multiple of it, cropped back)."""

    def __init__(self, in_channels, channels, isa_channels, down_factor=(8, 8),
                 key_query_num_convs=1, conv_cfg=None, norm_cfg=None, act_cfg=None):
        super().__init__()
        self.down_factor = tuple(down_factor)
        self.in_conv = ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                  act_cfg=act_cfg)
        self.global_relation = RelationBlock(channels, isa_channels, conv_cfg, norm_cfg, act_cfg,
                                             key_query_num_convs)
        self.local_relation = RelationBlock(channels, isa_channels, conv_cfg, norm_cfg, act_cfg,
                                            key_query_num_convs)

    def forward(self, x):
        """x: N×in_channels×H×W → N×channels×H×W."""
        return interlaced_relations(self.in_conv(x), self.down_factor, self.global_relation,
                                    self.local_relation)
