import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS
from mmseg.models.utils import MLP
from mmseg.models.utils.embed import embed_levels

from .decode_head import BaseDecodeHead


@HEADS.register_module()
class SegFormerHead(BaseDecodeHead):
    """All-MLP SegFormer decoder: per-level linear embedding to ``embed_dim``, upsample to
    stride 4, concatenate, ConvModule fusion, dropout, ``linear_pred``.

    The inherited ``conv_seg`` is unused but kept in the state dict (the released
    checkpoints contain it).
    """

    def __init__(self, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        params = self.decoder_params
        embed_dim = params['embed_dim']
        kernel_size = params['conv_kernel_size']
        self.linear_c = nn.ModuleDict({
            str(i): MLP(input_dim=c, embed_dim=embed_dim)
            for i, c in zip(self.in_index, self.in_channels)})
        self.linear_fuse = ConvModule(embed_dim * len(self.in_index), embed_dim, kernel_size,
                                      padding=0 if kernel_size == 1 else kernel_size // 2,
                                      norm_cfg=self.norm_cfg)
        self.linear_pred = nn.Conv2d(embed_dim, self.num_classes, kernel_size=1)

    def forward(self, inputs):
        """inputs: 4 maps N×C_i×H_i×W_i → logits N×num_classes×H_0×W_0."""
        embedded = embed_levels(self.linear_c, inputs, self.in_index)
        fused = self.linear_fuse(torch.cat(embedded, dim=1))
        if self.dropout is not None:
            fused = self.dropout(fused)
        return self.linear_pred(fused)
