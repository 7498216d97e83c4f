import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.models import builder
from mmseg.models.builder import SEGMENTORS
from mmseg.ops import resize
from mmseg.utils.label_shift_file import log_prior_ratio

from .base import BaseSegmentor


def add_prefix(inputs, prefix):
    """Prefix every key of a loss dict: ``{'loss_seg': x}`` → ``{'decode.loss_seg': x}``."""
    return {f'{prefix}.{name}': value for name, value in inputs.items()}


def slide_windows(h_img, w_img, h_crop, w_crop, h_stride, w_stride):
    """Window boxes (y1, y2, x1, x2) covering an image; the last row/column of windows is
    shifted back to fit (grid n = max(H - crop + stride - 1, 0) // stride + 1)."""
    h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
    w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
    boxes = []
    for h_idx in range(h_grids):
        for w_idx in range(w_grids):
            y1, x1 = h_idx * h_stride, w_idx * w_stride
            y2, x2 = min(y1 + h_crop, h_img), min(x1 + w_crop, w_img)
            y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
            boxes.append((y1, y2, x1, x2))
    return boxes


@SEGMENTORS.register_module()
class EncoderDecoder(BaseSegmentor):
    """Backbone (+ neck) + decode head (+ auxiliary heads).

    ``test_cfg.mode``: 'whole' or 'slide' (``crop_size``, ``stride``, optional
    ``batched_slide`` that runs all windows as one batch). ``test_cfg.label_shift=
    dict(file='label_shift.json')``: Inference Adjustment (Liu et al., CVPR 2022) — the
    test logits get log P_t − log P_s added before the softmax/argmax.
    """

    def __init__(self, backbone, decode_head, neck=None, auxiliary_head=None, train_cfg=None,
                 test_cfg=None, pretrained=None, init_cfg=None):
        super().__init__(init_cfg)
        if pretrained is not None:
            if backbone.get('pretrained') not in (None, pretrained):
                raise ValueError('pretrained is given both in model and model.backbone')
            backbone = dict(backbone, pretrained=pretrained)
        self.backbone = builder.build_backbone(backbone)
        if neck is not None:
            self.neck = builder.build_neck(neck)
        self._init_decode_head(decode_head)
        self._init_auxiliary_head(auxiliary_head)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self._init_label_shift(test_cfg)
        assert self.with_decode_head

    def _init_label_shift(self, test_cfg):
        spec = (test_cfg or {}).get('label_shift')
        ratio = None
        if spec is not None:
            if not isinstance(spec, dict) or 'file' not in spec:
                raise ValueError("test_cfg.label_shift must be dict(file='label_shift.json'), "
                                 f'got {spec!r}')
            ratio = torch.tensor(log_prior_ratio(spec['file'], self.num_classes))
        # Not in the state dict: the file, not the checkpoint, holds the priors.
        self.register_buffer('label_shift_log_ratio', ratio, persistent=False)

    def _init_decode_head(self, decode_head):
        self.decode_head = builder.build_head(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes

    def _init_auxiliary_head(self, auxiliary_head):
        if auxiliary_head is None:
            return
        if isinstance(auxiliary_head, list):
            self.auxiliary_head = nn.ModuleList(
                [builder.build_head(cfg) for cfg in auxiliary_head])
        else:
            self.auxiliary_head = builder.build_head(auxiliary_head)

    def extract_feat(self, img):
        """img: N×3×H×W → list of backbone (+ neck) feature maps."""
        x = self.backbone(img)
        if self.with_neck:
            x = self.neck(x)
        return x

    def encode_decode(self, img, img_metas, upscale_pred=True):
        """img: N×3×H×W → logits N×C×H×W (decoder output resized to the input size, or at
        the decoder's stride-4 resolution when ``upscale_pred=False``)."""
        x = self.extract_feat(img)
        out = self._decode_head_forward_test(x, img_metas)
        if upscale_pred:
            out = resize(out, size=img.shape[2:], mode='bilinear',
                         align_corners=self.align_corners)
        return out

    def _decode_head_forward_train(self, x, img_metas, gt_semantic_seg, seg_weight=None):
        loss_decode = self.decode_head.forward_train(x, img_metas, gt_semantic_seg,
                                                     self.train_cfg, seg_weight)
        return add_prefix(loss_decode, 'decode')

    def _decode_head_forward_test(self, x, img_metas):
        return self.decode_head.forward_test(x, img_metas, self.test_cfg)

    def _auxiliary_head_forward_train(self, x, img_metas, gt_semantic_seg, seg_weight=None):
        losses = dict()
        heads = self.auxiliary_head if isinstance(self.auxiliary_head, nn.ModuleList) \
            else [self.auxiliary_head]
        for idx, head in enumerate(heads):
            loss_aux = head.forward_train(x, img_metas, gt_semantic_seg, self.train_cfg,
                                          seg_weight)
            prefix = 'aux' if len(heads) == 1 else f'aux_{idx}'
            losses.update(add_prefix(loss_aux, prefix))
        return losses

    def forward_dummy(self, img):
        return self.encode_decode(img, None)

    def forward_train(self, img, img_metas, gt_semantic_seg, seg_weight=None,
                      return_feat=False):
        """img: N×3×H×W; gt_semantic_seg: N×1×H×W; seg_weight: N×H×W or None.

        Returns dict of losses (``decode.loss_seg``, ``decode.acc_seg``, …) and, with
        ``return_feat``, ``features`` (the backbone/neck feature list).
        """
        x = self.extract_feat(img)
        losses = dict()
        if return_feat:
            losses['features'] = x
        losses.update(self._decode_head_forward_train(x, img_metas, gt_semantic_seg, seg_weight))
        if self.with_auxiliary_head:
            losses.update(self._auxiliary_head_forward_train(x, img_metas, gt_semantic_seg,
                                                             seg_weight))
        return losses

    def debug_snapshot(self):
        """The decode head's detached outputs of the last training forward pass."""
        return dict(self.decode_head.debug_output)

    def debug_panels(self, snapshot, prefix):
        """Debug-image panels (title, kind, N×h×w tensor) of a ``debug_snapshot()``."""
        if 'logits' not in snapshot:
            return []
        return [(f'{prefix} Pred', 'label', snapshot['logits'].argmax(1))]

    def slide_inference(self, img, img_meta, rescale):
        """Average the logits of overlapping windows. img: N×3×H×W → N×C×H×W (or ori size)."""
        h_stride, w_stride = self.test_cfg['stride']
        h_crop, w_crop = self.test_cfg['crop_size']
        batch_size, _, h_img, w_img = img.size()
        boxes = slide_windows(h_img, w_img, h_crop, w_crop, h_stride, w_stride)
        preds = img.new_zeros((batch_size, self.num_classes, h_img, w_img))
        count_mat = img.new_zeros((batch_size, 1, h_img, w_img))
        if self.test_cfg.get('batched_slide', False):
            crops = torch.cat([img[:, :, y1:y2, x1:x2] for y1, y2, x1, x2 in boxes])
            crop_logits = self.encode_decode(crops, img_meta).split(batch_size)
        else:
            crop_logits = [self.encode_decode(img[:, :, y1:y2, x1:x2], img_meta)
                           for y1, y2, x1, x2 in boxes]
        for (y1, y2, x1, x2), logits in zip(boxes, crop_logits):
            preds += F.pad(logits, (x1, w_img - x2, y1, h_img - y2))
            count_mat[:, :, y1:y2, x1:x2] += 1
        assert (count_mat == 0).sum() == 0
        preds = preds / count_mat
        if rescale:
            preds = resize(preds, size=img_meta[0]['ori_shape'][:2], mode='bilinear',
                           align_corners=self.align_corners, warning=False)
        return preds

    def whole_inference(self, img, img_meta, rescale):
        """img: N×3×H×W → logits N×C×H×W (or at ``ori_shape`` when ``rescale``)."""
        seg_logit = self.encode_decode(img, img_meta)
        if rescale:
            seg_logit = resize(seg_logit, size=img_meta[0]['ori_shape'][:2], mode='bilinear',
                               align_corners=self.align_corners, warning=False)
        return seg_logit

    def adjust_for_label_shift(self, seg_logit):
        """IA (SPEC-more-uda.md §1.2 step 10): logits N×C×H×W + log P_t − log P_s per
        class, i.e. the posterior × P_t/P_s; unchanged without ``test_cfg.label_shift``."""
        if self.label_shift_log_ratio is None:
            return seg_logit
        return seg_logit + self.label_shift_log_ratio.to(seg_logit).view(1, -1, 1, 1)

    def inference(self, img, img_meta, rescale):
        """Softmax probabilities N×C×H×W (whole or slide per ``test_cfg.mode``, label-shift
        adjusted with ``test_cfg.label_shift``), un-flipped."""
        mode = self.test_cfg.get('mode', 'whole') if self.test_cfg else 'whole'
        if mode not in ('slide', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide' or 'whole', got {mode!r}")
        ori_shape = img_meta[0]['ori_shape']
        assert all(_['ori_shape'] == ori_shape for _ in img_meta)
        if mode == 'slide':
            seg_logit = self.slide_inference(img, img_meta, rescale)
        else:
            seg_logit = self.whole_inference(img, img_meta, rescale)
        output = F.softmax(self.adjust_for_label_shift(seg_logit), dim=1)
        if img_meta[0].get('flip', False):
            direction = img_meta[0].get('flip_direction', 'horizontal')
            if direction not in ('horizontal', 'vertical'):
                raise ValueError(f'unknown flip_direction {direction!r}')
            output = output.flip(dims=(3,) if direction == 'horizontal' else (2,))
        return output

    def simple_test(self, img, img_meta, rescale=True):
        """→ list of N arrays H×W (class ids)."""
        seg_pred = self.inference(img, img_meta, rescale).argmax(dim=1)
        return list(seg_pred.cpu().numpy())

    def aug_test(self, imgs, img_metas, rescale=True):
        """Average the probabilities over augmentations (rescale needed to align them)."""
        assert rescale
        seg_logit = self.inference(imgs[0], img_metas[0], rescale)
        for i in range(1, len(imgs)):
            seg_logit += self.inference(imgs[i], img_metas[i], rescale)
        seg_logit /= len(imgs)
        return list(seg_logit.argmax(dim=1).cpu().numpy())
