"""The pre-activation convolution block of ProCST's generators and critics."""
import torch.nn as nn

# BatchNorm only with enough images per GPU for its statistics (official core/models.py).
MIN_IMAGES_FOR_BATCH_NORM = 16


def procst_norm(channels, images_per_gpu, groups):
    """BatchNorm with >= 16 images per GPU, else GroupNorm(``groups``) when ``channels``
    divides by it, else None (the 3- or 6-channel heads)."""
    if images_per_gpu >= MIN_IMAGES_FOR_BATCH_NORM:
        return nn.BatchNorm2d(channels)
    if channels % groups == 0:
        return nn.GroupNorm(groups, channels, affine=True)
    return None


class ProCSTBlock(nn.Module):
    """norm -> LeakyReLU(0.2) -> conv3x3, or conv3x3 -> LeakyReLU(0.2) without a norm.

    Args:
        in_channels (int), out_channels (int): channels of x and of the output.
        images_per_gpu (int): the batch size of the scale (chooses the norm).
        groups (int): GroupNorm groups.
        kernel_size (int): odd; the padding keeps the resolution.
    Shapes: x N×in×H×W -> N×out×H×W.
    """

    def __init__(self, in_channels, out_channels, images_per_gpu, groups=8, kernel_size=3):
        super().__init__()
        self.norm = procst_norm(in_channels, images_per_gpu, groups)
        self.activation = nn.LeakyReLU(0.2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size,
                              padding=kernel_size // 2)

    def forward(self, x):
        if self.norm is None:
            return self.activation(self.conv(x))
        return self.conv(self.activation(self.norm(x)))


def init_procst_weights(module):
    """Convolutions N(0, 0.02), affine norms N(1, 0.02) with zero bias (official init)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
