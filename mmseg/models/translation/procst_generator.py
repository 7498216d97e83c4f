"""The per-scale generator of ProCST (SPEC-more-uda.md §4.2 step 1)."""
import torch
import torch.nn as nn

from .builder import TRANSLATION
from .procst_block import ProCSTBlock, init_procst_weights


@TRANSLATION.register_module()
class ProCSTGenerator(nn.Module):
    """Head block, ``body_blocks`` blocks and a 3-channel tail block + tanh: a full image
    in [-1, 1], not a residual.

    Args:
        scale (int): pyramid level; level 0 sees the image only, later levels also the
            upsampled output of the level below.
        channels (int): width of the blocks.
        body_blocks (int): blocks between head and tail.
        images_per_gpu (int), groups (int): choose the norm (see ``procst_norm``).
    Shapes: image N×3×H×W, previous N×3×H×W (None at scale 0) -> N×3×H×W.
    """

    def __init__(self, scale, channels=64, body_blocks=5, images_per_gpu=1, groups=8,
                 kernel_size=3, image_channels=3):
        super().__init__()
        self.scale = scale
        self.in_channels = image_channels if scale == 0 else 2 * image_channels
        block = dict(images_per_gpu=images_per_gpu, groups=groups, kernel_size=kernel_size)
        self.head = ProCSTBlock(self.in_channels, channels, **block)
        self.body = nn.Sequential(*[ProCSTBlock(channels, channels, **block)
                                    for _ in range(body_blocks)])
        self.tail = nn.Sequential(ProCSTBlock(channels, image_channels, **block), nn.Tanh())
        init_procst_weights(self)

    def forward(self, image, previous=None):
        if self.scale == 0:
            x = image
        else:
            if previous is None:
                raise ValueError(f'ProCSTGenerator of scale {self.scale} needs the '
                                 'upsampled output of the scale below')
            x = torch.cat([image, previous], dim=1)
        return self.tail(self.body(self.head(x)))
