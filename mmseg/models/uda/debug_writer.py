"""Debug image grids of the UDA step, written every ``img_interval`` iterations.

Kept out of the training logic: the step hands over a *callable* that builds the panels,
so nothing is computed (no host copies) on iterations where nothing is written.
"""
import os

import numpy as np
import torch

from mmseg.utils.visualization import colorize


def denormalize(img, img_norm_cfg):
    """img: 3×H×W normalised tensor → H×W×3 float RGB in [0, 1]."""
    mean = torch.as_tensor(img_norm_cfg['mean'], dtype=torch.float32).view(3, 1, 1)
    std = torch.as_tensor(img_norm_cfg['std'], dtype=torch.float32).view(3, 1, 1)
    img = img.detach().float().cpu() * std + mean
    return (img / 255.).clamp(0, 1).permute(1, 2, 0).numpy()


def to_panel(value, kind, img_norm_cfg, palette):
    """One sample of a panel: kind 'image' (3×H×W), 'label' (H×W ids) or 'map' (H×W)."""
    if kind == 'image':
        return denormalize(value, img_norm_cfg), {}
    # Not squeeze(): a map of tiny crops can be 1×1 (e.g. the FD mask at stride 32).
    value = value.detach().float().cpu().reshape(value.shape[-2:]).numpy()
    if kind == 'label':
        return colorize(value.astype(np.int64), palette), {}
    return value, dict(cmap='viridis', vmin=0, vmax=1)


class DebugImageWriter:
    """Writes ``<work_dir>/debug/<iter>_<sample>.png`` grids of named panels.

    Args:
        work_dir (str | None): run folder (no output when None).
        interval (int): write on iterations where ``iteration % interval == 0``.
    """

    def __init__(self, work_dir, interval, max_samples=2):
        self.out_dir = os.path.join(work_dir, 'debug') if work_dir else None
        self.interval = interval
        self.max_samples = max_samples

    def due(self, iteration):
        return bool(self.out_dir) and bool(self.interval) and iteration % self.interval == 0

    def maybe_write(self, iteration, make_panels, img_norm_cfg, palette):
        """``make_panels()`` → list of (title, kind, N×… tensor); called only when due."""
        if not self.due(iteration):
            return []
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        panels = [p for p in make_panels() if p[2] is not None]
        os.makedirs(self.out_dir, exist_ok=True)
        written = []
        batch = min(self.max_samples, len(panels[0][2]))
        cols = min(len(panels), 5)
        rows = (len(panels) + cols - 1) // cols
        for j in range(batch):
            fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
            for ax in axes.flat:
                ax.axis('off')
            for ax, (title, kind, value) in zip(axes.flat, panels):
                if j >= len(value):  # e.g. MIC 'separate' masks one source + one target
                    continue
                image, style = to_panel(value[j], kind, img_norm_cfg, palette)
                ax.imshow(image, **style)
                ax.set_title(title, fontsize=9)
            path = os.path.join(self.out_dir, f'{iteration + 1:06d}_{j}.png')
            fig.tight_layout()
            fig.savefig(path)
            plt.close(fig)
            written.append(path)
        return written
