"""The self-labeling head f_SL of CPSL (SPEC-more-uda.md §2.2): K class prototypes in the
pre-classifier feature space and their EMA copy; cosine logits with a temperature."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class PrototypeHead(nn.Module):
    """``prototypes`` (K×D parameter, trained only by the self-labeling loss) and
    ``prototypes_ema`` (K×D buffer, θ_ema ← α·θ_ema + (1−α)·θ), both from
    ``tools/cpsl_prepare.py``'s class means.

    Its parameter is found by the optimizer's ``paramwise_cfg.custom_keys`` under
    ``prototype_head`` (its own param group; a longer key than the decoder's ``head``, so
    its ``lr_mult`` wins: the official code trains the prototypes at 5x the backbone lr).
    """

    def __init__(self, num_classes, dim, tau=0.08):
        super().__init__()
        self.tau = tau
        self.prototypes = nn.Parameter(torch.zeros(num_classes, dim))
        self.register_buffer('prototypes_ema', torch.zeros(num_classes, dim))

    @torch.no_grad()
    def initialise(self, prototypes):
        """prototypes: K×D (the prepared, L2-normalised class means) → both copies."""
        if prototypes.shape != self.prototypes.shape:
            raise ValueError(f'PrototypeHead: prepared prototypes have shape '
                             f'{tuple(prototypes.shape)}, the head expects '
                             f'{tuple(self.prototypes.shape)} (classes × feature channels)')
        self.prototypes.copy_(prototypes)
        self.prototypes_ema.copy_(prototypes)

    @torch.no_grad()
    def update_ema(self, alpha):
        self.prototypes_ema.mul_(alpha).add_(self.prototypes.detach(), alpha=1 - alpha)

    def similarity(self, vectors, ema=False):
        """Cosine similarity of M×D ``vectors`` (normalised here) to the prototypes → M×K."""
        protos = self.prototypes_ema if ema else self.prototypes
        return F.normalize(vectors, dim=1) @ F.normalize(protos, dim=1).t()

    def forward(self, feat, ema=True):
        """Cosine logits / τ of a feature map N×D×h×w → N×K×h×w (EMA prototypes by default:
        the rectification and the consistency term use them)."""
        n, d, h, w = feat.shape
        sim = self.similarity(feat.permute(0, 2, 3, 1).reshape(-1, d), ema)
        return (sim / self.tau).view(n, h, w, -1).permute(0, 3, 1, 2)
