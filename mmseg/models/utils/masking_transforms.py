"""Block masks of MIC (masked image consistency)."""
import torch

from mmseg.ops import resize


class BlockMaskGenerator:
    """Random patch mask: a grid of ``round(H/b) × round(W/b)`` uniform draws, blocks kept
    where the draw exceeds ``mask_ratio``, upsampled to H×W with ``resize`` (nearest), so
    whole blocks are kept or dropped."""

    def __init__(self, mask_ratio, mask_block_size):
        self.mask_ratio = mask_ratio
        self.mask_block_size = mask_block_size

    @torch.no_grad()
    def generate_mask(self, imgs):
        """imgs: N×C×H×W → mask N×1×H×W of 0/1."""
        n, _, h, w = imgs.shape
        grid = (n, 1, round(h / self.mask_block_size), round(w / self.mask_block_size))
        keep = (torch.rand(grid, device=imgs.device) > self.mask_ratio).float()
        return resize(keep, size=(h, w))

    def mask_image(self, imgs):
        return imgs * self.generate_mask(imgs)


def build_mask_generator(cfg):
    cfg = dict(cfg)
    mask_type = cfg.pop('type')
    if mask_type != 'block':
        raise ValueError(f"mask_generator.type must be 'block', got {mask_type!r}")
    return BlockMaskGenerator(**cfg)
