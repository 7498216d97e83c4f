from abc import ABCMeta, abstractmethod

import torch
import torch.nn as nn
from mmcv.cnn import normal_init
from mmcv.runner import BaseModule

from mmseg.models.builder import build_loss
from mmseg.models.losses import accuracy
from mmseg.models.utils.activation_checkpoint import checkpointed
from mmseg.ops import resize


class BaseDecodeHead(BaseModule, metaclass=ABCMeta):
    """Base class of the decoders (mmseg 0.x API).

    Args:
        in_channels (int | Sequence[int]): channels of the selected backbone features.
        channels (int): channels after the decoder's last module (input of ``conv_seg``).
        num_classes (int): number of classes.
        dropout_ratio (float): Dropout2d ratio before ``conv_seg``.
        in_index (int | Sequence[int]): selected backbone feature(s).
        input_transform (str | None): None (one feature), 'resize_concat' or
            'multiple_select'.
        loss_decode (dict): loss config.
        decoder_params (dict | None): decoder specific settings (DAFormer/SegFormer heads).
        ignore_index (int): label value excluded from the loss.
        align_corners (bool): for the resizes in the head.
    """

    # Set by mmseg.models.utils.optimization (optimization.activation_checkpointing).
    activation_checkpointing = False

    def __init__(self, in_channels, channels, *, num_classes, dropout_ratio=0.1, conv_cfg=None,
                 norm_cfg=None, act_cfg=dict(type='ReLU'), in_index=-1, input_transform=None,
                 loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 decoder_params=None, ignore_index=255, sampler=None, align_corners=False,
                 init_cfg=None):
        super().__init__(init_cfg)
        self._init_inputs(in_channels, in_index, input_transform)
        self.channels = channels
        self.num_classes = num_classes
        self.dropout_ratio = dropout_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.in_index = in_index
        self.decoder_params = decoder_params
        self.loss_decode = build_loss(loss_decode)
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        if sampler is not None:
            raise ValueError('BaseDecodeHead: pixel samplers are not used by the DAFormer '
                             f'family of configs; got sampler={sampler}')
        self.sampler = None
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else None
        normal_init(self.conv_seg, mean=0, std=0.01)
        # Detached outputs of the last forward pass, for the UDA debug images.
        self.debug_output = {}

    def extra_repr(self):
        return (f'input_transform={self.input_transform}, ignore_index={self.ignore_index}, '
                f'align_corners={self.align_corners}')

    def _init_inputs(self, in_channels, in_index, input_transform):
        if input_transform not in (None, 'resize_concat', 'multiple_select'):
            raise ValueError(f'input_transform must be None, resize_concat or multiple_select, '
                             f'got {input_transform!r}')
        self.input_transform = input_transform
        self.in_index = in_index
        if input_transform is not None:
            assert isinstance(in_channels, (list, tuple)) and isinstance(in_index, (list, tuple))
            assert len(in_channels) == len(in_index), \
                f'in_channels {in_channels} and in_index {in_index} differ in length'
            self.in_channels = sum(in_channels) if input_transform == 'resize_concat' \
                else in_channels
        else:
            assert isinstance(in_channels, int) and isinstance(in_index, int)
            self.in_channels = in_channels

    def _transform_inputs(self, inputs):
        """Select (and for resize_concat, resize to the first and concatenate) features."""
        if self.input_transform == 'resize_concat':
            inputs = [inputs[i] for i in self.in_index]
            inputs = [resize(x, size=inputs[0].shape[2:], mode='bilinear',
                             align_corners=self.align_corners) for x in inputs]
            return torch.cat(inputs, dim=1)
        if self.input_transform == 'multiple_select':
            return [inputs[i] for i in self.in_index]
        return inputs[self.in_index]

    @abstractmethod
    def forward(self, inputs):
        """inputs: list of N×C_i×H_i×W_i features → N×num_classes×H'×W' logits."""

    def run_segment(self, fn, *args):
        """``fn(*args)``, its activations recomputed in the backward pass when
        ``activation_checkpointing`` is set (``optimization.activation_checkpointing``)."""
        if self.activation_checkpointing:
            return checkpointed(self, fn, *args)
        return fn(*args)

    def checkpointed_forward(self, inputs):
        """``forward`` as one :meth:`run_segment` (heads with large intermediate maps
        split it into several, so the backward recomputes one segment at a time)."""
        if not self.activation_checkpointing:
            return self(inputs)  # through __call__: forward hooks see the call
        return self.run_segment(self.forward, inputs)

    def forward_train(self, inputs, img_metas, gt_semantic_seg, train_cfg, seg_weight=None):
        seg_logits = self.checkpointed_forward(inputs)
        main = seg_logits[0] if isinstance(seg_logits, (tuple, list)) else seg_logits
        self.debug_output = dict(logits=main.detach())
        return self.losses(seg_logits, gt_semantic_seg, seg_weight)

    def forward_test(self, inputs, img_metas, test_cfg):
        return self.forward(inputs)

    def cls_seg(self, feat):
        if self.dropout is not None:
            feat = self.dropout(feat)
        return self.conv_seg(feat)

    def losses(self, seg_logit, seg_label, seg_weight=None):
        """seg_logit: N×C×h×w (upsampled to the label size); seg_label: N×1×H×W;
        seg_weight: N×H×W pixel weights or None → dict(loss_seg, acc_seg)."""
        seg_logit = resize(seg_logit, size=seg_label.shape[2:], mode='bilinear',
                           align_corners=self.align_corners)
        seg_label = seg_label.squeeze(1)
        return dict(
            loss_seg=self.loss_decode(seg_logit, seg_label, weight=seg_weight,
                                      ignore_index=self.ignore_index),
            acc_seg=accuracy(seg_logit, seg_label))
