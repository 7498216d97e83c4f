"""Atrous spatial pyramid pooling blocks (DAFormer's context-aware fusion)."""
import functools

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from mmseg.ops import resize

from .chunked_aspp import (accumulate, channel_chunked_separable_conv, conv_over_input_slice,
                           finish_conv_module, is_channel_chunkable, is_plain_conv_module)


class ASPPModule(nn.ModuleList):
    """Parallel branches, one per dilation: dilation 1 is a 1×1 ConvModule, the others 3×3
    (depthwise-separable when ``separable``) with padding = dilation.

    ``channel_chunks`` > 1 (``optimization.no_grad_aspp_chunks``) runs the separable
    branches over that many channel groups when autograd is off
    (:func:`channel_chunked_separable_conv`)."""

    channel_chunks = 1

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
        return [self.run_branch(branch, x) for branch in self]

    def run_branch(self, branch, x):
        if self.chunks_without_grad() and is_channel_chunkable(branch):
            return channel_chunked_separable_conv(branch, x, self.channel_chunks)
        return branch(x)

    def chunks_without_grad(self):
        return self.channel_chunks > 1 and not torch.is_grad_enabled()


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

        The branch maps are dropped right after the concat: in a checkpointed segment's
        first pass they are then not alive beside the bottleneck's input and output.
        Without autograd and with ``aspp_modules.channel_chunks`` > 1, :meth:`summed_forward`
        instead."""
        if self.aspp_modules.chunks_without_grad() and is_plain_conv_module(self.bottleneck):
            return self.summed_forward(x)
        run = run_segment or call
        outs = [run(branch, x) for branch in self.branches()]
        concatenated = torch.cat(outs, dim=1)
        del outs
        return run(self.bottleneck, concatenated)

    def summed_forward(self, x):
        """``forward`` without autograd: each branch map goes straight into its slice of
        the bottleneck conv (summed over the branches), so no concatenation and at most
        one branch map exist; separable branches also run in channel groups."""
        total, start = None, 0
        for branch in self.branches():
            out = branch(x)
            total = accumulate(total, conv_over_input_slice(self.bottleneck.conv, out, start))
            start += out.shape[1]
            del out
        return finish_conv_module(self.bottleneck, total)

    def branches(self):
        """The branch functions x → N×channels×H×W in concatenation order."""
        branches = [self.pooled_branch] if self.image_pool is not None else []
        if self.context_layer is not None:
            branches.append(self.context_layer)
        branches.extend(functools.partial(self.aspp_modules.run_branch, branch)
                        for branch in self.aspp_modules)
        return branches

    def pooled_branch(self, x):
        return resize(self.image_pool(x), size=x.size()[2:], mode='bilinear',
                      align_corners=self.align_corners)


def call(fn, *args):
    return fn(*args)
