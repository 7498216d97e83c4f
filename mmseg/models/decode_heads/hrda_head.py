"""HRDA multi-resolution fusion head (Hoyer et al., ECCV 2022)."""
from copy import deepcopy

import torch
import torch.nn.functional as F

from mmseg.models.builder import HEADS, build_head
from mmseg.models.segmentors.encoder_decoder import add_prefix
from mmseg.models.utils.crop import crop, scale_box
from mmseg.ops import resize

from .decode_head import BaseDecodeHead

# Output stride of each supported single-scale head.
HEAD_OUTPUT_STRIDE = {'DAFormerHead': 4, 'DLV2Head': 8}


def attention_head_cfg(head_cfg, single_scale_head, attention_embed_dim, classwise):
    """Config of the scale-attention decoder: the same decoder type, its ASPP fusion
    replaced by a 1×1 conv fusion of ``attention_embed_dim`` channels."""
    cfg = deepcopy(head_cfg)
    cfg['type'] = single_scale_head
    if single_scale_head == 'DAFormerHead':
        cfg['channels'] = attention_embed_dim
        params = cfg['decoder_params']
        params['embed_dims'] = attention_embed_dim
        if params['fusion_cfg']['type'] == 'aspp':
            params['fusion_cfg'] = dict(type='conv', kernel_size=1, act_cfg=dict(type='ReLU'),
                                        norm_cfg=params['fusion_cfg']['norm_cfg'])
    if not classwise:
        cfg['num_classes'] = 1
    return cfg


