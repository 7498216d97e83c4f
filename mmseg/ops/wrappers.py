import warnings

import torch.nn.functional as F


def resize(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
           warning=True):
    """``F.interpolate`` with the mmseg 0.x warning about misaligned corner resizing.

    Args:
        input (Tensor): N×C×H×W.
        size (tuple[int, int] | None): output H, W.
    """
    if warning and size is not None and align_corners:
        input_h, input_w = tuple(int(x) for x in input.shape[2:])
        output_h, output_w = tuple(int(x) for x in size)
        if (output_h > input_h or output_w > input_w) and (
                (output_h > 1 and output_w > 1 and input_h > 1 and input_w > 1)
                and (output_h - 1) % (input_h - 1) and (output_w - 1) % (input_w - 1)):
            warnings.warn(
                f'When align_corners={align_corners}, the output would be more aligned if '
                f'input size {(input_h, input_w)} is `x+1` and out size '
                f'{(output_h, output_w)} is `nx+1`')
    if size is not None:
        size = tuple(int(x) for x in size)
    return F.interpolate(input, size, scale_factor, mode, align_corners)
