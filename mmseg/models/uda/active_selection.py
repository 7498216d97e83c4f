"""RIPU's region selection (Xie et al., CVPR 2022; SPEC-more-uda.md §3.2 steps 1-4).

Region impurity × prediction uncertainty scores every pixel of a target image; a greedy
arg-max with suppression picks the regions (RA) or pixels (PA) whose labels are queried.
"""
import math

import torch
import torch.nn.functional as F

# The official code normalises both entropies by log 19, also for Synthia's 16 classes.
ENTROPY_NORM_CLASSES = 19
EPS = 1e-6


def box_sum(maps, radius):
    """Sum over the (2·radius+1)² window around every pixel, zero outside the image.

    maps: C×H×W → C×H×W (float64 integral image, exact for counts).
    """
    padded = F.pad(maps.double(), (radius + 1, radius, radius + 1, radius))
    integral = padded.cumsum(1).cumsum(2)
    size = 2 * radius + 1
    return (integral[:, size:, size:] - integral[:, :-size, size:]
            - integral[:, size:, :-size] + integral[:, :-size, :-size])


def _window_class_counts(logits, radius_k):
    """Per class, the pixels of the window predicted as that class (K×H×W float64) and
    the in-image pixels of the window (H×W). logits: 1×K×H×W."""
    num_classes = logits.shape[1]
    one_hot = F.one_hot(logits[0].argmax(0), num_classes).permute(2, 0, 1)
    counts = box_sum(one_hot, radius_k)
    return counts, counts.sum(0)


def _impurity(counts, total):
    """−Σ_c (n_c/n)·log(n_c/n + 1e-6) over the window class counts (unnormalised)."""
    freq = counts / total
    return -(freq * torch.log(freq + EPS)).sum(0)


def _entropy(probs):
    """−Σ_c p·log(p + 1e-6), natural log (unnormalised). probs: K×H×W → H×W."""
    return -(probs * torch.log(probs + EPS)).sum(0)


def region_scores(logits, radius_k, norm_classes=ENTROPY_NORM_CLASSES):
    """Region-based acquisition score (RA).

    Args:
        logits (Tensor): 1×K×H×W, at the size whose pixels are labelled.
        radius_k (int): k of the (2k+1)² window.
        norm_classes (int): both entropies are divided by log(norm_classes).
    Returns:
        tuple: ``score`` = uncertainty × impurity, ``impurity`` (entropy of the predicted
        class frequencies of the window) and ``uncertainty`` (mean normalised pixel entropy
        of the window), each H×W float64; border windows are normalised by their number of
        in-image pixels.
    """
    probs = F.softmax(logits.double(), dim=1)[0]
    counts, total = _window_class_counts(logits, radius_k)
    impurity = _impurity(counts, total) / math.log(norm_classes)
    entropy = _entropy(probs) / math.log(norm_classes)
    uncertainty = box_sum(entropy[None], radius_k)[0] / total
    return uncertainty * impurity, impurity, uncertainty


def pixel_scores(logits, radius_k):
    """Pixel-based acquisition score (PA): pixel entropy × impurity of the (2k+1)² window,
    both natural-log and unnormalised. logits: 1×K×H×W → H×W float64."""
    probs = F.softmax(logits.double(), dim=1)[0]
    counts, total = _window_class_counts(logits, radius_k)
    return _entropy(probs) * _impurity(counts, total)


def _window(mask, y, x, radius):
    """The (2·radius+1)² window of ``mask`` around (y, x), clipped to the image."""
    return mask[max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1]


def select_regions(score, active, num_regions, label_radius, suppress_radius):
    """Greedy selection: ``num_regions`` times take the arg-max of ``score`` (first maximum
    in row-major order, as ``torch.max`` of the flattened map), label its
    (2·label_radius+1)² window and exclude its (2·suppress_radius+1)² window from later
    picks; pixels already ``active`` are never picked. Stops early when every pixel is
    excluded.

    Args:
        score (Tensor): H×W.
        active (Tensor): H×W bool, the pixels excluded by earlier rounds (not modified).
        num_regions (int): picks of this round.
        label_radius (int): 1 for RA (3×3 regions), 0 for PA (single pixels).
        suppress_radius (int): 2k for RA, k for PA.
    Returns:
        tuple: ``selected`` (H×W bool, the pixels to label) and the updated ``active``.
    """
    score = score.clone()
    active = active.clone()
    selected = torch.zeros_like(active)
    score[active] = -math.inf
    width = score.shape[1]
    for _ in range(num_regions):
        best, index = score.view(-1).max(0)
        if best.item() == -math.inf:
            break
        y, x = divmod(index.item(), width)
        _window(selected, y, x, label_radius)[...] = True
        _window(score, y, x, suppress_radius)[...] = -math.inf
        _window(active, y, x, suppress_radius)[...] = True
    return selected, active


def regions_per_round(mode, height, width, rounds, ratio=0.022, pixels=40, radius_k=1,
                      select_size=None):
    """Picks per image and round (SPEC §3.2): RA ⌈H·W·ratio/rounds/(2k+1)²⌉ at the labelled
    (original) size H×W; PA ⌈pixels/rounds · H·W/(h·w)⌉ with ``select_size`` = (h, w) the
    size the network sees (the official 40 pixels are per 1280×640 input)."""
    if mode == 'RA':
        return math.ceil(height * width * ratio / rounds / (2 * radius_k + 1) ** 2)
    if mode == 'PA':
        select_h, select_w = select_size or (height, width)
        return math.ceil(pixels / rounds * height * width / (select_h * select_w))
    raise ValueError(f"active selection: mode must be 'RA' or 'PA', got {mode!r}")
