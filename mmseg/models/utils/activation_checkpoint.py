"""Activation checkpointing that keeps training exact: ``fn``'s activations are dropped
after the forward pass and recomputed in the backward pass (``torch.utils.checkpoint``,
non-reentrant, RNG state preserved so dropout / drop-path draw the same masks).

The recomputation runs ``fn`` a second time in train mode, which would update the
BatchNorm running statistics twice; they are restored after it, so the running
statistics, like the gradients, equal those of the plain forward pass.
"""
import torch
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint


def batchnorm_statistics(module):
    """The running-statistics buffers of every BatchNorm layer in ``module``."""
    return [buf for m in module.modules() if isinstance(m, _BatchNorm)
            for buf in (m.running_mean, m.running_var, m.num_batches_tracked)
            if buf is not None]


def checkpointed(module, fn, *args):
    """``fn(*args)`` (a forward of ``module``) with activation checkpointing when autograd
    records (training); a plain call otherwise (no_grad teachers, inference)."""
    if not (torch.is_grad_enabled() and module.training):
        return fn(*args)
    calls = []

    def run(*inputs):
        if not calls:  # the forward pass
            calls.append(True)
            return fn(*inputs)
        stats = batchnorm_statistics(module)
        saved = [buf.clone() for buf in stats]
        try:  # the recomputation in backward (torch may stop it early by raising)
            return fn(*inputs)
        finally:
            with torch.no_grad():
                for buf, value in zip(stats, saved):
                    buf.copy_(value)

    return checkpoint(run, *args, use_reentrant=False, preserve_rng_state=True)
