"""Factory of the embedding / fusion layers named in DAFormer's ``decoder_params``."""
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

from .aspp import ASPPWrapper
from .embed import MLP
from .interlaced_attention import ISALayer


def build_layer(in_channels, out_channels, type, **kwargs):
    """Build one DAFormer decoder layer from ``embed_cfg`` / ``embed_neck_cfg`` /
    ``fusion_cfg`` (types: id, mlp, sep_conv, conv, aspp, rawconv_and_aspp, isa)."""
    if type == 'id':
        return nn.Identity()
    if type == 'mlp':
        # act_cfg / norm_cfg given in the configs are ignored for the linear embedding
        return MLP(input_dim=in_channels, embed_dim=out_channels)
    if type == 'sep_conv':
        return DepthwiseSeparableConvModule(in_channels, out_channels,
                                            padding=kwargs['kernel_size'] // 2, **kwargs)
    if type == 'conv':
        return ConvModule(in_channels, out_channels, padding=kwargs['kernel_size'] // 2,
                          **kwargs)
    if type == 'aspp':
        return ASPPWrapper(in_channels, out_channels, **kwargs)
    if type == 'rawconv_and_aspp':
        kernel_size = kwargs.pop('kernel_size')
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            ASPPWrapper(out_channels, out_channels, **kwargs))
    if type == 'isa':
        return ISALayer(in_channels, out_channels, **kwargs)
    raise ValueError(f"Unknown DAFormer decoder layer type '{type}' (expected one of id, mlp, "
                     'sep_conv, conv, aspp, rawconv_and_aspp, isa)')
