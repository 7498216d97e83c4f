"""ProDA's "modified ASPP" DeepLabV2 classifier (the network of ProDA and CPSL,
SPEC-more-uda.md §2.4): the ASPP branches produce 256-d features that are fused into the
pre-classifier feature the prototypes cluster, then a 1×1 classifier."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS

from .decode_head import BaseDecodeHead


class SqueezeExcitation(nn.Module):
    """Channel attention: x·σ(W₂·ReLU(W₁·avgpool(x))), reduction ``ratio``."""

    def __init__(self, channels, ratio=16):
        super().__init__()
        self.fc = nn.Sequential(nn.AdaptiveAvgPool2d(1),
                                nn.Conv2d(channels, channels // ratio, 1), nn.ReLU(inplace=True),
                                nn.Conv2d(channels // ratio, channels, 1), nn.Sigmoid())

    def forward(self, x):
        return x * self.fc(x)


@HEADS.register_module()
class DLV2ProjHead(BaseDecodeHead):
    """A 1×1 branch and one 3×3 branch per dilation (``channels`` each, GroupNorm 32, ReLU),
    concatenated, squeeze-and-excitation, a 3×3 projection to ``channels`` (GN, ReLU):
    :meth:`forward_feat`; dropout (0.1) and ``conv_seg`` give the logits.

    inputs: the selected backbone map N×in_channels×H×W → N×num_classes×H×W.
    """

    def __init__(self, dilations=(6, 12, 18, 24), norm_cfg=None, **kwargs):
        norm_cfg = norm_cfg or dict(type='GN', num_groups=32, requires_grad=True)
        super().__init__(norm_cfg=norm_cfg, **kwargs)
        self.dilations = tuple(dilations)
        branch = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.branches = nn.ModuleList(
            [ConvModule(self.in_channels, self.channels, 1, **branch)]
            + [ConvModule(self.in_channels, self.channels, 3, padding=d, dilation=d, **branch)
               for d in self.dilations])
        fused = self.channels * (len(self.dilations) + 1)
        self.attention = SqueezeExcitation(fused)
        self.projection = ConvModule(fused, self.channels, 3, padding=1, **branch)

    def forward_feat(self, inputs):
        """The pre-classifier feature N×channels×H×W."""
        x = self._transform_inputs(inputs)
        fused = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.projection(self.attention(fused))

    def forward(self, inputs):
        return self.cls_seg(self.forward_feat(inputs))
