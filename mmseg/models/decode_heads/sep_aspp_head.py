"""DeepLabV3+ head (Chen et al. 2018), mmseg 0.x layout."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from mmseg.models.builder import HEADS
from mmseg.ops import resize

from .aspp_head import ASPPHead


@HEADS.register_module()
class DepthwiseSeparableASPPHead(ASPPHead):
    """ASPP with depthwise-separable dilated branches, then the DeepLabV3+ decoder: the
    ASPP output is upsampled to the low-level feature ``inputs[0]`` (reduced by the 1×1
    ``c1_bottleneck`` to ``c1_channels``), concatenated with it and refined by two 3×3
    depthwise-separable convs (``sep_bottleneck``).

    Args:
        c1_in_channels (int): channels of ``inputs[0]``; 0 disables the low-level branch.
        c1_channels (int): channels after ``c1_bottleneck``.
        **kwargs: :class:`ASPPHead` arguments (``dilations``, e.g. (1, 12, 24, 36)).
    """

    separable_aspp = True

    def __init__(self, c1_in_channels, c1_channels, **kwargs):
        super().__init__(**kwargs)
        if c1_in_channels < 0:
            raise ValueError(f'c1_in_channels must be >= 0, got {c1_in_channels}')
        if c1_in_channels > 0:
            self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1,
                                            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                            act_cfg=self.act_cfg)
        else:
            self.c1_bottleneck = None
        self.sep_bottleneck = nn.Sequential(
            DepthwiseSeparableConvModule(self.channels + c1_channels, self.channels, 3,
                                         padding=1, norm_cfg=self.norm_cfg,
                                         act_cfg=self.act_cfg),
            DepthwiseSeparableConvModule(self.channels, self.channels, 3, padding=1,
                                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg))

    def forward(self, inputs):
        """inputs: features; ``inputs[in_index]`` → ASPP, ``inputs[0]`` → low-level branch.
        Returns logits N×num_classes at the size of ``inputs[0]`` (or of the ASPP input)."""
        output = self.aspp_forward(self._transform_inputs(inputs))
        if self.c1_bottleneck is not None:
            c1_output = self.c1_bottleneck(inputs[0])
            output = resize(output, size=c1_output.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
            output = torch.cat([output, c1_output], dim=1)
        return self.cls_seg(self.sep_bottleneck(output))
