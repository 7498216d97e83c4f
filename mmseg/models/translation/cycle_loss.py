"""ProCST's L1 cycle loss (SPEC-more-uda.md §4.2 step 5)."""
import torch.nn.functional as F


def cycle_loss(translator, pyramid, direction, scale=None):
    """L1 between the last level of ``pyramid`` and its round trip through ``direction``
    and back at level ``scale``; also returns the two images for logging.

    Returns:
        tuple: (loss scalar, translated N×3×H×W, reconstructed N×3×H×W).
    """
    translated, back = translator.cycle(pyramid, direction, scale)
    return F.l1_loss(back, pyramid[len(pyramid) - 1 if scale is None else scale]), \
        translated, back
