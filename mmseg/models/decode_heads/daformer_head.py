import copy

import torch

from mmseg.models.builder import HEADS
from mmseg.models.utils import ASPPWrapper, build_layer
from mmseg.models.utils.aspp import call
from mmseg.models.utils.embed import embed_levels

from .decode_head import BaseDecodeHead


@HEADS.register_module()
class DAFormerHead(BaseDecodeHead):
    """DAFormer decoder: embed each level to ``embed_dims``, upsample to stride 4,
    concatenate (level order), fuse (``fusion_cfg``), dropout, 1×1 ``conv_seg``.

    ``decoder_params``: ``embed_dims`` (int or per level), ``embed_cfg`` (levels but the last),
    ``embed_neck_cfg`` (last level), ``fusion_cfg`` — layer types of
    :func:`mmseg.models.utils.build_layer`.
    """

    def __init__(self, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if self.align_corners:
            raise ValueError('DAFormerHead: align_corners=True is not supported')
        params = copy.deepcopy(self.decoder_params)
        embed_dims = params['embed_dims']
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_index)
        embed_cfg = params['embed_cfg']
        embed_neck_cfg = params['embed_neck_cfg']
        if embed_neck_cfg == 'same_as_embed_cfg':
            embed_neck_cfg = embed_cfg
        fusion_cfg = params['fusion_cfg']
        for cfg in (embed_cfg, embed_neck_cfg, fusion_cfg):
            if cfg is not None and 'aspp' in cfg['type']:
                cfg['align_corners'] = self.align_corners

        self.embed_layers = torch.nn.ModuleDict()
        for i, in_channels, embed_dim in zip(self.in_index, self.in_channels, embed_dims):
            cfg = embed_neck_cfg if i == self.in_index[-1] else embed_cfg
            self.embed_layers[str(i)] = build_layer(in_channels, embed_dim, **cfg)
        self.fuse_layer = build_layer(sum(embed_dims), self.channels, **fusion_cfg)

    def forward_feat(self, inputs):
        """The fused pre-classifier feature N×channels×H_0×W_0 (stride 4)."""
        return self.fuse_layer(self.embed_and_concat(*inputs))

    def forward(self, inputs):
        """inputs: 4 maps N×C_i×H_i×W_i → logits N×num_classes×H_0×W_0 (stride 4)."""
        return self.segmented_forward(inputs, call)

    def checkpointed_forward(self, inputs):
        """``forward`` with the embedding, each fusion branch, the fusion bottleneck and
        the classifier as separate :meth:`run_segment` s: recomputing the whole head at
        once in the backward would hold all its stride-4 maps again."""
        if not self.activation_checkpointing:
            return self(inputs)  # through __call__: forward hooks see the call
        return self.segmented_forward(inputs, self.run_segment)

    def segmented_forward(self, inputs, run):
        embedded = run(self.embed_and_concat, *inputs)
        if isinstance(self.fuse_layer, ASPPWrapper):
            fused = self.fuse_layer(embedded, run)
        else:
            fused = run(self.fuse_layer, embedded)
        return run(self.cls_seg, fused)

    def embed_and_concat(self, *inputs):
        embedded = embed_levels(self.embed_layers, inputs, self.in_index, self.align_corners)
        return torch.cat(embedded, dim=1)
