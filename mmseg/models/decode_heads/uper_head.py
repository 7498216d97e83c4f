"""UPerNet head (Xiao et al. 2018), mmseg 0.x layout."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS
from mmseg.ops import resize

from .decode_head import BaseDecodeHead
from .psp_head import pyramid_pooling_forward, pyramid_pooling_head


@HEADS.register_module()
class UPerHead(BaseDecodeHead):
    """Pyramid pooling on the last level (``psp_modules`` + ``bottleneck``), FPN top-down
    path over the others (1×1 ``lateral_convs``, 3×3 ``fpn_convs``), all levels resized to
    the first and fused by the 3×3 ``fpn_bottleneck``, then ``conv_seg``.

    Args:
        pool_scales (tuple[int]): pooling sizes of the PPM.
    """

    def __init__(self, pool_scales=(1, 2, 3, 6), **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        cfgs = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.psp_modules, self.bottleneck = pyramid_pooling_head(
            self.in_channels[-1], self.channels, pool_scales, align_corners=self.align_corners,
            **cfgs)
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for in_channels in self.in_channels[:-1]:  # the top level goes through the PPM
            self.lateral_convs.append(
                ConvModule(in_channels, self.channels, 1, inplace=False, **cfgs))
            self.fpn_convs.append(
                ConvModule(self.channels, self.channels, 3, padding=1, inplace=False, **cfgs))
        self.fpn_bottleneck = ConvModule(len(self.in_channels) * self.channels, self.channels,
                                         3, padding=1, **cfgs)

    def forward(self, inputs):
        """inputs: features → logits N×num_classes at the size of the first selected level."""
        inputs = self._transform_inputs(inputs)
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        laterals.append(pyramid_pooling_forward(inputs[-1], self.psp_modules, self.bottleneck))
        # top-down path: add each coarser level, upsampled, to the next finer one
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + resize(
                laterals[i], size=laterals[i - 1].shape[2:], mode='bilinear',
                align_corners=self.align_corners)
        outs = [conv(laterals[i]) for i, conv in enumerate(self.fpn_convs)]
        outs.append(laterals[-1])
        outs = [outs[0]] + [resize(out, size=outs[0].shape[2:], mode='bilinear',
                                   align_corners=self.align_corners) for out in outs[1:]]
        return self.cls_seg(self.fpn_bottleneck(torch.cat(outs, dim=1)))
