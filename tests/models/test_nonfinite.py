"""The non-finite loss guard: 'stop' names the terms and the iteration, 'skip' leaves the
weights and every buffer (BatchNorm statistics) untouched; neither lets NaN reach the
parameters."""
import pytest
import torch
from mmcv import Config

from mmseg.models import build_train_model
from test_dacs import make_batch, mic_cfg
from tiny_cfgs import tiny_daformer, tiny_dacs

# The student, DACS's EMA teacher, MIC's own teacher and the ImageNet copy (feature
# distance): each has BatchNorm layers that a forward pass in train mode updates.
DACS_WITH_EVERY_TEACHER = tiny_dacs(**mic_cfg('separate', mask_alpha=0.99))


def build(uda, policy):
    """``uda``: True (DACS), False (a plain segmentor) or a UDA wrapper config."""
    cfg = dict(model=tiny_daformer(), nonfinite_loss=policy, runner=dict(max_iters=10))
    if uda:
        cfg['uda'] = dict(uda) if isinstance(uda, dict) else tiny_dacs(
            imnet_feature_dist_lambda=0)
        cfg['uda'].pop('model', None)
    model = build_train_model(Config(cfg))
    model.train()
    return model


def poisoned_batch(uda):
    batch = make_batch()
    batch['img'][0, :, :4, :4] = float('nan')
    if not uda:
        for key in ('target_img', 'target_img_metas'):
            batch.pop(key)
    return batch


def snapshot(model):
    """The student's parameters (the EMA teacher legitimately copies them at iteration 0)."""
    student = model.get_model() if hasattr(model, 'get_model') else model
    return {k: v.clone() for k, v in student.named_parameters()}


@pytest.mark.parametrize('uda', [True, False], ids=['dacs', 'supervised'])
def test_stop_names_terms_and_iteration(uda):
    model = build(uda, 'stop')
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = snapshot(model)
    with pytest.raises(FloatingPointError,
                       match=r'non-finite loss at iteration 1: .*decode\.loss_seg=nan'):
        outputs = model.train_step(poisoned_batch(uda), optimizer)
        if not uda:  # the runner's optimizer hook would back-propagate this loss
            outputs['loss'].backward()
            optimizer.step()
    for name, value in snapshot(model).items():
        assert torch.equal(value, before[name]), name


@pytest.mark.parametrize('uda', [True, False], ids=['dacs', 'supervised'])
def test_skip_leaves_weights_untouched(uda):
    model = build(uda, 'skip')
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    before = snapshot(model)
    with pytest.warns(UserWarning, match='optimizer step is skipped'):
        outputs = model.train_step(poisoned_batch(uda), optimizer)
    if not uda:
        optimizer.zero_grad(set_to_none=True)
        outputs['loss'].backward()
        optimizer.step()
    for name, value in snapshot(model).items():
        assert torch.equal(value, before[name]), name
    assert outputs['log_vars']['decode.loss_seg'] != outputs['log_vars']['decode.loss_seg']


def test_unknown_policy_is_named():
    with pytest.raises(ValueError, match="nonfinite_loss must be one of .*'ignore'"):
        build(False, 'ignore')


@pytest.mark.parametrize('uda', [DACS_WITH_EVERY_TEACHER, False],
                         ids=['dacs-mic-fd', 'supervised'])
def test_skip_leaves_every_buffer_untouched(uda):
    model = build(uda, 'skip')
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = {k: v.clone() for k, v in model.named_buffers()}
    assert any('running_mean' in k for k in before)
    with pytest.warns(UserWarning, match='optimizer step is skipped'):
        model.train_step(poisoned_batch(bool(uda)), optimizer)
    changed = [k for k, v in model.named_buffers() if not torch.equal(v, before[k])]
    assert not changed, f'{len(changed)} buffers changed, e.g. {changed[:3]}'
