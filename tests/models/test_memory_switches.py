"""The memory switches of ``cfg.optimization`` (activation checkpointing of the MiT blocks
and decode heads, one backward for source CE + FD, the no-grad ASPP in pieces) give the
default path's training step: same gradients, updated weights, BatchNorm statistics and
log, also with drop-path and dropout (their RNG draws are replayed in the
recomputation)."""
import random

import numpy as np
import pytest
import torch

from mmseg.models import UDA
from mmseg.models.utils.activation_checkpoint import checkpointed
from mmseg.models.utils.chunked_aspp import (channel_chunked_separable_conv, channel_groups,
                                             is_channel_chunkable)
from mmseg.models.utils.optimization import apply_optimization, resolve_optimization
from test_dacs import make_batch, mic_cfg
from tiny_cfgs import tiny_dacs, tiny_daformer, tiny_hrda

LOW_MEMORY = dict(low_memory=True)


def with_drop_path(model_cfg, rate=0.2):
    model_cfg['backbone']['drop_path_rate'] = rate
    return model_cfg


def one_step(uda_cfg, optimization):
    """Build (seed 0), apply ``optimization``, one train_step → (model, log_vars)."""
    torch.manual_seed(0)
    model = UDA.build(uda_cfg)
    apply_optimization(model, optimization)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    np.random.seed(1)
    random.seed(1)
    torch.manual_seed(1)
    log = model.train_step(make_batch(), optimizer)['log_vars']
    return model, log


def relative_error(a, b):
    return ((a - b).norm() / b.norm().clamp(min=1e-12)).item()


