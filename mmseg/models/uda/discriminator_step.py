"""The training step of the adversarial wrappers (AdvSeg, CondAdvSeg): the segmentor with
the runner's optimizer, the discriminator ``model_D`` with its own ``optimizer_D``
(checkpointed and restored by mmseg.core.training_state as an extra optimizer)."""
import torch

from mmseg.models.utils.gradient_sync import average_gradients


def poly_lr(base_lr, iteration, max_iters, power, min_lr=0.0):
    return (base_lr - min_lr) * (1 - iteration / max_iters) ** power + min_lr


class DiscriminatorStep:
    """Mixin of a :class:`UDADecorator` holding ``model_D``: an Adam ``optimizer_D``
    (β = 0.9, 0.99) with poly learning-rate decay, stepped in :meth:`train_step`."""

    def init_discriminator_optimizer(self, lr_D, lr_D_power=0.9, lr_D_min=0):
        self.lr_D, self.lr_D_power, self.lr_D_min = lr_D, lr_D_power, lr_D_min
        self.optimizer_D = torch.optim.Adam(self.model_D.parameters(), lr=lr_D,
                                            betas=(0.9, 0.99))

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
