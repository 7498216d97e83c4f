"""Data-parallel gradient averaging for the UDA wrappers.

A UDA step runs two to four forward/backward passes of the student (source, mixed,
masked; FD back-propagates twice through the source graph). Instead of one DDP reducer
per pass, the accumulated student gradients are averaged over the ranks once, right
before the optimizer step: one flat all-reduce per iteration, the result DDP would give.
"""
import torch
import torch.distributed as dist


def world_size():
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def broadcast_module(module, src=0):
    """Copy rank ``src``'s parameters and buffers to every rank (same start everywhere)."""
    if world_size() == 1:
        return
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src)


@torch.no_grad()
def average_gradients(module):
    """Average the ``.grad`` of ``module``'s parameters over all ranks (one all-reduce).

    Parameters without a gradient on this rank contribute zeros, so every rank ends with
    the same gradients (and, after the same optimizer step, the same weights).
    """
    n = world_size()
    if n == 1:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= n
    offset = 0
    for p, g in zip(params, grads):
        numel = g.numel()
        p.grad = flat[offset:offset + numel].view_as(p).clone() if p.grad is None else \
            p.grad.copy_(flat[offset:offset + numel].view_as(p))
        offset += numel
