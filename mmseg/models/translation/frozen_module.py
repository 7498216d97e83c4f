"""Base of the translator's fixed networks (feature extractors, loss segmentors)."""
import torch.nn as nn


class FrozenModule(nn.Module):
    """A module that stays in eval mode: ``train()`` of the translator around it leaves
    its BatchNorm statistics and dropout as they are."""

    def train(self, mode=True):
        return super().train(False)
