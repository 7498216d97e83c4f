import torch.nn as nn


class MLP(nn.Module):
    """Per-pixel linear projection: B×C×H×W map → B×(H·W)×embed_dim tokens."""

    def __init__(self, input_dim=2048, embed_dim=768):
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim)

    def forward(self, x):
        return self.proj(x.flatten(2).transpose(1, 2).contiguous())
