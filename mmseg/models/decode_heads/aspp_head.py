"""DeepLabV3 ASPP head (Chen et al. 2017), mmseg 0.x layout."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS
from mmseg.models.utils.aspp import ASPPModule
from mmseg.ops import resize

from .decode_head import BaseDecodeHead


@HEADS.register_module()
class ASPPHead(BaseDecodeHead):
    """Image-pool branch + one branch per dilation (1×1 for dilation 1, 3×3 dilated
    otherwise), concatenated, 3×3 ConvModule ``bottleneck`` to ``channels``, ``conv_seg``.

    Names: ``image_pool.1``, ``aspp_modules.{i}``, ``bottleneck``.
    """

    # the dilated branches are depthwise-separable in DepthwiseSeparableASPPHead
    separable_aspp = False

    def __init__(self, dilations=(1, 6, 12, 18), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dilations, (list, tuple)):
            raise TypeError(f'{type(self).__name__}: dilations must be a list/tuple, '
                            f'got {dilations!r}')
        self.dilations = dilations
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(self.in_channels, self.channels, 1, conv_cfg=self.conv_cfg,
                       norm_cfg=self.norm_cfg, act_cfg=self.act_cfg))
        self.aspp_modules = ASPPModule(dilations, self.in_channels, self.channels,
                                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                       act_cfg=self.act_cfg, separable=self.separable_aspp)
        self.bottleneck = ConvModule((len(dilations) + 1) * self.channels, self.channels, 3,
                                     padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                     act_cfg=self.act_cfg)

    def aspp_forward(self, x):
        """x: N×in_channels×H×W → N×channels×H×W (pool + ASPP branches → bottleneck)."""
        outs = [resize(self.image_pool(x), size=x.size()[2:], mode='bilinear',
                       align_corners=self.align_corners)]
        outs.extend(self.aspp_modules(x))
        return self.bottleneck(torch.cat(outs, dim=1))

    def forward(self, inputs):
        """inputs: backbone features → logits N×num_classes×H×W of the selected level."""
        return self.cls_seg(self.aspp_forward(self._transform_inputs(inputs)))
