"""MIC: masked image consistency (Hoyer et al., CVPR 2023) — SPEC-uda.md "MIC"."""
import torch
import torch.nn as nn

from mmseg.models.utils.dacs_transforms import image_norm_stats
from mmseg.models.utils.masking_transforms import build_mask_generator

from .ema_teacher import EMATeacher

MASK_MODES = ('separate', 'separateaug', 'separatesrc', 'separatesrcaug', 'separatetrg',
              'separatetrgaug')


class MaskingConsistencyModule(nn.Module):
    """Trains the student on block-masked images against (pseudo-)labels of the full ones.

    Uses the host's pseudo-labels when ``mask_alpha`` and ``mask_pseudo_threshold`` are both
    'same' and the host has a teacher; otherwise keeps its own :class:`EMATeacher`
    (``self.teacher``, saved as ``mic.teacher.ema_model.*``). Source-only modes need none.
    """

    def __init__(self, model_cfg, mask_mode, mask_alpha, mask_pseudo_threshold, mask_lambda,
                 mask_generator, alpha, pseudo_threshold, pseudo_weight_ignore_top,
                 pseudo_weight_ignore_bottom, strong_transform, source_only=False,
                 host_has_teacher=True):
        super().__init__()
        if mask_mode not in MASK_MODES:
            raise ValueError(f'uda.mask_mode={mask_mode!r} is not one of {MASK_MODES}')
        if mask_generator is None:
            raise ValueError('uda.mask_generator is required when uda.mask_mode is set, e.g. '
                             "dict(type='block', mask_ratio=0.7, mask_block_size=64)")
        self.mask_mode = mask_mode
        self.mask_lambda = mask_lambda
        self.source_only = source_only
        self.mask_gen = build_mask_generator(mask_generator)
        self.strong_transform = strong_transform
        self.uses_target = not source_only and not mask_mode.startswith('separatesrc')
        own = mask_alpha != 'same' or mask_pseudo_threshold != 'same' or not host_has_teacher
        self.teacher = None
        if self.uses_target and own:
            self.teacher = EMATeacher(
                model_cfg, alpha if mask_alpha == 'same' else mask_alpha,
                pseudo_threshold if mask_pseudo_threshold == 'same' else mask_pseudo_threshold,
                pseudo_weight_ignore_top, pseudo_weight_ignore_bottom)
        self._debug = {}

    def update_teacher(self, student, iteration):
        if self.teacher is not None:
            self.teacher.update(student, iteration)

    def select_inputs(self, img, gt, target_img, pseudo_label, pseudo_weight):
        """Images N×3×H×W, labels N×1×H×W and weights (N×H×W or None) to be masked."""
        if self.source_only or self.mask_mode.startswith('separatesrc'):
            return img, gt, None
        if self.mask_mode.startswith('separatetrg'):
            return target_img, pseudo_label.unsqueeze(1), pseudo_weight
        if img.shape[0] != 2:
            raise ValueError(f"MIC mask_mode '{self.mask_mode}' takes source[0] and target[0] "
                             f'and needs a batch size of 2, got {img.shape[0]}')
        images = torch.stack([img[0], target_img[0]])
        labels = torch.stack([gt[0], pseudo_label[0].unsqueeze(0)])
        weights = torch.stack([torch.ones_like(pseudo_weight[0]), pseudo_weight[0]])
        return images, labels, weights

    def forward(self, student, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                valid_pseudo_mask=None, pseudo_label=None, pseudo_weight=None):
        """→ loss dict of the student on the masked images (``decode.loss_seg`` × λ)."""
        if self.teacher is not None:
            pseudo_label, pseudo_weight = self.teacher.pseudo_label(
                target_img, target_img_metas, valid_pseudo_mask)
        elif self.uses_target and pseudo_label is None:
            raise RuntimeError('MIC shares the host pseudo-labels but none were given')
        images, labels, weights = self.select_inputs(img, gt_semantic_seg, target_img,
                                                     pseudo_label, pseudo_weight)
        if self.mask_mode.endswith('aug'):
            mean, std = image_norm_stats(img_metas, img.device)
            self.strong_transform.new_iteration()
            images = self.strong_transform(images.clone(), mean[:1], std[:1])
        masked = self.mask_gen.mask_image(images)
        losses = student.forward_train(masked, img_metas, labels, seg_weight=weights)
        if self.mask_lambda != 1:
            losses['decode.loss_seg'] = losses['decode.loss_seg'] * self.mask_lambda
        self._debug = dict(masked=masked, labels=labels, weights=weights)
        return losses

    def debug_panels(self):
        if not self._debug:
            return []
        panels = [('Masked Image', 'image', self._debug['masked']),
                  ('Masked Seg Targ', 'label', self._debug['labels'])]
        if self._debug['weights'] is not None:
            panels.append(('Masked Pseudo W.', 'map', self._debug['weights']))
        return panels
