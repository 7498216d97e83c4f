"""Per-channel colour statistics of image folders: how close a translated source set is
to the target set (ProCST, SPEC-more-uda.md §4.6)."""
import os
import os.path as osp

import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg')


def image_files(folder):
    """Image paths under ``folder`` (recursively, hidden files left out) relative to it,
    sorted."""
    found = []
    for root, _, names in os.walk(folder):
        for name in names:
            if name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith('.'):
                found.append(osp.relpath(osp.join(root, name), folder))
    return sorted(found)


def channel_statistics(folder):
    """Mean and standard deviation of R, G and B (0-255) over all pixels of all images
    under ``folder``: ``dict(mean=[3], std=[3], images=count)``."""
    import mmcv
    total, total_sq, pixels, count = np.zeros(3), np.zeros(3), 0, 0
    for name in image_files(folder):
        image = mmcv.imread(osp.join(folder, name), channel_order='rgb').reshape(-1, 3)
        image = image.astype(np.float64)
        total += image.sum(0)
        total_sq += (image ** 2).sum(0)
        pixels += len(image)
        count += 1
    if count == 0:
        raise FileNotFoundError(f'no images ({", ".join(IMAGE_SUFFIXES)}) under {folder}')
    mean = total / pixels
    std = np.sqrt(np.maximum(total_sq / pixels - mean ** 2, 0))
    return dict(mean=mean.tolist(), std=std.tolist(), images=count)


def statistics_distance(a, b):
    """sqrt(sum_c (mean_a - mean_b)^2 + (std_a - std_b)^2) of two ``channel_statistics``."""
    return float(np.sqrt(sum((x - y) ** 2 for key in ('mean', 'std')
                             for x, y in zip(a[key], b[key]))))
