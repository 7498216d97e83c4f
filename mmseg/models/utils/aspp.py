"""Atrous spatial pyramid pooling blocks (DAFormer's context-aware fusion)."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from mmseg.ops import resize


class ASPPModule(nn.ModuleList):
    """Parallel branches, one per dilation: dilation 1 is a 1×1 ConvModule, the others 3×3
    (depthwise-separable when ``separable``) with padding = dilation."""

    def __init__(self, dilations, in_channels, channels, conv_cfg, norm_cfg, act_cfg,
                 separable=False):
        super().__init__()
        for dilation in dilations:
            if dilation == 1:
                branch = ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg,
                                    norm_cfg=norm_cfg, act_cfg=act_cfg)
            elif separable:
                branch = DepthwiseSeparableConvModule(
                    in_channels, channels, 3, dilation=dilation, padding=dilation,
                    norm_cfg=norm_cfg, act_cfg=act_cfg)
            else:
                branch = ConvModule(in_channels, channels, 3, dilation=dilation,
                                    padding=dilation, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                    act_cfg=act_cfg)
            self.append(branch)

    def forward(self, x):
        """x: N×C×H×W → list of N×channels×H×W, one per dilation."""
        return [branch(x) for branch in self]


class ASPPWrapper(nn.Module):
    """[image pool], [context layer (a built module)], ASPP branches → concat → 3×3 ConvModule bottleneck."""

    def __init__(self, in_channels, channels, sep, dilations, pool, norm_cfg, act_cfg,
                 align_corners, context_layer=None, conv_cfg=None):
        super().__init__()
        assert isinstance(dilations, (list, tuple))
        self.align_corners = align_corners
        if pool:
            self.image_pool = nn.Sequential(
                nn.AdaptiveAvgPool2d(1),
                ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                           act_cfg=act_cfg))
        else:
            self.image_pool = None
        self.context_layer = context_layer
        self.aspp_modules = ASPPModule(dilations, in_channels, channels, conv_cfg, norm_cfg,
                                       act_cfg, separable=sep)
        num_branches = len(dilations) + int(pool) + int(context_layer is not None)
        self.bottleneck = ConvModule(num_branches * channels, channels, 3, padding=1,
                                     conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x, run_segment=None):
        """x: N×in_channels×H×W → N×channels×H×W. ``run_segment(fn, *args)`` runs each
        branch and the bottleneck (e.g. activation-checkpointed, see
        BaseDecodeHead.run_segment); default: plain calls.

        The branch maps are dropped right after the concat: without gradients (the EMA
        teacher, the first pass of a checkpointed segment) they are then not alive beside
        the bottleneck's input and output."""
        run = run_segment or call
        outs = []
        if self.image_pool is not None:
            outs.append(run(self.pooled_branch, x))
        if self.context_layer is not None:
            outs.append(run(self.context_layer, x))
        outs.extend(run(branch, x) for branch in self.aspp_modules)
        concatenated = torch.cat(outs, dim=1)
        del outs
        return run(self.bottleneck, concatenated)

    def pooled_branch(self, x):
        return resize(self.image_pool(x), size=x.size()[2:], mode='bilinear',
                      align_corners=self.align_corners)


def call(fn, *args):
    return fn(*args)
