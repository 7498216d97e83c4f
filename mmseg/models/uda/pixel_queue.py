"""FIFO queue of past pixel vectors (CPSL, SPEC-more-uda.md §2.2 step 6): the Sinkhorn
assignment of the current pixels is computed jointly with the queued ones, and the
contrastive term (step 9) contrasts the student's features with them."""
import torch
import torch.nn as nn


class PixelQueue(nn.Module):
    """``length`` vectors of ``dim`` channels, newest first (the official layout), each with
    an integer label (255: none).

    ``count`` (how many vectors have been pushed, capped at ``length``) is a host integer,
    so :attr:`full` needs no device sync; its copy in the ``filled`` buffer goes into
    checkpoints and sets it again on loading. Like the official code, the queue takes part
    only once it is full.
    """

    def __init__(self, length, dim):
        super().__init__()
        if length <= 0 or dim <= 0:
            raise ValueError(f'PixelQueue: length and dim must be positive, got {length}, {dim}')
        self.length = length
        self.register_buffer('items', torch.zeros(length, dim))
        self.register_buffer('labels', torch.full((length,), 255, dtype=torch.long))
        self.register_buffer('filled', torch.zeros((), dtype=torch.long))
        self.count = 0

    @property
    def full(self):
        return self.count >= self.length

    @torch.no_grad()
    def push(self, vectors, labels=None):
        """vectors: M×dim (M ≤ length) go to the front; the M oldest fall off the end."""
        m = vectors.shape[0]
        if m > self.length:
            raise ValueError(f'PixelQueue: {m} vectors do not fit a queue of {self.length}')
        if labels is None:
            labels = torch.full((m,), 255, dtype=torch.long, device=vectors.device)
        self.items.copy_(torch.cat([vectors.to(self.items.dtype), self.items[:self.length - m]]))
        self.labels.copy_(torch.cat([labels.long(), self.labels[:self.length - m]]))
        self.count = min(self.count + m, self.length)
        self.filled.fill_(self.count)

    def _load_from_state_dict(self, *args, **kwargs):
        super()._load_from_state_dict(*args, **kwargs)
        self.count = int(self.filled)
