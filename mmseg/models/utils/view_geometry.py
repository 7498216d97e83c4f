"""The weak target view of CPSL (SPEC-more-uda.md §2.2 steps 2-3): a random resize, crop
and horizontal flip of the full target image, recorded per sample so that any map of the
full image — the image itself, P_ST, the teacher's features, at any resolution — is taken
to the same view (the official ``full2weak``)."""
from typing import NamedTuple, Tuple

import numpy as np
import torch
import torch.nn.functional as F


class ViewGeometry(NamedTuple):
    """One sample's weak view, in pixels of the full image resized by ``scale``: the crop
    ``size`` (h, w) at (``top``, ``left``), then mirrored when ``flip``. A crop reaching
    past the resized image is padded (marked invalid by :func:`full2weak`)."""
    scale: float
    top: int
    left: int
    size: Tuple[int, int]
    flip: bool


def sample_weak_geometry(full_size, crop_size, ratio_range, flip_prob=0.5):
    """A random :class:`ViewGeometry` (numpy RNG): scale ~ U(ratio_range), crop placed
    uniformly inside the resized image (at the top-left corner when it does not fit).

    full_size, crop_size: (h, w) of the full image and of the view."""
    scale = float(np.random.uniform(*ratio_range))
    ch, cw = crop_size
    max_top = max(int(full_size[0] * scale) - ch, 0)
    max_left = max(int(full_size[1] * scale) - cw, 0)
    top = int(np.random.randint(max_top + 1))
    left = int(np.random.randint(max_left + 1))
    return ViewGeometry(scale, top, left, (ch, cw), bool(np.random.rand() < flip_prob))


def view_grid(geometry, full_size, out_size, device):
    """The sampling grid 1×h'×w'×2 (``grid_sample``, align_corners=False) of a view at
    ``out_size`` from a map of the full image (any resolution: coordinates are relative).

    Output x in [-1, 1] spans the crop; crop pixel u = (x+1)/2·w_c (mirrored: w_c − u);
    resized-image pixel left + u; full-image pixel (left + u)/scale."""
    full_h, full_w = full_size
    ch, cw = geometry.size
    ax = cw / (full_w * geometry.scale)
    ay = ch / (full_h * geometry.scale)
    bx = (cw + 2 * geometry.left) / (full_w * geometry.scale) - 1
    by = (ch + 2 * geometry.top) / (full_h * geometry.scale) - 1
    theta = torch.tensor([[[-ax if geometry.flip else ax, 0., bx], [0., ay, by]]],
                         dtype=torch.float32, device=device)
    return F.affine_grid(theta, (1, 1, *out_size), align_corners=False)


def full2weak(maps, geometries, full_size, stride=1, mode='bilinear'):
    """Take maps of the full images to their weak views.

    Args:
        maps: N×C×h×w at 1/``stride`` of the full image (h = full_h / stride).
        geometries: N :class:`ViewGeometry`.
        full_size: (full_h, full_w) of the images the geometries refer to.
    Returns:
        views N×C×(h_c/stride)×(w_c/stride) (zeros outside the resized image) and their
        validity N×(h_c/stride)×(w_c/stride) (bool).
    """
    views, valid = [], []
    for i, geometry in enumerate(geometries):
        out_size = (geometry.size[0] // stride, geometry.size[1] // stride)
        grid = view_grid(geometry, full_size, out_size, maps.device)
        views.append(F.grid_sample(maps[i:i + 1].float(), grid.to(torch.float32), mode=mode,
                                   padding_mode='zeros', align_corners=False))
        # Pixel centres inside the full image (with a rounding margin).
        valid.append((grid.abs() <= 1 + 1e-6).all(-1))
    return torch.cat(views).to(maps.dtype), torch.cat(valid)
