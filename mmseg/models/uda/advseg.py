import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.models.builder import UDA
from mmseg.models.utils.precision import at_least_float32

from .discriminator_step import DiscriminatorStep
from .fc_discriminator import FCDiscriminator
from .target_losses_base import TargetLossUDA

SOURCE_LABEL, TARGET_LABEL = 0.0, 1.0


@UDA.register_module()
class AdvSeg(DiscriminatorStep, TargetLossUDA):
    """Output-space adversarial adaptation (Tsai et al., AdaptSegNet).

    The segmentor (config optimizer, SGD in the paper set-up) learns to make target softmax
    maps look like source ones to ``model_D.main`` (an :class:`FCDiscriminator` trained with
    its own Adam, lr ``lr_D`` with poly decay). ``discriminator_type``: 'LS' (least squares)
    or 'Vanilla' (BCE).
    """

    def __init__(self, model, discriminator_type='LS', lambda_adv_target=None, lr_D=1e-4,
                 lr_D_power=0.9, lr_D_min=0, **kwargs):
        super().__init__(model, **kwargs)
        if discriminator_type not in ('LS', 'Vanilla'):
            raise ValueError(f"AdvSeg: discriminator_type must be 'LS' or 'Vanilla', "
                             f'got {discriminator_type!r}')
        self.lambda_adv = dict(lambda_adv_target or dict(main=0.001))
        self.model_D = nn.ModuleDict({'main': FCDiscriminator(self.num_classes)})
        self.loss_fn = nn.MSELoss() if discriminator_type == 'LS' else nn.BCEWithLogitsLoss()
        self.init_discriminator_optimizer(lr_D, lr_D_power, lr_D_min)

    def domain_loss(self, d_out, label):
        return self.loss_fn(d_out, torch.full_like(d_out, label))

    def train_target(self, img, img_metas, target_img, target_img_metas):
        student = self.get_model()
        self.model_D.requires_grad_(False)
        with self.autocast():
            trg_logits = student.encode_decode(target_img, target_img_metas)
        trg_prob = F.softmax(at_least_float32(trg_logits), dim=1)
        adv = self.lambda_adv['main'] * self.domain_loss(self.model_D['main'](trg_prob),
                                                         SOURCE_LABEL)
        log_vars = self._backward({'loss_adv': adv}, 'trg')
        self.model_D.requires_grad_(True)
        with torch.no_grad(), self.autocast():
            src_prob = F.softmax(at_least_float32(student.encode_decode(img, img_metas)),
                                 dim=1)
        d_loss = 0.5 * (self.domain_loss(self.model_D['main'](src_prob), SOURCE_LABEL)
                        + self.domain_loss(self.model_D['main'](trg_prob.detach()),
                                           TARGET_LABEL))
        log_vars.update(self._backward({'loss_d': d_loss}, 'D'))
        return log_vars