def assert_same_step(uda_cfg):
    reference, ref_log = one_step(uda_cfg, {})
    low, low_log = one_step(uda_cfg, LOW_MEMORY)
    assert set(low_log) == set(ref_log)
    for key, value in ref_log.items():
        assert low_log[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
    ref_params = dict(reference.get_model().named_parameters())
    for name, param in low.get_model().named_parameters():
        ref = ref_params[name]
        if ref.grad is None:
            assert param.grad is None, name
            continue
        assert relative_error(param.grad, ref.grad) <= 1e-5, name
        assert relative_error(param.detach(), ref.detach()) <= 1e-5, name
    ref_buffers = dict(reference.get_model().named_buffers())
    for name, buf in low.get_model().named_buffers():
        assert torch.allclose(buf.float(), ref_buffers[name].float(), rtol=1e-5, atol=1e-7), name


def test_dacs_with_feature_distance_step_is_unchanged():
    assert_same_step(tiny_dacs(model=with_drop_path(tiny_daformer())))


def test_hrda_step_is_unchanged():
    assert_same_step(tiny_dacs(model=with_drop_path(tiny_hrda())))


def test_mic_step_is_unchanged():
    assert_same_step(tiny_dacs(model=with_drop_path(tiny_daformer()), **mic_cfg('separate')))


def test_switches_take_effect():
    """The switches are really on (an equality test alone cannot fail if they were not)."""
    torch.manual_seed(0)
    model = UDA.build(tiny_dacs(model=tiny_hrda()))
    apply_optimization(model, LOW_MEMORY)
    student = model.get_model()
    assert student.backbone.checkpoint_stages == (1, 2, 3, 4)
    assert student.decode_head.head.activation_checkpointing
    assert student.decode_head.scale_attention.activation_checkpointing
    assert model.fused_source_backward
    for network in (student, model.get_ema_model(), model.imnet_model):
        assert network.decode_head.head.fuse_layer.aspp_modules.channel_chunks == 8
    calls = []
    original = model.feature_distance_loss
    model.feature_distance_loss = lambda *a: calls.append(torch.is_grad_enabled()) or original(*a)
    backward = model.precision.backward
    count = []
    model.precision.backward = lambda *a, **k: count.append(k) or backward(*a, **k)
    model.train()
    model.train_source(*list(make_batch().values())[:3])
    assert calls and len(count) == 1 and not count[0].get('retain_graph')


def test_checkpointing_recomputes_and_restores_batchnorm_statistics():
    """The block runs again in backward (so its activations were not kept), and the
    BatchNorm running statistics are updated once, like without checkpointing."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4))
    plain = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3), torch.nn.BatchNorm2d(4))
    plain.load_state_dict(net.state_dict())
    runs = []

    def forward(x):
        runs.append(1)
        return net(x)
    x = torch.randn(2, 2, 8, 8, requires_grad=True)
    checkpointed(net, forward, x).square().sum().backward()
    plain(x).square().sum().backward()
    assert len(runs) == 2
    for a, b in zip(net.state_dict().values(), plain.state_dict().values()):
        assert torch.equal(a, b)
    with torch.no_grad():
        checkpointed(net, forward, x)
    assert len(runs) == 3  # no recomputation without autograd


def separable_block(norm_cfg=dict(type='BN')):
    from mmcv.cnn import DepthwiseSeparableConvModule
    return DepthwiseSeparableConvModule(10, 6, 3, dilation=2, padding=2, norm_cfg=norm_cfg,
                                        act_cfg=dict(type='ReLU'))


def assert_same_state(a, b):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.allclose(x.float(), y.float(), rtol=1e-5, atol=1e-7), name


def test_channel_chunked_separable_conv_gives_the_module_output():
    """Train- and eval-mode BatchNorm: the module's output, running statistics and batch
    count, without calling its depthwise part."""
    torch.manual_seed(0)
    chunked, whole = separable_block(), separable_block()
    whole.load_state_dict(chunked.state_dict())
    depthwise_calls = []
    chunked.depthwise_conv.register_forward_hook(lambda *a: depthwise_calls.append(1))
    x = torch.randn(3, 10, 9, 11)
    with torch.no_grad():
        out, ref = channel_chunked_separable_conv(chunked, x, 3), whole(x)
        assert not depthwise_calls and out.shape == ref.shape == (3, 6, 9, 11)
        assert torch.allclose(out, ref, rtol=1e-5, atol=1e-6)
        assert_same_state(chunked, whole)
        chunked.eval(), whole.eval()
        assert torch.allclose(channel_chunked_separable_conv(chunked, x, 4), whole(x),
                              rtol=1e-5, atol=1e-6)


def tiny_aspp():
    from mmseg.models.utils import ASPPWrapper
    return ASPPWrapper(12, 5, sep=True, dilations=(1, 2, 3), pool=True,
                       norm_cfg=dict(type='BN'), act_cfg=dict(type='ReLU'),
                       align_corners=False)


def test_aspp_without_grad_runs_in_pieces_with_the_same_result():
    """Without autograd: the bottleneck summed over the branches and the separable
    branches in channel groups (their depthwise parts never called whole), the same
    output and BatchNorm statistics; with autograd the plain modules run."""
    torch.manual_seed(0)
    pieces, whole = tiny_aspp(), tiny_aspp()
    whole.load_state_dict(pieces.state_dict())
    pieces.aspp_modules.channel_chunks = 4
    calls = []
    for branch in list(pieces.aspp_modules)[1:]:
        branch.depthwise_conv.register_forward_hook(lambda *a: calls.append('depthwise'))
    pieces.bottleneck.register_forward_hook(lambda *a: calls.append('bottleneck'))
    x = torch.randn(2, 12, 10, 10)
    with torch.no_grad():
        out, ref = pieces(x), whole(x)
    assert not calls and torch.allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert_same_state(pieces, whole)
    pieces(x.requires_grad_()).sum().backward()
    assert calls.count('depthwise') == 2 and calls.count('bottleneck') == 1


def test_only_per_channel_norms_are_chunked():
    assert is_channel_chunkable(separable_block())
    assert is_channel_chunkable(separable_block(norm_cfg=None))
    assert not is_channel_chunkable(separable_block(dict(type='GN', num_groups=2)))
    assert not is_channel_chunkable(separable_block(dict(type='SyncBN')))
    assert not is_channel_chunkable(torch.nn.Conv2d(2, 2, 1))
    assert channel_groups(10, 3) == [(0, 3), (3, 7), (7, 10)]
    assert channel_groups(2, 4) == [(0, 1), (1, 2)]


def test_low_memory_set_and_explicit_keys():
    resolved = resolve_optimization(dict(low_memory=True,
                                         activation_checkpointing=dict(decode_head=False)))
    assert resolved['activation_checkpointing'] == dict(backbone_stages=(1, 2, 3, 4),
                                                        decode_head=False)
    assert resolved['fused_source_backward']
    default = resolve_optimization()
    assert default['activation_checkpointing'] == dict(backbone_stages=(), decode_head=False)
    assert not default['fused_source_backward']
    assert default['no_grad_aspp_chunks'] == 1 and resolved['no_grad_aspp_chunks'] == 8
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match='no_grad_aspp_chunks must be an int >= 1'):
            resolve_optimization(dict(no_grad_aspp_chunks=bad))
    with pytest.raises(KeyError, match="optimization.activation_checkpointing.decoder_head"):
        resolve_optimization(dict(activation_checkpointing=dict(decoder_head=True)))
    with pytest.raises(ValueError, match='MiT stages are 1-4'):
        apply_optimization(UDA.build(tiny_dacs()),
                           dict(activation_checkpointing=dict(backbone_stages=(0,))))
