"""RIPU training (Xie et al., CVPR 2022; SPEC-more-uda.md §3.2 steps 5-7).

The labelled target pixels come from the active label store (``target_gt_semantic_seg``,
255 = unlabelled); the selection itself is ``mmseg.apis.active_learning``'s hook.
"""
import torch
import torch.nn.functional as F

from mmseg.models.builder import UDA
from mmseg.models.utils.precision import at_least_float32

from .dacs import DACS

IGNORE_INDEX = 255
CR_REGIONS = ('boundary', 'all')


def negative_learning_loss(probs, threshold=0.05):
    """L_nl: Σ mask·(−log(1 − p + 1e-6)) / Σ mask with mask = p < τ (no gradient through
    the mask), over all classes, pixels and images. probs: N×C×H×W softmax → scalar."""
    mask = (probs < threshold).detach().to(probs.dtype)
    return (mask * -torch.log(1 - probs + 1e-6)).sum() / mask.sum().clamp(min=1)


def label_boundary_mask(gt, ignore_index=IGNORE_INDEX):
    """Pixels whose 8-neighbour Laplacian of the label map (zero padding) is non-zero —
    label boundaries and, for non-zero labels, the image border — and that are labelled.
    gt: N×1×H×W → N×H×W bool."""
    kernel = -torch.ones(1, 1, 3, 3, dtype=torch.float64, device=gt.device)
    kernel[0, 0, 1, 1] = 8
    laplacian = F.conv2d(gt.double(), kernel, padding=1)[:, 0]
    return (laplacian != 0) & (gt[:, 0] != ignore_index)


def local_consistency_loss(logits, gt, region='boundary', ignore_index=IGNORE_INDEX):
    """L_cr: mean over the chosen pixels of Σ_c |q − q̄|, q = softmax(logits), q̄ its 3×3
    mean (replicate padding). ``region``: 'boundary' (the official code: label boundaries,
    see :func:`label_boundary_mask`) or 'all' (the paper's formula: every labelled pixel).
    logits: N×C×H×W; gt: N×1×H×W → scalar (0 when no pixel qualifies)."""
    probs = F.softmax(logits, dim=1)
    mean = F.avg_pool2d(F.pad(probs, (1, 1, 1, 1), mode='replicate'), 3, stride=1)
    distance = (probs - mean).abs().sum(1)
    if region == 'boundary':
        mask = label_boundary_mask(gt, ignore_index)
    else:
        mask = gt[:, 0] != ignore_index
    mask = mask.to(distance.dtype)
    return (distance * mask).sum() / mask.sum().clamp(min=1)


@UDA.register_module()
class RIPU(DACS):
    """Active domain adaptation: CE on the source and on the labelled target pixels,
    source local consistency (``lambda_cr``, ``cr_region``) and target negative learning
    (``lambda_nl``, ``nl_threshold``).

    The paper's method is ``source_only=True`` (no teacher, no mixing). With
    ``source_only=False`` and the DACS/MIC keys it is DAFormer/HRDA/MIC self-training plus
    CE on the labelled target pixels (not from the paper). CE on the labelled target
    pixels is their mean, as in the official code (255 ignored), not a mean over the crop.

    Extra ``forward_train`` input: ``target_gt_semantic_seg`` N×1×H×W (255 = unlabelled).
    """

    def __init__(self, model, lambda_cr=0.1, lambda_nl=1.0, nl_threshold=0.05,
                 cr_region='boundary', source_only=True, **dacs_settings):
        super().__init__(model, source_only=source_only, **dacs_settings)
        if cr_region not in CR_REGIONS:
            raise ValueError(f'RIPU: uda.cr_region must be one of {CR_REGIONS}, got '
                             f'{cr_region!r}')
        if lambda_cr > 0 and self.enable_fdist:
            raise ValueError('RIPU: lambda_cr > 0 replaces the source step, which then has no '
                             'ImageNet feature distance; set imnet_feature_dist_lambda=0 or '
                             'lambda_cr=0')
        self.lambda_cr = lambda_cr
        self.lambda_nl = lambda_nl
        self.nl_threshold = nl_threshold
        self.cr_region = cr_region

    def train_source(self, img, img_metas, gt_semantic_seg):
        """CE(up(z_s), y_s) + λ_cr·L_cr on the input-size logits; without L_cr, DACS's
        source step (the decode head's loss, + FD)."""
        if self.lambda_cr == 0:
            return super().train_source(img, img_metas, gt_semantic_seg)
        with self.autocast():
            logits = self.get_model().encode_decode(img, img_metas)
        logits = at_least_float32(logits)
        losses = {'loss_ce': F.cross_entropy(logits, gt_semantic_seg[:, 0].long(),
                                             ignore_index=IGNORE_INDEX),
                  'loss_cr': self.lambda_cr * local_consistency_loss(
                      logits, gt_semantic_seg, self.cr_region)}
        return self._backward(losses, 'src'), {}

    def train_target(self, target_img, target_img_metas, target_gt):
        """CE on the labelled target pixels (+ λ_nl·L_nl on every target pixel)."""
        student = self.get_model()
        # One host sync: until the first selection round there is nothing to learn from.
        has_labels = bool((target_gt != IGNORE_INDEX).any())
        if self.lambda_nl == 0:
            if not has_labels:
                return {}
            labelled = (target_gt[:, 0] != IGNORE_INDEX).float()
            weight = labelled * (labelled.numel() / labelled.sum())
            with self.autocast():
                losses = student.forward_train(target_img, target_img_metas, target_gt,
                                               seg_weight=weight)
            return self._backward(losses, 'trg')
        with self.autocast():
            logits = student.encode_decode(target_img, target_img_metas)
        logits = at_least_float32(logits)
        losses = {'loss_nl': self.lambda_nl * negative_learning_loss(
            F.softmax(logits, dim=1), self.nl_threshold)}
        if has_labels:
            losses['loss_ce'] = F.cross_entropy(logits, target_gt[:, 0].long(),
                                                ignore_index=IGNORE_INDEX)
        return self._backward(losses, 'trg')

    def forward_train(self, img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                      target_gt_semantic_seg=None, rare_class=None, valid_pseudo_mask=None):
        """DACS's iteration (source only for the paper's method), then the target terms.
        img/target_img: N×3×H×W; gt_semantic_seg/target_gt_semantic_seg: N×1×H×W."""
        if target_gt_semantic_seg is None:
            raise ValueError('RIPU: no target_gt_semantic_seg in the batch; the target train '
                             'pipeline must load the active labels (a config with '
                             'active_selection, trained by tools/train.py)')
        log_vars = super().forward_train(img, img_metas, gt_semantic_seg, target_img,
                                         target_img_metas, rare_class, valid_pseudo_mask)
        log_vars.update(self.train_target(target_img, target_img_metas,
                                          target_gt_semantic_seg))
        return log_vars
