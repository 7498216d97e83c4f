"""A download-free stand-in for VGG16 in ProCST's style/content loss (SynthShift)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .builder import TRANSLATION


@TRANSLATION.register_module()
class RandomConvFeatures(nn.Module):
    """A fixed, randomly initialised VGG-like extractor: per stage one conv3x3 + ReLU, 2x
    max-pooling between stages; stage k's output is named ``layers[k]`` (VGG16's names,
    so that a config only swaps the type). Random conv features still carry texture and
    colour statistics for Gram matrices; they are not ImageNet features.

    Args:
        layers (list[str]): stage names, shallow to deep.
        channels (list[int]): width per stage.
        seed (int): the fixed weights (He-normal) come from this seed only.
    Shapes: image N×3×H×W -> {name: N×C_k×H/2^k×W/2^k}.
    """

    STAND_IN = 'a fixed random conv feature extractor'

    def __init__(self, layers=('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'),
                 channels=(16, 32, 64, 64), seed=0):
        super().__init__()
        if len(layers) != len(channels):
            raise ValueError(f'RandomConvFeatures: one channel count per layer, got layers '
                             f'{list(layers)} and channels {list(channels)}')
        generator = torch.Generator().manual_seed(seed)
        self.layers = list(layers)
        self.convs = nn.ModuleList()
        in_channels = 3
        for out_channels in channels:
            conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator)
                                  * (2.0 / (9 * in_channels)) ** 0.5)
                conv.bias.zero_()
            self.convs.append(conv)
            in_channels = out_channels
        self.requires_grad_(False)

    def forward(self, image):
        out, x = {}, image
        for k, (name, conv) in enumerate(zip(self.layers, self.convs)):
            if k > 0:
                x = F.max_pool2d(x, 2)
            x = F.relu(conv(x))
            out[name] = x
        return out
