import torch

from mmseg.models.builder import LOSSES

from .cross_entropy_loss import CrossEntropyLoss


@LOSSES.register_module()
class LogitAdjustedCrossEntropyLoss(CrossEntropyLoss):
    """CE(logits + b, y) with a fixed per-class offset ``logit_adjustment`` b (K floats).

    Classifier Rectification (Liu et al., CVPR 2022) uses b = log P_s − log P_t: the
    classifier learns the source posterior divided by the source prior (times the target
    prior), so its raw argmax is the target-prior decision. b = 0 is plain CE.
    """

    def __init__(self, logit_adjustment, **kwargs):
        super().__init__(**kwargs)
        # Not in the state dict: it comes from the label_shift.json, not the checkpoint.
        self.register_buffer('logit_adjustment',
                             torch.tensor(logit_adjustment, dtype=torch.float32),
                             persistent=False)

    def forward(self, cls_score, label, weight=None, **kwargs):
        """cls_score: N×K×H×W logits; label: N×H×W."""
        if cls_score.shape[1] != self.logit_adjustment.numel():
            raise ValueError(f'LogitAdjustedCrossEntropyLoss: {self.logit_adjustment.numel()} '
                             f'class offsets for logits with {cls_score.shape[1]} classes')
        offset = self.logit_adjustment.to(cls_score).view(1, -1, 1, 1)
        return super().forward(cls_score + offset, label, weight, **kwargs)
