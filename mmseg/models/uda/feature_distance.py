"""Thing-class ImageNet feature distance (DAFormer Sec. 3.4)."""
import torch
import torch.nn.functional as F


def downscale_label_ratio(gt, scale_factor, min_ratio, n_classes, ignore_index=255):
    """Ratio pooling of a label map: N×1×H×W → N×1×(H/s)×(W/s).

    One-hot (ignore as an extra class), average-pool with kernel = stride = s, arg-max;
    cells whose winning class covers less than ``min_ratio`` become ``ignore_index``.
    """
    assert scale_factor > 1, scale_factor
    n, c, h, w = gt.shape
    assert c == 1, gt.shape
    labels = gt.clone().squeeze(1)
    labels[labels == ignore_index] = n_classes
    one_hot = F.one_hot(labels, num_classes=n_classes + 1).permute(0, 3, 1, 2).float()
    ratio, out = torch.max(F.avg_pool2d(one_hot, kernel_size=scale_factor), dim=1, keepdim=True)
    out[out == n_classes] = ignore_index
    out[ratio < min_ratio] = ignore_index
    return out


def masked_feature_distance(feat, feat_ref, mask=None):
    """Mean over (masked) cells of ‖feat − feat_ref‖₂ over channels; 0 for an empty mask.

    feat, feat_ref: N×C×h×w; mask: N×h×w bool or None. Dividing by ``max(count, 1)`` equals
    the mean when cells exist, and avoids the original's NaN (without gradient) otherwise.
    """
    dist = torch.norm(feat - feat_ref, dim=1, p=2)
    if mask is None:
        return dist.mean()
    mask = mask.to(dist.dtype)
    return (dist * mask).sum() / mask.sum().clamp(min=1)


def thing_class_mask(gt, feat_width, min_ratio, n_classes, classes):
    """Cells of the ratio-pooled label (to the feature resolution) in ``classes``.

    gt: N×1×H×W → (mask N×h×w bool, pooled label N×1×h×w)."""
    scale = gt.shape[-1] // feat_width
    pooled = downscale_label_ratio(gt, scale, min_ratio, n_classes).long()
    classes = torch.as_tensor(classes, device=gt.device)
    return torch.isin(pooled.squeeze(1), classes), pooled
