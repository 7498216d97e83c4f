import contextlib
from copy import deepcopy

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath
from torch.nn.modules.dropout import _DropoutNd

from mmseg.models.builder import build_segmentor
from mmseg.models.utils.precision import at_least_float32


def ema_alpha(alpha, iteration):
    """Teacher momentum ``min(1 − 1/(t+1), alpha)``: a fast ramp-up early in training."""
    return min(1 - 1 / (iteration + 1), alpha)


@torch.no_grad()
def copy_parameters(dst, src):
    """Initialise the teacher: parameters only (BN statistics keep their own values)."""
    for d, s in zip(dst.parameters(), src.parameters()):
        d.copy_(s)


@torch.no_grad()
def copy_buffer_values(dst, src):
    """The student's buffers (BN running statistics, counters) into the teacher."""
    for d, s in zip(dst.buffers(), src.buffers()):
        d.copy_(s)


@torch.no_grad()
def ema_update(dst, src, alpha, foreach=True):
    """``φ ← α·φ + (1−α)·θ`` over all parameters (not buffers); ``foreach`` runs it as a
    few multi-tensor kernels instead of a Python loop over parameters."""
    dst_params = list(dst.parameters())
    src_params = [p.detach() for p in src.parameters()]
    if foreach:
        torch._foreach_mul_(dst_params, alpha)
        torch._foreach_add_(dst_params, src_params, alpha=1 - alpha)
    else:
        for d, s in zip(dst_params, src_params):
            d.copy_(alpha * d + (1 - alpha) * s)


def disable_stochastic_layers(model):
    """Dropout and DropPath off, everything else (BatchNorm) stays in train mode."""
    for m in model.modules():
        if isinstance(m, (_DropoutNd, DropPath)):
            m.training = False


class EMATeacher(nn.Module):
    """Mean teacher ``h_φ`` (an EMA copy of the student) that produces pseudo-labels.

    One implementation serves DACS (its ``ema_model``) and MIC's optional own teacher.

    Args:
        model_cfg (dict): the student's segmentor config.
        alpha (float): EMA momentum (0.99 DACS, 0.999 DAFormer).
        pseudo_threshold (float | None): confidence for the pseudo-label weight; None → 1.
        pseudo_weight_ignore_top / _bottom (int): rows whose weight is zeroed (crop v1).
        copy_buffers (bool): after each update, the student's buffers (BN statistics) are
            copied into the teacher (CPSL's official teacher); DACS keeps its own.
    """

    def __init__(self, model_cfg, alpha, pseudo_threshold, pseudo_weight_ignore_top=0,
                 pseudo_weight_ignore_bottom=0, copy_buffers=False):
        super().__init__()
        self.ema_model = build_segmentor(deepcopy(model_cfg))
        self.ema_model.requires_grad_(False)
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.ignore_top = pseudo_weight_ignore_top
        self.ignore_bottom = pseudo_weight_ignore_bottom
        self.foreach = True
        self.copy_buffers = copy_buffers
        self.autocast = contextlib.nullcontext

    def update(self, student, iteration):
        """Step 1 of the DACS iteration: copy at t = 0, EMA afterwards."""
        if iteration == 0:
            copy_parameters(self.ema_model, student)
        else:
            ema_update(self.ema_model, student, ema_alpha(self.alpha, iteration), self.foreach)
        if self.copy_buffers:
            copy_buffer_values(self.ema_model, student)

    @torch.no_grad()
    def predict(self, img, img_metas):
        """Teacher softmax N×C×H×W (train-mode BN, no dropout / drop-path)."""
        disable_stochastic_layers(self.ema_model)
        with self.autocast():
            if hasattr(self.ema_model, 'generate_pseudo_label'):
                logits = self.ema_model.generate_pseudo_label(img, img_metas)
            else:
                logits = self.ema_model.encode_decode(img, img_metas)
        return F.softmax(at_least_float32(logits.detach()), dim=1)

    @torch.no_grad()
    def pseudo_label(self, img, img_metas, valid_pseudo_mask=None):
        """Pseudo-label ŷ (N×H×W long) and its weight q (N×H×W float).

        q = fraction of pixels whose confidence ≥ ``pseudo_threshold`` (one scalar per batch,
        kept on the device), zeroed in the cropped rows (v1) and outside
        ``valid_pseudo_mask`` (N×1×H×W, v2).
        """
        probs = self.predict(img, img_metas)
        confidence, label = torch.max(probs, dim=1)
        weight = pseudo_weight(confidence, self.pseudo_threshold)
        weight = crop_pseudo_weight(weight, self.ignore_top, self.ignore_bottom,
                                    valid_pseudo_mask)
        return label, weight


def pseudo_weight(confidence, threshold):
    """confidence: N×H×W → weight map N×H×W, all equal to the fraction ≥ threshold."""
    if threshold is None:
        return torch.ones_like(confidence)
    fraction = confidence.ge(threshold).float().mean()
    return fraction * torch.ones_like(confidence)


def crop_pseudo_weight(weight, ignore_top=0, ignore_bottom=0, valid_pseudo_mask=None):
    """Pseudo-label cropping: v1 zeroes the top/bottom rows, v2 multiplies by the mask."""
    if ignore_top > 0:
        weight[:, :ignore_top, :] = 0
    if ignore_bottom > 0:
        weight[:, -ignore_bottom:, :] = 0
    if valid_pseudo_mask is not None:
        weight = weight * valid_pseudo_mask.squeeze(1)
    return weight
