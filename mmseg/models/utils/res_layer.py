"""One ResNet stage: a sequence of residual blocks (mmseg 0.x ``ResLayer``)."""
import torch.nn as nn
from mmcv.cnn import build_conv_layer, build_norm_layer


def make_downsample(inplanes, out_channels, stride, avg_down, conv_cfg, norm_cfg):
    """Projection shortcut: 1×1 conv (stride ``stride``) + norm; with ``avg_down`` (ResNet-D)
    an average pool takes the stride and the conv keeps stride 1.

    State-dict names: ``0`` conv, ``1`` norm — or ``0`` pool (no weights), ``1`` conv,
    ``2`` norm with ``avg_down`` (the pool is kept even for stride 1, as in mmseg 0.x).
    """
    layers = []
    conv_stride = stride
    if avg_down:
        conv_stride = 1
        layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True,
                                   count_include_pad=False))
    layers.append(build_conv_layer(conv_cfg, inplanes, out_channels, kernel_size=1,
                                   stride=conv_stride, bias=False))
    layers.append(build_norm_layer(norm_cfg, out_channels)[1])
    return nn.Sequential(*layers)


def block_dilations(num_blocks, dilation, multi_grid=None, contract_dilation=False):
    """Dilation of each block of a stage: ``multi_grid`` when given; otherwise ``dilation``
    for all, the first one halved when ``contract_dilation`` (and dilation > 1)."""
    if multi_grid is not None:
        if len(multi_grid) != num_blocks:
            raise ValueError(f'multi_grid {multi_grid} needs one dilation per block '
                             f'({num_blocks} blocks)')
        return list(multi_grid)
    first = dilation // 2 if dilation > 1 and contract_dilation else dilation
    return [first] + [dilation] * (num_blocks - 1)


class ResLayer(nn.Sequential):
    """``num_blocks`` blocks; the first one strides and projects the shortcut when needed.

    Args:
        block (type): ``BasicBlock`` or a ``Bottleneck`` class (has ``expansion``).
        inplanes (int): input channels; planes (int): block width (output = planes ×
            expansion).
        stride, dilation (int): of the stage (stride on its first block).
        avg_down (bool): ResNet-D shortcut (average pool, then 1×1 conv).
        multi_grid (Sequence[int] | None): per-block dilations (last stage of DeepLabV3).
        contract_dilation (bool): halve the first block's dilation.
        **kwargs: forwarded to every block (style, with_cp, groups, radix, …).
    """

    def __init__(self, block, inplanes, planes, num_blocks, stride=1, dilation=1, avg_down=False,
                 conv_cfg=None, norm_cfg=dict(type='BN'), multi_grid=None,
                 contract_dilation=False, **kwargs):
        self.block = block
        out_channels = planes * block.expansion
        downsample = None
        if stride != 1 or inplanes != out_channels:
            downsample = make_downsample(inplanes, out_channels, stride, avg_down, conv_cfg,
                                         norm_cfg)
        dilations = block_dilations(num_blocks, dilation, multi_grid, contract_dilation)
        layers = [block(inplanes=inplanes, planes=planes, stride=stride, dilation=dilations[0],
                        downsample=downsample, conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs)]
        for i in range(1, num_blocks):
            layers.append(block(inplanes=out_channels, planes=planes, stride=1,
                                dilation=dilations[i], conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                **kwargs))
        super().__init__(*layers)
