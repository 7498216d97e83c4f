"""Crop boxes ``(y1, y2, x1, x2)`` used by HRDA's detail crop."""
import numpy as np


def get_crop_bbox(img_h, img_w, crop_size, divisible=1):
    """Random box of ``crop_size`` inside an img_h×img_w image whose offsets are multiples
    of ``divisible`` (numpy's global RNG: y offset first, then x)."""
    margin_h = max(img_h - crop_size[-2], 0)
    margin_w = max(img_w - crop_size[-1], 0)
    offset_h = np.random.randint(0, max((margin_h + 1) // divisible, 1)) * divisible
    offset_w = np.random.randint(0, max((margin_w + 1) // divisible, 1)) * divisible
    return offset_h, offset_h + crop_size[0], offset_w, offset_w + crop_size[1]


def crop(tensor, box):
    """Crop the last two dims of a ≥2-D tensor to ``box``."""
    y1, y2, x1, x2 = box
    return tensor[..., y1:y2, x1:x2]


def scale_box(box, scale):
    """Box in pixels of a map ``scale`` times smaller (integer division)."""
    y1, y2, x1, x2 = box
    return int(y1 / scale), int(y2 / scale), int(x1 / scale), int(x2 / scale)