@HEADS.register_module()
class HRDAHead(BaseDecodeHead):
    """Fuses a low-resolution context prediction and a high-resolution detail prediction
    with a learned scale attention ``a``: ``resize((1−a)·y_LR) + resize(a)·y_HR``.

    Args:
        single_scale_head (str): 'DAFormerHead' or 'DLV2Head'; one instance (``head``) serves
            both scales, a second (``scale_attention``) predicts ``a`` from LR features.
        lr_loss_weight, hr_loss_weight (float): weights of the extra LR / HR losses.
        scales (list[float]): [HR scale, LR scale] (set by the segmentor).
        attention_classwise (bool): one attention channel per class.
        fixed_attention (float | None): constant attention instead of the learned one.
        debug_output_attention (bool): output the attention map instead of logits.
    """

    def __init__(self, single_scale_head, lr_loss_weight=0, hr_loss_weight=0, scales=(1, 0.5),
                 attention_embed_dim=256, attention_classwise=True, enable_hr_crop=False,
                 hr_slide_inference=True, fixed_attention=None, debug_output_attention=False,
                 dilations=None, **kwargs):
        if single_scale_head not in HEAD_OUTPUT_STRIDE:
            raise ValueError(f'HRDAHead: single_scale_head must be one of '
                             f'{sorted(HEAD_OUTPUT_STRIDE)}, got {single_scale_head!r}')
        if dilations is not None:  # DLV2Head's ASPP dilations
            kwargs['dilations'] = dilations
        head_cfg = deepcopy(kwargs)
        head_cfg['type'] = single_scale_head
        attn_cfg = attention_head_cfg(kwargs, single_scale_head, attention_embed_dim,
                                      attention_classwise)
        base_kwargs = deepcopy(kwargs)
        if single_scale_head == 'DAFormerHead':
            base_kwargs['input_transform'] = 'multiple_select'
        else:
            base_kwargs.pop('dilations', None)
            base_kwargs['channels'] = 1
        base_kwargs.pop('decoder_params', None)
        base_kwargs['init_cfg'] = None  # the inner heads keep theirs
        super().__init__(**base_kwargs)
        del self.conv_seg
        del self.dropout
        self.os = HEAD_OUTPUT_STRIDE[single_scale_head]
        self.head = build_head(head_cfg)
        self.fixed_attention = fixed_attention
        self.scale_attention = build_head(attn_cfg) if fixed_attention is None else None
        self.lr_loss_weight = lr_loss_weight
        self.hr_loss_weight = hr_loss_weight
        self.scales = list(scales)
        self.enable_hr_crop = enable_hr_crop
        self.hr_slide_inference = hr_slide_inference
        self.debug_output_attention = debug_output_attention
        self.hr_crop_box = None

    def set_hr_crop_box(self, box):
        self.hr_crop_box = box

    def _resize(self, x, scale_factor):
        return resize(x, scale_factor=scale_factor, mode='bilinear',
                      align_corners=self.align_corners)

    def decode_hr(self, inp, batch_size):
        """Head on batched HR windows, pasted at their boxes (÷ output stride) and averaged
        where they overlap. inp: dict(features, boxes) → N×C×h×w."""
        boxes = [scale_box(b, self.os) for b in inp['boxes']]
        h_img = max(b[1] for b in boxes)
        w_img = max(b[3] for b in boxes)
        window_logits = self.head.checkpointed_forward(inp['features'])
        preds = window_logits.new_zeros((batch_size, window_logits.shape[1], h_img, w_img))
        count = window_logits.new_zeros((batch_size, 1, h_img, w_img))
        for i, (y1, y2, x1, x2) in enumerate(boxes):
            preds += F.pad(window_logits[i * batch_size:(i + 1) * batch_size],
                           (x1, w_img - x2, y1, h_img - y2))
            count[:, :, y1:y2, x1:x2] += 1
        assert (count == 0).sum() == 0
        self.debug_output['hr_window_logits'] = window_logits.detach()
        return preds / count

    def get_scale_attention(self, inp):
        if self.scale_attention is not None:
            return torch.sigmoid(self.scale_attention.checkpointed_forward(inp))
        return self.fixed_attention

    def forward(self, inputs):
        """inputs: [HR features (list, or dict of slide windows), LR features] →
        (fused logits at the HR output resolution, (1−a)·LR logits, HR logits); the head
        runs on LR, then HR, then the scale attention on LR."""
        hr_inp, lr_inp = inputs
        hr_scale, lr_scale = self.scales
        batch_size = lr_inp[0].shape[0]
        # LR before HR, as the original: in train mode the shared head's BatchNorm running
        # statistics and its dropout draws depend on the order of the two calls.
        lr_seg = self.head.checkpointed_forward(lr_inp)
        if isinstance(hr_inp, dict):
            hr_seg = self.decode_hr(hr_inp, batch_size)
        else:
            hr_seg = self.head.checkpointed_forward(hr_inp)
        att = self.get_scale_attention(lr_inp)
        if self.hr_crop_box is not None:
            mask = lr_seg.new_zeros([lr_seg.shape[0], 1, *lr_seg.shape[2:]])
            y1, y2, x1, x2 = scale_box(self.hr_crop_box, self.os / lr_scale)
            mask[:, :, y1:y2, x1:x2] = 1
            att = att * mask
        lr_seg = (1 - att) * lr_seg
        up_lr_seg = self._resize(lr_seg, hr_scale / lr_scale)
        if torch.is_tensor(att):
            att = self._resize(att, hr_scale / lr_scale)
        if self.hr_crop_box is not None:
            hr_seg_inserted = torch.zeros_like(up_lr_seg)
            y1, y2, x1, x2 = scale_box(self.hr_crop_box, self.os)
            hr_seg_inserted[:, :, y1:y2, x1:x2] = hr_seg
        else:
            hr_seg_inserted = hr_seg
        fused_seg = att * hr_seg_inserted + up_lr_seg
        if self.debug_output_attention:
            fused_seg = attention_map(att, fused_seg)
        self.debug_output.update(logits=fused_seg.detach(), lr_logits=lr_seg.detach(),
                                 hr_logits=hr_seg.detach(),
                                 attention=att.detach() if torch.is_tensor(att) else att)
        return fused_seg, lr_seg, hr_seg

    def reset_crop(self):
        self.hr_crop_box = None

    def forward_train(self, inputs, img_metas, gt_semantic_seg, train_cfg, seg_weight=None):
        if self.enable_hr_crop and self.hr_crop_box is None:
            raise RuntimeError('HRDAHead: the segmentor must set the detail crop box first')
        self.debug_output = {}
        seg_logits = self.forward(inputs)
        losses = self.losses(seg_logits, gt_semantic_seg, seg_weight)
        self.reset_crop()
        return losses

    def forward_test(self, inputs, img_metas, test_cfg):
        return self.forward(inputs)[0]

    def losses(self, seg_logit, seg_label, seg_weight=None):
        """(1−λ_hr−λ_lr)·CE(fused) + λ_hr·CE(HR, cropped label) [+ λ_lr·CE(LR)]."""
        fused_seg, lr_seg, hr_seg = seg_logit
        loss = super().losses(fused_seg, seg_label, seg_weight)
        if self.hr_loss_weight == 0 and self.lr_loss_weight == 0:
            return loss
        if self.lr_loss_weight > 0:
            loss.update(add_prefix(super().losses(lr_seg, seg_label, seg_weight), 'lr'))
        if self.hr_loss_weight > 0:
            if self.enable_hr_crop:
                hr_label = crop(seg_label, self.hr_crop_box)
                hr_weight = crop(seg_weight, self.hr_crop_box) if seg_weight is not None \
                    else None
            else:
                hr_label, hr_weight = seg_label, seg_weight
            loss.update(add_prefix(super().losses(hr_seg, hr_label, hr_weight), 'hr'))
        loss['loss_seg'] = loss['loss_seg'] * (1 - self.lr_loss_weight - self.hr_loss_weight)
        if self.lr_loss_weight > 0:
            loss['lr.loss_seg'] = loss['lr.loss_seg'] * self.lr_loss_weight
        if self.hr_loss_weight > 0:
            loss['hr.loss_seg'] = loss['hr.loss_seg'] * self.hr_loss_weight
        return loss


def attention_map(att, fused_seg):
    """Scale attention expected under the fused prediction, Σ_c a_c·softmax(y)_c, broadcast
    over the class channels (``--hrda-out ATT``)."""
    if not torch.is_tensor(att):
        return torch.full_like(fused_seg, att)
    expected = (att * torch.softmax(fused_seg, dim=1)).sum(dim=1, keepdim=True)
    return expected.expand_as(fused_seg)
