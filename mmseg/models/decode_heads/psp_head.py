"""PSPNet head (Zhao et al. 2017) and its pyramid pooling module, mmseg 0.x layout."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS
from mmseg.ops import resize

from .decode_head import BaseDecodeHead


class PPM(nn.ModuleList):
    """Pyramid pooling: per scale s, adaptive average pool to s×s → 1×1 ConvModule →
    bilinear resize back. Names ``{i}.1.conv/bn``.
    x: N×in_channels×H×W → list of N×channels×H×W, one per pool scale."""

    def __init__(self, pool_scales, in_channels, channels, conv_cfg, norm_cfg, act_cfg,
                 align_corners):
        super().__init__()
        self.pool_scales = pool_scales
        self.align_corners = align_corners
        for pool_scale in pool_scales:
            self.append(nn.Sequential(
                nn.AdaptiveAvgPool2d(pool_scale),
                ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                           act_cfg=act_cfg)))

    def forward(self, x):
        return [resize(ppm(x), size=x.size()[2:], mode='bilinear',
                       align_corners=self.align_corners) for ppm in self]


def pyramid_pooling_head(in_channels, channels, pool_scales, conv_cfg, norm_cfg, act_cfg,
                         align_corners):
    """(``psp_modules``, ``bottleneck``): PPM and the 3×3 ConvModule over [x, pooled...]."""
    psp_modules = PPM(pool_scales, in_channels, channels, conv_cfg, norm_cfg, act_cfg,
                      align_corners)
    bottleneck = ConvModule(in_channels + len(pool_scales) * channels, channels, 3, padding=1,
                            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
    return psp_modules, bottleneck


def pyramid_pooling_forward(x, psp_modules, bottleneck):
    """x: N×C×H×W → bottleneck(concat(x, PPM(x))): N×channels×H×W."""
    return bottleneck(torch.cat([x, *psp_modules(x)], dim=1))


@HEADS.register_module()
class PSPHead(BaseDecodeHead):
    """Pyramid pooling (``psp_modules``) + 3×3 ``bottleneck`` + ``conv_seg``.

    Args:
        pool_scales (tuple[int]): output sizes of the pooling branches.
    """

    def __init__(self, pool_scales=(1, 2, 3, 6), **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_scales, (list, tuple)):
            raise TypeError(f'PSPHead: pool_scales must be a list/tuple, got {pool_scales!r}')
        self.pool_scales = pool_scales
        self.psp_modules, self.bottleneck = pyramid_pooling_head(
            self.in_channels, self.channels, pool_scales, self.conv_cfg, self.norm_cfg,
            self.act_cfg, self.align_corners)

    def forward(self, inputs):
        """inputs: features → logits N×num_classes×H×W of the selected level."""
        x = self._transform_inputs(inputs)
        return self.cls_seg(pyramid_pooling_forward(x, self.psp_modules, self.bottleneck))
