import torch
import torch.nn as nn
import torch.nn.functional as F


class PixelDiscriminator(nn.Module):
    """Class-conditional pixel discriminator of FADA (Wang et al., ECCV 2020), as used by
    Liu et al. (CVPR 2022, SPEC-more-uda.md §1.2 step 4): two 3×3 convs (``ndf``, ndf/2
    channels, LeakyReLU 0.2) and two 3×3 class heads, one per domain.

    x: N×in_channels×h×w features → N×2K×h×w logits (source classes, then target
    classes), bilinearly resized to ``size`` when given.
    """

    def __init__(self, in_channels, num_classes, ndf=256):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, ndf, kernel_size=3, padding=1),
            nn.LeakyReLU(negative_slope=0.2, inplace=True),
            nn.Conv2d(ndf, ndf // 2, kernel_size=3, padding=1),
            nn.LeakyReLU(negative_slope=0.2, inplace=True))
        self.source_head = nn.Conv2d(ndf // 2, num_classes, kernel_size=3, padding=1)
        self.target_head = nn.Conv2d(ndf // 2, num_classes, kernel_size=3, padding=1)

    def forward(self, x, size=None):
        x = self.body(x)
        out = torch.cat([self.source_head(x), self.target_head(x)], dim=1)
        if size is not None:
            out = F.interpolate(out, size=size, mode='bilinear', align_corners=True)
        return out


def soft_domain_label(soft_label, domain):
    """[a, 0] (``domain`` 0, source half) or [0, a] (1, target half): N×K×H×W → N×2K×H×W."""
    zeros = torch.zeros_like(soft_label)
    return torch.cat([soft_label, zeros] if domain == 0 else [zeros, soft_label], dim=1)


def soft_label_loss(d_logits, soft_target):
    """ℓ(D, q) = mean over pixels of −Σ_{2K} q·log_softmax(D) (step 4). Both N×2K×H×W."""
    return -(soft_target * F.log_softmax(d_logits, dim=1)).sum(dim=1).mean()
