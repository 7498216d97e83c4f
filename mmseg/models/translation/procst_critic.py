"""The per-scale critic of ProCST (SPEC-more-uda.md §4.2 step 1)."""
import torch.nn as nn

from .builder import TRANSLATION
from .procst_block import ProCSTBlock, init_procst_weights


@TRANSLATION.register_module()
class ProCSTCritic(nn.Module):
    """The generator's layout with a 1-channel tail + LeakyReLU(0.2): a WGAN critic score
    per pixel (a full-resolution patch map).

    Shapes: image N×3×H×W -> N×1×H×W.
    """

    def __init__(self, channels=64, body_blocks=5, images_per_gpu=1, groups=8, kernel_size=3,
                 image_channels=3):
        super().__init__()
        block = dict(images_per_gpu=images_per_gpu, groups=groups, kernel_size=kernel_size)
        self.head = ProCSTBlock(image_channels, channels, **block)
        self.body = nn.Sequential(*[ProCSTBlock(channels, channels, **block)
                                    for _ in range(body_blocks)])
        self.tail = nn.Sequential(ProCSTBlock(channels, 1, **block), nn.LeakyReLU(0.2))
        init_procst_weights(self)

    def forward(self, image):
        return self.tail(self.body(self.head(image)))
