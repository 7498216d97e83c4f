import torch.nn as nn
import torch.nn.functional as F

from mmseg.models.builder import LOSSES


def weighted_mean(loss, weight=None, reduction='mean', avg_factor=None):
    """Apply optional per-element ``weight`` then reduce.

    ``mean`` averages over *all* elements (ignored pixels count as zeros in the numerator
    and are part of the denominator, as in mmseg 0.x).
    """
    if weight is not None:
        loss = loss * weight.float()
    if avg_factor is not None:
        if reduction != 'mean':
            raise ValueError('avg_factor can only be used with reduction="mean"')
        return loss.sum() / avg_factor
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


def cross_entropy(pred, label, weight=None, class_weight=None, reduction='mean',
                  avg_factor=None, ignore_index=255):
    """Pixel-wise CE. pred: N×C×H×W logits; label: N×H×W; weight: N×H×W pixel weights."""
    loss = F.cross_entropy(pred, label, weight=class_weight, reduction='none',
                           ignore_index=ignore_index)
    return weighted_mean(loss, weight, reduction, avg_factor)


@LOSSES.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy with optional class weights, loss weight and pixel weights."""

    def __init__(self, use_sigmoid=False, use_mask=False, reduction='mean', class_weight=None,
                 loss_weight=1.0):
        super().__init__()
        if use_sigmoid or use_mask:
            raise ValueError('CrossEntropyLoss: only softmax cross-entropy is used by the '
                             'segmentation heads; set use_sigmoid=False and use_mask=False')
        self.use_sigmoid = use_sigmoid
        self.use_mask = use_mask
        self.reduction = reduction
        self.class_weight = class_weight
        self.loss_weight = loss_weight

    def forward(self, cls_score, label, weight=None, avg_factor=None, reduction_override=None,
                ignore_index=255, **kwargs):
        reduction = reduction_override or self.reduction
        class_weight = None
        if self.class_weight is not None:
            class_weight = cls_score.new_tensor(self.class_weight)
        return self.loss_weight * cross_entropy(
            cls_score, label, weight, class_weight=class_weight, reduction=reduction,
            avg_factor=avg_factor, ignore_index=ignore_index)
