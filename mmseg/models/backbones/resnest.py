"""ResNeSt encoders (Zhang et al. 2020): ResNet-D with split-attention 3×3 convs."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer

from mmseg.models.builder import BACKBONES

from .resnet import Bottleneck as ResNetBottleneck
from .resnet import ResNetV1d


class RSoftmax(nn.Module):
    """Softmax over the ``radix`` splits within each cardinal group (sigmoid for radix 1).

    x: N×(groups·radix·C')×1×1 → N×(radix·groups·C') (radix-major).
    """

    def __init__(self, radix, groups):
        super().__init__()
        self.radix = radix
        self.groups = groups

    def forward(self, x):
        batch = x.size(0)
        if self.radix > 1:
            x = x.view(batch, self.groups, self.radix, -1).transpose(1, 2)
            return F.softmax(x, dim=1).reshape(batch, -1)
        return torch.sigmoid(x)


class SplitAttentionConv2d(nn.Module):
    """Split-attention conv: a grouped conv produces ``radix`` splits of ``channels``; their
    sum, globally pooled, goes through fc1 → norm → ReLU → fc2 → r-softmax, giving per-split
    channel weights; the output is the weighted sum of the splits.

    Names: ``conv``, ``bn0``, ``fc1``, ``bn1``, ``fc2`` (mmseg 0.x).
    x: N×in_channels×H×W → N×channels×H/stride×W/stride.
    """

    def __init__(self, in_channels, channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, radix=2, reduction_factor=4, conv_cfg=None,
                 norm_cfg=dict(type='BN')):
        super().__init__()
        inter_channels = max(in_channels * radix // reduction_factor, 32)
        self.radix = radix
        self.groups = groups
        self.channels = channels
        self.conv = build_conv_layer(conv_cfg, in_channels, channels * radix, kernel_size,
                                     stride=stride, padding=padding, dilation=dilation,
                                     groups=groups * radix, bias=False)
        self.norm0_name, norm0 = build_norm_layer(norm_cfg, channels * radix, postfix=0)
        self.add_module(self.norm0_name, norm0)
        self.relu = nn.ReLU(inplace=True)
        self.fc1 = build_conv_layer(None, channels, inter_channels, 1, groups=groups)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, inter_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.fc2 = build_conv_layer(None, inter_channels, channels * radix, 1, groups=groups)
        self.rsoftmax = RSoftmax(radix, groups)

    @property
    def norm0(self):
        return getattr(self, self.norm0_name)

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    def forward(self, x):
        x = self.relu(self.norm0(self.conv(x)))
        batch = x.shape[0]
        if self.radix > 1:
            splits = x.view(batch, self.radix, -1, *x.shape[2:])
            gap = splits.sum(dim=1)
        else:
            gap = x
        gap = F.adaptive_avg_pool2d(gap, 1)
        gap = self.relu(self.norm1(self.fc1(gap)))
        atten = self.rsoftmax(self.fc2(gap)).view(batch, -1, 1, 1)
        if self.radix > 1:
            attens = atten.view(batch, self.radix, -1, *atten.shape[2:])
            out = torch.sum(attens * splits, dim=1)
        else:
            out = atten * x
        return out.contiguous()


class Bottleneck(ResNetBottleneck):
    """ResNeSt bottleneck: the 3×3 conv is a :class:`SplitAttentionConv2d` (no ``bn2``);
    with ``avg_down_stride`` a strided block keeps stride 1 in it and downsamples afterwards
    by a 3×3 average pool (``avd_layer``)."""

    expansion = 4

    def __init__(self, inplanes, planes, radix=2, reduction_factor=4, avg_down_stride=True,
                 **kwargs):
        self.radix = radix
        self.reduction_factor = reduction_factor
        self.avg_down_stride_enabled = avg_down_stride
        super().__init__(inplanes, planes, **kwargs)

    def _make_conv2(self, width, groups):
        self.avg_down_stride = self.avg_down_stride_enabled and self.conv2_stride > 1
        self.conv2 = SplitAttentionConv2d(
            width, width, kernel_size=3, stride=1 if self.avg_down_stride else self.conv2_stride,
            padding=self.dilation, dilation=self.dilation, groups=groups, radix=self.radix,
            reduction_factor=self.reduction_factor, conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg)
        if self.avg_down_stride:
            self.avd_layer = nn.AvgPool2d(3, self.conv2_stride, padding=1)

    def _conv2_forward(self, x):
        out = self.conv2(x)
        if self.avg_down_stride:
            out = self.avd_layer(out)
        return out


@BACKBONES.register_module()
class ResNeSt(ResNetV1d):
    """ResNeSt-50/101/200 (deep stem, average-pool shortcuts, split attention).

    Args:
        groups, base_width (int): cardinality and width per group (as ResNeXt).
        radix (int): splits per cardinal group; reduction_factor (int): of the attention
            MLP (inter channels = max(in · radix / reduction_factor, 32)).
        avg_down_stride (bool): strided blocks downsample by average pooling after the
            split-attention conv.
        **kwargs: :class:`ResNet` arguments (the experiments use ``stem_channels`` 64 for
            ResNeSt-50 and 128 for 101/200).
    """

    arch_settings = {
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
        200: (Bottleneck, (3, 24, 36, 3)),
    }
    zero_init_applies = False

    def __init__(self, groups=1, base_width=4, radix=2, reduction_factor=4,
                 avg_down_stride=True, **kwargs):
        self.groups = groups
        self.base_width = base_width
        self.radix = radix
        self.reduction_factor = reduction_factor
        self.avg_down_stride = avg_down_stride
        super().__init__(**kwargs)

    def block_args(self):
        return dict(groups=self.groups, base_width=self.base_width,
                    base_channels=self.base_channels, radix=self.radix,
                    reduction_factor=self.reduction_factor,
                    avg_down_stride=self.avg_down_stride)
