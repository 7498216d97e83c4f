"""The segmentor ProCST trains on translated source images at the last level
(SPEC-more-uda.md §4.2 step 6b)."""
import torch.nn as nn

from .builder import TRANSLATION
from .segmentor_io import build_config_segmentor, label_cross_entropy, segmentor_logits


@TRANSLATION.register_module()
class SiTSegmentor(nn.Module):
    """Seg_SiT: CE(Seg_SiT(S->T), y_s) trains it with its own SGD optimizer (official lr
    1e-4, momentum 0.9, weight decay 5e-4, head x10) and, through the translated image,
    G_st.

    Args:
        config (str): training config whose ``model`` (with its ``pretrained`` init) and
            ``img_norm_cfg`` are used.
        optimizer (dict): mmcv optimizer config (``paramwise_cfg`` allowed).
    """

    def __init__(self, config, optimizer=None):
        super().__init__()
        self.segmentor, self.img_norm_cfg = build_config_segmentor(
            config, None, 'SiTSegmentor (label_losses.sit_segmentor)')
        self.optimizer_cfg = optimizer or dict(
            type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4,
            paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0))))

    def build_optimizer(self):
        from mmcv.runner import build_optimizer
        return build_optimizer(self.segmentor, dict(self.optimizer_cfg))

    def forward(self, translated_source, labels):
        """translated_source N×3×H×W in [-1, 1], labels N×1×H×W -> scalar."""
        return label_cross_entropy(
            segmentor_logits(self.segmentor, translated_source, self.img_norm_cfg), labels)
