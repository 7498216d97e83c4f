"""Mixed precision for the UDA step: autocast for the forward passes, a GradScaler for
float16, losses and pseudo-label softmax in float32."""
import contextlib

import torch

DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16}


def at_least_float32(tensor):
    """``tensor`` in float32 if it is in a lower precision (autocast outputs), else as it is
    (float32 stays, float64 is not truncated)."""
    return tensor.to(torch.promote_types(tensor.dtype, torch.float32))


class MixedPrecision:
    """``enabled``/``dtype`` from ``optimization.mixed_precision`` in the config."""

    def __init__(self, enabled=False, dtype='bfloat16'):
        if dtype not in DTYPES:
            raise ValueError(f"mixed_precision.dtype must be one of {sorted(DTYPES)}, "
                             f'got {dtype!r}')
        self.enabled = bool(enabled)
        self.dtype = DTYPES[dtype]
        self.scaler = None
        if self.enabled and self.dtype == torch.float16:
            self.scaler = torch.amp.GradScaler('cuda' if torch.cuda.is_available() else 'cpu')

    def autocast(self, device):
        """Context for a forward pass on ``device`` (a no-op when disabled)."""
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type=torch.device(device).type, dtype=self.dtype)

    def backward(self, loss, retain_graph=False):
        if self.scaler is not None:
            loss = self.scaler.scale(loss)
        loss.backward(retain_graph=retain_graph)

    def step(self, optimizer, update=True):
        """Step ``optimizer`` (float16: unscale its gradients, skip on inf/NaN); ``update``
        the loss scale afterwards — False when another optimizer steps next."""
        if self.scaler is None:
            optimizer.step()
            return
        self.scaler.step(optimizer)
        if update:
            self.scaler.update()

    def state_dict(self):
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state):
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
