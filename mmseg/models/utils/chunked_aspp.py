"""ASPP fusion in pieces for passes without autograd (``optimization.no_grad_aspp_chunks``):
the EMA teacher's pseudo-label pass over HRDA's sliding windows holds fewer wide maps.

A convolution over concatenated inputs is the sum of convolutions over each input's slice
of the weight, and a depthwise conv, a BatchNorm and a ReLU act on each channel alone, so
the pieces give the module's result up to the order of the sums (float noise; no random
layers are involved). With autograd the modules run whole: the backward needs their
activations anyway.
"""
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule

PLAIN_ORDER = ('conv', 'norm', 'act')


def is_plain_conv_module(module):
    """A ConvModule computing conv → norm → act with the conv's own (zero) padding."""
    return (isinstance(module, ConvModule) and tuple(module.order) == PLAIN_ORDER
            and not module.with_explicit_padding)


def is_channel_chunkable(module):
    """True for a ``DepthwiseSeparableConvModule`` of plain parts whose depthwise norm acts
    per channel (plain BatchNorm or none). SyncBN (statistics gathered across GPUs in its
    own kernel) and group-wise norms are left to the module itself."""
    if not isinstance(module, DepthwiseSeparableConvModule):
        return False
    depthwise = module.depthwise_conv
    return (is_plain_conv_module(depthwise) and is_plain_conv_module(module.pointwise_conv)
            and (not depthwise.with_norm or type(depthwise.norm) is nn.BatchNorm2d))


def channel_chunked_separable_conv(module, x, chunks):
    """``module(x)`` with the depthwise conv, its BatchNorm and activation run on
    ``chunks`` groups of channels, each group going straight into its slice of the
    pointwise conv: the two N×C_in×H×W maps of the depthwise part exist a group at a
    time. BatchNorm statistics are per channel, so train mode normalises the same way
    and updates the running statistics the same way (one ``num_batches_tracked`` step).

    Args:
        module (DepthwiseSeparableConvModule): see :func:`is_channel_chunkable`.
        x (Tensor): N×C_in×H×W.
        chunks (int): number of channel groups (≥ 1).
    Returns:
        Tensor: N×C_out×H'×W', as ``module(x)``.
    """
    depthwise, pointwise = module.depthwise_conv, module.pointwise_conv
    momentum = count_batch_norm_call(depthwise.norm) if depthwise.with_norm else None
    total = None
    for c0, c1 in channel_groups(x.shape[1], chunks):
        y = depthwise_conv_channels(depthwise.conv, x[:, c0:c1], c0, c1)
        if depthwise.with_norm:
            y = batch_norm_channels(depthwise.norm, y, c0, c1, momentum)
        if depthwise.with_activation:
            y = depthwise.activate(y)
        total = accumulate(total, conv_over_input_slice(pointwise.conv, y, c0))
    return finish_conv_module(pointwise, total)


def channel_groups(channels, chunks):
    """[(start, end)] of ``chunks`` near-equal consecutive channel groups."""
    chunks = max(1, min(chunks, channels))
    bounds = [round(k * channels / chunks) for k in range(chunks + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def conv_over_input_slice(conv, x, start):
    """``conv``'s contribution, without bias, from input channels start:start+C of x."""
    weight = conv.weight[:, start:start + x.shape[1]]
    return F.conv2d(x, weight, None, conv.stride, conv.padding, conv.dilation)


def accumulate(total, part):
    return part if total is None else total.add_(part)


def finish_conv_module(conv_module, conv_sum):
    """The rest of a plain ConvModule after its conv: bias, norm, activation."""
    x = conv_sum
    if conv_module.conv.bias is not None:
        x = x + conv_module.conv.bias.view(1, -1, 1, 1)
    if conv_module.with_norm:
        x = conv_module.norm(x)
    if conv_module.with_activation:
        x = conv_module.activate(x)
    return x


def depthwise_conv_channels(conv, x, c0, c1):
    bias = conv.bias[c0:c1] if conv.bias is not None else None
    return F.conv2d(x, conv.weight[c0:c1], bias, conv.stride, conv.padding, conv.dilation,
                    groups=c1 - c0)


def count_batch_norm_call(norm):
    """What ``BatchNorm.forward`` does once per call before normalising: step
    ``num_batches_tracked`` in training; returns the running-average factor."""
    if norm.training and norm.track_running_stats and norm.num_batches_tracked is not None:
        norm.num_batches_tracked.add_(1)
        if norm.momentum is None:
            return 1.0 / float(norm.num_batches_tracked)
    return 0.0 if norm.momentum is None else norm.momentum


def batch_norm_channels(norm, y, c0, c1, momentum):
    """``norm`` on channels c0:c1 only (``y`` holds just those); the running statistics'
    slices are updated in place (views of the buffers)."""
    use_buffers = not norm.training or norm.track_running_stats
    batch_stats = norm.training or (norm.running_mean is None and norm.running_var is None)

    def channels(tensor):
        return tensor[c0:c1] if tensor is not None else None
    return F.batch_norm(y, channels(norm.running_mean) if use_buffers else None,
                        channels(norm.running_var) if use_buffers else None,
                        channels(norm.weight), channels(norm.bias), batch_stats, momentum,
                        norm.eps)
