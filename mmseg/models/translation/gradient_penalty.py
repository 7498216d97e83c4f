"""WGAN-GP gradient penalty of ProCST's critics (SPEC-more-uda.md §4.2 step 3)."""
import torch
from torch import autograd


def gradient_penalty(critic, real, fake, weight=0.1):
    """``weight * mean_{n,pixel} (||dD(x_hat)/dx_hat||_2 over channels - 1)^2`` with
    ``x_hat = a real + (1 - a) fake`` and one uniform ``a`` for the whole batch (official
    ``calc_gradient_penalty``).

    Args:
        critic (nn.Module): N×3×H×W -> N×1×H×W score map.
        real, fake (Tensor): N×3×H×W; ``fake`` is detached here.
    Returns:
        Tensor: scalar, differentiable w.r.t. the critic's parameters.
    """
    alpha = torch.rand((), device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    grads, = autograd.grad(scores.sum(), mixed, create_graph=True)
    return weight * ((grads.norm(2, dim=1) - 1) ** 2).mean()
