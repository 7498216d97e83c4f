"""DACS self-training with DAFormer's additions (SPEC-uda.md "One DACS iteration").

Step numbers in the comments refer to that list.
"""
from copy import deepcopy

import torch

from mmseg.models.builder import UDA, build_segmentor
from mmseg.models.segmentors.encoder_decoder import add_prefix
from mmseg.models.utils.crop import crop
from mmseg.models.utils.dacs_transforms import (StrongTransform, class_mix_batch,
                                                class_mix_masks, image_norm_stats)
from mmseg.models.utils.precision import at_least_float32
from mmseg.utils.visualization import random_palette

from .debug_writer import DebugImageWriter
from .ema_teacher import EMATeacher
from .feature_distance import masked_feature_distance, thing_class_mask
from .uda_decorator import UDADecorator


def grad_magnitude(module):
    """Mean L2 norm of the current gradients (for ``print_grad_magnitude``)."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).mean() if norms else torch.zeros(())


@UDA.register_module()
class DACS(UDADecorator):
    """Self-training with an EMA teacher, ClassMix + strong augmentation, optional
    thing-class ImageNet feature distance (FD), pseudo-label cropping and MIC.

    Config keys (``configs/_base_/uda/dacs*.py``): ``alpha`` EMA momentum;
    ``pseudo_threshold``; ``pseudo_weight_ignore_top/bottom`` (crop v1); ``mix='class'``;
    ``blur``, ``color_jitter_strength``, ``color_jitter_probability``;
    ``imnet_feature_dist_lambda/classes/scale_min_ratio/scale_method`` (FD); ``source_only``;
    ``mask_*`` (MIC); ``debug_img_interval``, ``print_grad_magnitude``.
    """

    def __init__(self, model, alpha=0.99, pseudo_threshold=0.968, pseudo_weight_ignore_top=0,
                 pseudo_weight_ignore_bottom=0, mix='class', blur=True,
                 color_jitter_strength=0.2, color_jitter_probability=0.2,
                 imnet_feature_dist_lambda=0, imnet_feature_dist_classes=None,
                 imnet_feature_dist_scale_min_ratio=None, imnet_feature_dist_scale_method='ratio',
                 source_only=False, mask_mode=None,
                 mask_alpha='same', mask_pseudo_threshold='same', mask_lambda=0,
                 mask_generator=None, debug_img_interval=1000, print_grad_magnitude=False,
                 max_iters=None, train_cfg=None, test_cfg=None, init_cfg=None):
        super().__init__(model, max_iters, train_cfg, test_cfg, init_cfg)
        if mix != 'class':
            raise ValueError(f"DACS: mix={mix!r} is not supported, only 'class' (ClassMix)")
        if imnet_feature_dist_scale_method != 'ratio':
            raise ValueError('DACS: imnet_feature_dist_scale_method must be "ratio" (ratio '
                             f'pooling of the labels), got {imnet_feature_dist_scale_method!r}')
        self.source_only = source_only
        self.fdist_lambda = imnet_feature_dist_lambda
        self.fdist_classes = imnet_feature_dist_classes
        self.fdist_scale_min_ratio = imnet_feature_dist_scale_min_ratio
        self.enable_fdist = self.fdist_lambda > 0
        self.print_grad_magnitude = print_grad_magnitude
        self.strong_transform = StrongTransform(color_jitter_strength, color_jitter_probability,
                                                blur)
        if not source_only:
            teacher = EMATeacher(self.model_cfg, alpha, pseudo_threshold,
                                 pseudo_weight_ignore_top, pseudo_weight_ignore_bottom)
            # The checkpoint layout of the original keeps the teacher at 'ema_model.*':
            # register its network there and keep the EMATeacher logic beside it.
            self.ema_model = teacher.ema_model
            object.__setattr__(self, 'teacher', teacher)
        if self.enable_fdist:
            self.imnet_model = build_segmentor(deepcopy(self.model_cfg))
            self.imnet_model.requires_grad_(False)
        self.mic = self.build_mic(locals(), self.strong_transform, source_only=source_only)
        log_config = self.train_cfg.get('log_config', {}) if self.train_cfg else {}
        self.debug_writer = DebugImageWriter(
            self.train_cfg.get('work_dir') if self.train_cfg else None,
            log_config.get('img_interval', debug_img_interval))

    def get_ema_model(self):
        return self.ema_model

    def get_imnet_model(self):
        return self.imnet_model

    def train_source(self, img, img_metas, gt_semantic_seg):
        """Step 2 + 3: source CE (+ FD). Returns (log_vars, debug dict)."""
        if self.enable_fdist and self.fused_source_backward:
            return self.train_source_one_backward(img, img_metas, gt_semantic_seg)
        log_vars, src_feat = self.train_source_ce(img, img_metas, gt_semantic_seg,
                                                  retain_graph=self.enable_fdist)
        if self.print_grad_magnitude:
            log_vars['grad_mag.src'] = grad_magnitude(self.get_model()).item()
        debug = {}
        if self.enable_fdist:
            feat_loss, debug = self.feature_distance_loss(img, gt_semantic_seg, src_feat)
            log_vars.update(self._backward({'loss_imnet_feat_dist': feat_loss}, 'src'))
            if self.print_grad_magnitude:
                log_vars['grad_mag.fdist'] = grad_magnitude(self.get_model()).item()
        return log_vars, debug

    def train_source_one_backward(self, img, img_metas, gt_semantic_seg):
        """Steps 2 + 3 with one backward of CE + FD (``optimization.fused_source_backward``):
        the source graph is freed after one traversal instead of being retained for a
        second backward. Same log; ``grad_mag.src`` then includes FD."""
        with self.autocast():
            losses = self.get_model().forward_train(img, img_metas, gt_semantic_seg,
                                                    return_feat=True)
        src_feat = losses.pop('features')
        feat_loss, debug = self.feature_distance_loss(img, gt_semantic_seg, src_feat)
        del src_feat
        losses.update(add_prefix({'loss_imnet_feat_dist': feat_loss}, 'src'))
        log_vars = self._backward(losses)
        if self.print_grad_magnitude:
            log_vars['grad_mag.src'] = grad_magnitude(self.get_model()).item()
        return log_vars, debug

    def feature_distance_loss(self, img, gt, feat):
        """λ_FD · mean ‖F_student − F_ImageNet‖₂ over thing-class cells of the last stage.

        HRDA with ``feature_scale='all'`` returns one feature list per scale: the distance is
        summed over scales, each against the label cropped like that scale's input.
        """
        student, imnet = self.get_model(), self.get_imnet_model()
        multi_scale = isinstance(feat[0], (list, tuple))
        crop_boxes = getattr(student, 'last_train_crop_box', {}) if multi_scale else {}
        with torch.no_grad(), self.autocast():
            imnet.eval()
            feat_imnet = imnet.extract_feat(img, crop_boxes) if multi_scale \
                else imnet.extract_feat(img)
        student_scales = feat if multi_scale else [feat]
        imnet_scales = feat_imnet if multi_scale else [feat_imnet]
        dist, debug = 0, {}
        for s, (f_student, f_imnet) in enumerate(zip(student_scales, imnet_scales)):
            mask = None
            if self.fdist_classes is not None:
                gt_s = crop(gt, crop_boxes[s]) if s in crop_boxes else gt
                mask, pooled = thing_class_mask(gt_s, f_student[-1].shape[-1],
                                                self.fdist_scale_min_ratio, self.num_classes,
                                                self.fdist_classes)
                if s == 0:
                    debug = {'FD Mask': mask, 'Scaled GT': pooled}
            dist = dist + masked_feature_distance(at_least_float32(f_student[-1]),
                                                  at_least_float32(f_imnet[-1].detach()), mask)
        return self.fdist_lambda * dist, debug

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                      rare_class=None, valid_pseudo_mask=None):
        """One UDA iteration (backward inside). img/target_img: N×3×H×W;
        gt_semantic_seg: N×1×H×W; valid_pseudo_mask: N×1×H×W or None → log_vars dict."""
        student = self.get_model()
        if not self.source_only:
            self.teacher.update(student, self.local_iter)  # step 1
        if self.mic is not None:
            self.mic.update_teacher(student, self.local_iter)
        self.strong_transform.new_iteration()

        log_vars, debug = self.train_source(img, img_metas, gt_semantic_seg)  # steps 2-3
        predictions = [('Src', student.debug_snapshot())]

        pseudo_label = pseudo_weight = mixed = None
        if not self.source_only:
            pseudo_label, pseudo_weight = self.teacher.pseudo_label(  # step 4
                target_img, target_img_metas, valid_pseudo_mask)
            mean, std = image_norm_stats(img_metas, img.device)
            masks = class_mix_masks(gt_semantic_seg)  # step 5
            mixed = class_mix_batch(masks, img, gt_semantic_seg, target_img, pseudo_label,
                                    pseudo_weight, self.strong_transform, mean, std)
            with self.autocast():
                mix_losses = student.forward_train(mixed[0], img_metas, mixed[1],  # step 6
                                                   seg_weight=mixed[2])
            log_vars.update(self._backward(mix_losses, 'mix'))
            predictions.append(('Mix', student.debug_snapshot()))
            debug['Domain Mask'] = torch.cat(masks)

        if self.mic is not None:  # step 7
            log_vars.update(self.train_masked(img, img_metas, gt_semantic_seg, target_img,
                                              target_img_metas, valid_pseudo_mask,
                                              pseudo_label, pseudo_weight))
            predictions.append(('Masked', student.debug_snapshot()))

        self.debug_writer.maybe_write(  # step 8
            self.local_iter,
            lambda: self.debug_panels(img, gt_semantic_seg, target_img, pseudo_label,
                                      pseudo_weight, mixed, debug, predictions),
            img_metas[0]['img_norm_cfg'],
            self.debug_palette())
        self.local_iter += 1  # step 9
        return log_vars

    def debug_palette(self):
        """The class colours of the run (``PALETTE``, which tools/train.py sets from the
        dataset), else fixed random ones."""
        palette = getattr(self, 'PALETTE', None)
        return random_palette(self.num_classes) if palette is None else palette

    def debug_panels(self, img, gt, target_img, pseudo_label, pseudo_weight, mixed, debug,
                     predictions):
        """Inputs, (pseudo-)labels, masks and, per student pass (source, mixed, masked),
        its prediction — for HRDA also the LR/HR predictions and the scale attention."""
        panels = [('Source Image', 'image', img), ('Target Image', 'image', target_img),
                  ('Source Seg GT', 'label', gt)]
        if pseudo_label is not None:
            panels += [('Target Seg (Pseudo) GT', 'label', pseudo_label),
                       ('Mixed Image', 'image', mixed[0]),
                       ('Domain Mask', 'map', debug.get('Domain Mask')),
                       ('Seg Targ', 'label', mixed[1]),
                       ('Pseudo W.', 'map', pseudo_weight)]
        if 'FD Mask' in debug:
            panels += [('FD Mask', 'map', debug['FD Mask']),
                       ('Scaled GT', 'label', debug['Scaled GT'])]
        if self.mic is not None:
            panels += self.mic.debug_panels()
        for prefix, snapshot in predictions:
            panels += self.get_model().debug_panels(snapshot, prefix)
        return panels
