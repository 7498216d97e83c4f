import torch.nn as nn

from mmseg.ops import resize


class MLP(nn.Module):
    """Per-pixel linear projection: B×C×H×W map → B×(H·W)×embed_dim tokens."""

    def __init__(self, input_dim=2048, embed_dim=768):
        super().__init__()
        self.proj = nn.Linear(input_dim, embed_dim)

    def forward(self, x):
        return self.proj(x.flatten(2).transpose(1, 2).contiguous())


def embed_levels(embed_layers, inputs, in_index, align_corners=False):
    """Embed each selected level and bring it to level 0's (stride-4) size.

    ``embed_layers[str(i)]`` maps N×C_i×H_i×W_i to a map or to N×(H_i·W_i)×D tokens (MLP);
    tokens are reshaped back to N×D×H_i×W_i. Returns the list of N×D×H_0×W_0 maps.
    """
    n = inputs[-1].shape[0]
    os_size = inputs[0].size()[2:]
    embedded = []
    for i in in_index:
        e = embed_layers[str(i)](inputs[i])
        if e.dim() == 3:  # tokens from the mlp embedding
            e = e.permute(0, 2, 1).contiguous().reshape(
                n, -1, inputs[i].shape[2], inputs[i].shape[3])
        if e.size()[2:] != os_size:
            e = resize(e, size=os_size, mode='bilinear', align_corners=align_corners)
        embedded.append(e)
    return embedded
