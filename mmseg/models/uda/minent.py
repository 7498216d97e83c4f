import math

import torch
import torch.nn.functional as F

from mmseg.models.builder import UDA
from mmseg.models.utils.precision import at_least_float32

from .target_losses_base import TargetLossUDA


def normalized_entropy(probs):
    """Mean over pixels of −Σ p·log p / log C (ADVENT's entropy loss). probs: N×C×H×W."""
    entropy = -(probs * torch.log(probs + 1e-30)).sum(dim=1)
    return entropy.mean() / math.log(probs.shape[1])


@UDA.register_module()
class MinEnt(TargetLossUDA):
    """Source CE + entropy minimisation of the target prediction (Vu et al., ADVENT).

    ``lambda_ent``: dict with the weight of the ``main`` output (``aux`` for auxiliary heads).
    """

    def __init__(self, model, lambda_ent=None, **kwargs):
        super().__init__(model, **kwargs)
        self.lambda_ent = dict(lambda_ent or dict(main=0.001))

    def train_target(self, img, img_metas, target_img, target_img_metas):
        with self.autocast():
            logits = self.get_model().encode_decode(target_img, target_img_metas)
        loss = self.lambda_ent['main'] * normalized_entropy(F.softmax(at_least_float32(logits), dim=1))
        return self._backward({'loss_ent': loss}, 'trg')
