import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.models.builder import UDA
from mmseg.models.utils.gradient_sync import average_gradients
from mmseg.models.utils.precision import at_least_float32

from .fc_discriminator import FCDiscriminator
from .target_losses_base import TargetLossUDA

SOURCE_LABEL, TARGET_LABEL = 0.0, 1.0


def poly_lr(base_lr, iteration, max_iters, power, min_lr=0.0):
    return (base_lr - min_lr) * (1 - iteration / max_iters) ** power + min_lr


@UDA.register_module()
class AdvSeg(TargetLossUDA):
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
        self.lr_D, self.lr_D_power, self.lr_D_min = lr_D, lr_D_power, lr_D_min
        self.optimizer_D = torch.optim.Adam(self.model_D.parameters(), lr=lr_D,
                                            betas=(0.9, 0.99))

    def domain_loss(self, d_out, label):
        return self.loss_fn(d_out, torch.full_like(d_out, label))

    def train_step(self, data_batch, optimizer, **kwargs):
        """Segmentor and discriminator steps. The runner's optimizer covers the whole module,
        so the discriminator's gradients are cleared after its own (Adam) step."""
        optimizer.zero_grad()
        self.optimizer_D.zero_grad()
        for group in self.optimizer_D.param_groups:
            group['lr'] = poly_lr(self.lr_D, self.local_iter, self.max_iters or 1,
                                  self.lr_D_power, self.lr_D_min)
        buffers = self.buffers_before_step()
        log_vars = self(**data_batch)
        if not self.losses_are_finite(log_vars, self.local_iter, buffers):
            optimizer.zero_grad(set_to_none=True)
            self.optimizer_D.zero_grad(set_to_none=True)
            return dict(log_vars=log_vars, num_samples=len(data_batch['img_metas']))
        average_gradients(self.model_D)  # no-op unless distributed
        average_gradients(self.get_model())
        self.precision.step(self.optimizer_D, update=False)
        self.model_D.zero_grad(set_to_none=True)
        self.precision.step(optimizer)
        return dict(log_vars=log_vars, num_samples=len(data_batch['img_metas']))

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
