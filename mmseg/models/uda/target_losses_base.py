"""Shared frame of the non-self-training baselines (MinEnt, AdvSeg): source CE, a target
term on the student's prediction, optional MIC with its own teacher."""
from abc import abstractmethod

from mmseg.models.utils.dacs_transforms import StrongTransform

from .uda_decorator import UDADecorator


class TargetLossUDA(UDADecorator):
    """Base of MinEnt / AdvSeg. Subclasses implement ``train_target``.

    MIC (``mask_mode``) always uses its own EMA teacher here (there is no host teacher).
    """

    def __init__(self, model, alpha=0.999, pseudo_threshold=0.968, pseudo_weight_ignore_top=0,
                 pseudo_weight_ignore_bottom=0, blur=True, color_jitter_strength=0.2,
                 color_jitter_probability=0.2, mask_mode=None, mask_alpha='same',
                 mask_pseudo_threshold='same', mask_lambda=0, mask_generator=None,
                 debug_img_interval=1000, max_iters=None, train_cfg=None, test_cfg=None,
                 init_cfg=None):
        super().__init__(model, max_iters, train_cfg, test_cfg, init_cfg)
        self.mic = self.build_mic(
            locals(), StrongTransform(color_jitter_strength, color_jitter_probability, blur),
            host_has_teacher=False)

    @abstractmethod
    def train_target(self, img, img_metas, target_img, target_img_metas):
        """Back-propagate the target term(s); return their log."""

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                      rare_class=None, valid_pseudo_mask=None):
        student = self.get_model()
        if self.mic is not None:
            self.mic.update_teacher(student, self.local_iter)
        log_vars, _ = self.train_source_ce(img, img_metas, gt_semantic_seg)
        log_vars.update(self.train_target(img, img_metas, target_img, target_img_metas))
        if self.mic is not None:
            log_vars.update(self.train_masked(img, img_metas, gt_semantic_seg, target_img,
                                              target_img_metas, valid_pseudo_mask))
        self.local_iter += 1
        return log_vars
