"""ISANet head (Huang et al. 2019): interlaced sparse self-attention, mmseg 0.x layout."""
import torch
from mmcv.cnn import ConvModule

from mmseg.models.builder import HEADS
from mmseg.models.utils.interlaced_attention import RelationBlock, interlaced_relations

from .decode_head import BaseDecodeHead


@HEADS.register_module()
class ISAHead(BaseDecodeHead):
    """3×3 ``in_conv`` → global relation (strided groups) → local relation
    (``down_factor`` blocks) → concat with the ``in_conv`` output (residual) → 1×1
    ``out_conv`` → ``conv_seg``.

    Args:
        isa_channels (int): query/key channels of the relations.
        down_factor (tuple[int, int]): block size of the local relation.
        key_query_num_convs (int): 1×1 ConvModules of each query/key projection (mmseg
            0.x ISAHead uses 2: ``key_project.0/1``).
    """

    def __init__(self, isa_channels, down_factor=(8, 8), key_query_num_convs=2, **kwargs):
        super().__init__(**kwargs)
        self.down_factor = tuple(down_factor)
        cfgs = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.in_conv = ConvModule(self.in_channels, self.channels, 3, padding=1, **cfgs)
        self.global_relation = RelationBlock(self.channels, isa_channels, **cfgs,
                                             key_query_num_convs=key_query_num_convs)
        self.local_relation = RelationBlock(self.channels, isa_channels, **cfgs,
                                            key_query_num_convs=key_query_num_convs)
        self.out_conv = ConvModule(self.channels * 2, self.channels, 1, **cfgs)

    def forward(self, inputs):
        """inputs: features → logits N×num_classes×H×W of the selected level."""
        x = self.in_conv(self._transform_inputs(inputs))
        context = interlaced_relations(x, self.down_factor, self.global_relation,
                                       self.local_relation)
        return self.cls_seg(self.out_conv(torch.cat([context, x], dim=1)))
