"""Label distributions of "Undoing the Damage of Label Shift" (Liu et al., CVPR 2022;
SPEC-more-uda.md §1.2 steps 7-8): image-level class priors of the labelled source and,
from the model's softmax maps, of the unlabelled target.

Label input (``label_maps_or_stats``) is either a list of ``sample_class_stats.json``
entries (``{'0': pixels, '5': pixels, ..., 'file': ...}``, as the dataset converters
write them) or label maps (a list of H×W tensors or one N×H×W tensor, ``ignore_index``
pixels not counted).
"""
import torch

IGNORE_INDEX = 255


def class_pixel_counts(label_maps_or_stats, num_classes, ignore_index=IGNORE_INDEX):
    """Pixels of each class per image: M×K float64 tensor."""
    rows = []
    for item in label_maps_or_stats:
        if isinstance(item, dict):
            row = torch.zeros(num_classes, dtype=torch.float64)
            for key, pixels in item.items():
                if key != 'file' and 0 <= int(key) < num_classes:
                    row[int(key)] = float(pixels)
        else:
            labels = torch.as_tensor(item).reshape(-1).long()
            labels = labels[(labels != ignore_index) & (labels >= 0) & (labels < num_classes)]
            row = torch.bincount(labels, minlength=num_classes).double()
        rows.append(row)
    if not rows:
        raise ValueError('class_pixel_counts: no label maps or class statistics given')
    return torch.stack(rows)


def presence_counts(pixel_counts, min_pixels):
    """Σ_i I^i(k) with I^i(k) = 1[pixels of k in image i > min_pixels] (n_s; 0 counts any
    pixel). pixel_counts: M×K → K float64."""
    return (pixel_counts > min_pixels).double().sum(0)


def normalised_prior(counts, pseudo_count=0.0):
    """(counts + pseudo_count) / Σ: K class probabilities. A pseudo-count keeps classes
    seen in no image positive (log P_s, log P_t must be finite)."""
    counts = torch.as_tensor(counts, dtype=torch.float64) + pseudo_count
    total = counts.sum()
    if total <= 0:
        raise ValueError('normalised_prior: all counts are zero (no class present in any '
                         'image); give a pseudo_count > 0')
    return counts / total


def source_label_prior(label_maps_or_stats, num_classes, min_pixels, pseudo_count=0.0):
    """P_s (K, sums to 1): the share of (image, class) presences, a class being present in
    an image when it has more than ``min_pixels`` (n_s) pixels there (step 7)."""
    counts = presence_counts(class_pixel_counts(label_maps_or_stats, num_classes), min_pixels)
    return normalised_prior(counts, pseudo_count)


def pixel_frequency(label_maps_or_stats, num_classes):
    """Pixel-level class frequency p_pix (K, sums to 1) — the target presence threshold."""
    return normalised_prior(class_pixel_counts(label_maps_or_stats, num_classes).sum(0))


def target_presence_scores(prob_maps):
    """score_i(k) = log(mean over the H·W pixels of exp(p_i[k])) (step 8, Eq. 17 on the
    softmax probabilities, divided by each map's own size). prob_maps: N×K×H×W → N×K."""
    probs = prob_maps.double().flatten(2)
    return torch.logsumexp(probs, dim=2) - torch.log(probs.new_tensor(probs.shape[2]))


def target_presence(prob_maps, pixel_freq):
    """I_t^i(k) = 1[score_i(k) > p_pix(k)]: N×K bool. A class without source pixels
    (p_pix = 0) is never counted: any non-zero probability would count it in every image
    (the official rule assumes every class occurs in the source)."""
    pixel_freq = torch.as_tensor(pixel_freq, dtype=torch.float64, device=prob_maps.device)
    return (target_presence_scores(prob_maps) > pixel_freq) & (pixel_freq > 0)


def target_label_prior(prob_maps, pixel_freq, pseudo_count=0.0):
    """P_t (K, sums to 1) from the softmax maps N×K×H×W of the target images."""
    counts = target_presence(prob_maps, pixel_freq).double().sum(0).cpu()
    return normalised_prior(counts, pseudo_count)
