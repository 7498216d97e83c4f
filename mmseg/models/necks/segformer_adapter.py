import torch.nn as nn

from mmseg.models.builder import NECKS
from mmseg.ops import resize


@NECKS.register_module()
class SegFormerAdapter(nn.Module):
    """Weight-free neck: upsample selected levels by ``scales`` (bilinear) in place.

    With ``out_layers=[3], scales=[8]`` the stride-32 map is brought to (about) stride 4; its
    size can differ from level 0's, the decoder resizes it.
    """

    def __init__(self, out_layers=(3,), scales=(8,)):
        super().__init__()
        self.out_layers = list(out_layers)
        self.scales = list(scales)

    def forward(self, x):
        """x: list of N×C_i×H_i×W_i → same list with the ``out_layers`` entries resized."""
        x = list(x)
        for i, scale in zip(self.out_layers, self.scales):
            if scale != 1:
                x[i] = resize(x[i], scale_factor=scale, mode='bilinear', align_corners=False)
        return x
