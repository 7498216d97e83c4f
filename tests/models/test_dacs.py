"""DACS building blocks with hand-computed expectations, and a few full iterations."""
import math
import random

import numpy as np
import pytest
import torch

from mmseg.models import UDA, build_segmentor, build_train_model
from mmseg.models.uda.ema_teacher import (EMATeacher, crop_pseudo_weight, ema_alpha,
                                          pseudo_weight)
from mmseg.models.uda.feature_distance import (downscale_label_ratio, masked_feature_distance,
                                               thing_class_mask)
from mmseg.models.utils.dacs_transforms import blur_kernel_size, class_mix_masks
from tiny_cfgs import img_metas, tiny_daformer, tiny_dacs


def test_ema_alpha_ramp():
    assert ema_alpha(0.999, 1) == 0.5
    assert ema_alpha(0.999, 9) == pytest.approx(0.9)
    assert ema_alpha(0.999, 100000) == 0.999


def test_teacher_copy_then_ema():
    student = build_segmentor(tiny_daformer())
    teacher = EMATeacher(tiny_daformer(), alpha=0.99, pseudo_threshold=0.968)
    teacher.update(student, 0)
    for t, s in zip(teacher.ema_model.parameters(), student.parameters()):
        assert torch.equal(t, s)
    before = [p.clone() for p in teacher.ema_model.parameters()]
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    teacher.update(student, 3)  # a = min(1 - 1/4, 0.99) = 0.75
    for t, b, s in zip(teacher.ema_model.parameters(), before, student.parameters()):
        assert torch.allclose(t, 0.75 * b + 0.25 * s, atol=1e-6)
    assert not any(p.requires_grad for p in teacher.ema_model.parameters())


def test_confidence_weight_is_fraction_above_threshold():
    confidence = torch.tensor([[[0.99, 0.5], [0.97, 0.968]]])
    weight = pseudo_weight(confidence, 0.968)
    assert torch.allclose(weight, torch.full((1, 2, 2), 0.75))
    assert torch.equal(pseudo_weight(confidence, None), torch.ones(1, 2, 2))


def test_pseudo_label_crop_v1_and_v2():
    weight = torch.ones(1, 6, 4)
    v1 = crop_pseudo_weight(weight.clone(), ignore_top=1, ignore_bottom=2)
    assert v1[0, 0].sum() == 0 and v1[0, 4:].sum() == 0 and v1[0, 1:4].sum() == 12
    valid = torch.ones(1, 1, 6, 4)
    valid[..., 0] = 0
    v2 = crop_pseudo_weight(weight.clone(), valid_pseudo_mask=valid)
    assert v2[0, :, 0].sum() == 0 and v2[0, :, 1:].sum() == 18


def test_class_mix_draws_half_of_the_batch_classes():
    labels = torch.tensor([[[[0, 0], [1, 255]]], [[[2, 2], [3, 3]]]])  # batch classes: 0,1,2,3,255
    np.random.seed(0)
    masks = class_mix_masks(labels)
    assert len(masks) == 2 and masks[0].shape == (1, 1, 2, 2)
    np.random.seed(0)
    chosen0 = np.random.choice(5, 3, replace=False)  # ceil(5/2) = 3 of the whole batch's
    classes = torch.tensor([0, 1, 2, 3, 255])[torch.as_tensor(chosen0)]
    expected0 = torch.isin(labels[0], classes).float()
    assert torch.equal(masks[0][0], expected0)


def test_ratio_pooling_of_labels():
    gt = torch.tensor([[[[1, 1, 2, 255],
                         [1, 1, 2, 255],
                         [3, 3, 4, 4],
                         [3, 255, 4, 5]]]])
    out = downscale_label_ratio(gt, 2, 0.75, n_classes=19)
    # cells: all 1 → 1; {2,2,255,255} → tie/ratio 0.5 → ignore; 3 with ratio .75 → 3;
    # 4 with ratio .75 → 4
    assert out.tolist() == [[[[1, 255], [3, 4]]]]


def test_feature_distance_mask_and_empty_mask():
    feat = torch.zeros(1, 2, 2, 2, requires_grad=True)
    ref = torch.zeros(1, 2, 2, 2)
    ref[0, 0, 0, 0] = 3.0
    ref[0, 1, 0, 0] = 4.0
    mask = torch.tensor([[[True, False], [False, False]]])
    assert masked_feature_distance(feat, ref, mask).item() == pytest.approx(5.0)
    assert masked_feature_distance(feat, ref).item() == pytest.approx(5.0 / 4)
    empty = masked_feature_distance(feat, ref, torch.zeros(1, 2, 2, dtype=torch.bool))
    empty.backward()
    assert empty.item() == 0 and torch.count_nonzero(feat.grad) == 0


def test_thing_class_mask_uses_thing_classes():
    gt = torch.full((1, 1, 8, 8), 0)
    gt[..., :4, :4] = 13  # car
    mask, pooled = thing_class_mask(gt, 2, 0.75, 19, [6, 7, 11, 12, 13])
    assert mask.tolist() == [[[True, False], [False, False]]]
    assert pooled.shape == (1, 1, 2, 2)


def test_blur_kernel_is_odd_near_ten_percent():
    assert blur_kernel_size(512) == 51 and blur_kernel_size(64) == 7 and blur_kernel_size(128) == 13


def make_batch(h=64, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    gt = torch.randint(0, 19, (2, 1, h, w), generator=g)
    gt[:, :, :4] = 255
    return dict(img=torch.randn(2, 3, h, w, generator=g), img_metas=img_metas(2, h, w),
                gt_semantic_seg=gt, target_img=torch.randn(2, 3, h, w, generator=g),
                target_img_metas=img_metas(2, h, w))


def run_iterations(uda_cfg, n=2, seed=0, work_dir=None):
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    train_cfg = dict(work_dir=work_dir, log_config=dict(img_interval=1)) if work_dir else None
    model = UDA.build(uda_cfg, default_args=dict(train_cfg=train_cfg))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    logs = [model.train_step(make_batch(seed=i), optimizer)['log_vars'] for i in range(n)]
    return model, logs


def test_dacs_iterations_log_every_term_and_are_reproducible(tmp_path):
    model, logs = run_iterations(tiny_dacs(), work_dir=str(tmp_path))
    for key in ('decode.loss_seg', 'decode.acc_seg', 'src.loss_imnet_feat_dist',
                'mix.decode.loss_seg', 'mix.decode.acc_seg'):
        assert all(key in log and math.isfinite(log[key]) for log in logs), key
    assert sorted(p.name for p in (tmp_path / 'debug').iterdir())[:2] == ['000001_0.png',
                                                                         '000001_1.png']
    _, logs_again = run_iterations(tiny_dacs())
    assert logs == logs_again


def test_source_only_has_no_teacher():
    model, logs = run_iterations(tiny_dacs(source_only=True, imnet_feature_dist_lambda=0), n=1)
    assert not hasattr(model, 'ema_model') and not hasattr(model, 'imnet_model')
    assert 'mix.decode.loss_seg' not in logs[0]
    assert {k.split('.')[0] for k in model.state_dict()} == {'model'}


def test_build_train_model_injects_model_and_max_iters():
    from mmcv import Config
    cfg = Config(dict(model=tiny_daformer(), uda=tiny_dacs(), runner=dict(max_iters=7)))
    del cfg.uda['model']
    model = build_train_model(cfg, train_cfg=dict(work_dir=None))
    assert type(model).__name__ == 'DACS' and model.max_iters == 7
    prefixes = {k.split('.')[0] for k in model.state_dict()}
    assert prefixes == {'model', 'ema_model', 'imnet_model'}


def mic_cfg(mode='separate', **kwargs):
    return dict(mask_mode=mode, mask_lambda=1, mask_generator=dict(
        type='block', mask_ratio=0.7, mask_block_size=16), **kwargs)


@pytest.mark.parametrize('mode', ['separate', 'separateaug', 'separatesrc', 'separatesrcaug',
                                  'separatetrg', 'separatetrgaug'])
def test_mic_modes_log_masked_loss(mode):
    model, logs = run_iterations(tiny_dacs(imnet_feature_dist_lambda=0, **mic_cfg(mode)), n=1)
    assert math.isfinite(logs[0]['masked.decode.loss_seg'])
    assert model.mic.teacher is None  # 'same' alpha and threshold share the DACS teacher


def test_mic_own_teacher_only_when_needed():
    model, _ = run_iterations(tiny_dacs(imnet_feature_dist_lambda=0,
                                        **mic_cfg('separatetrg', mask_alpha=0.9)), n=1)
    assert model.mic.teacher is not None
    assert any(k.startswith('mic.teacher.ema_model.') for k in model.state_dict())
    srconly = UDA.build(tiny_dacs(source_only=True, imnet_feature_dist_lambda=0,
                                  **mic_cfg('separatesrcaug', mask_alpha=0.9)))
    assert srconly.mic.teacher is None


@pytest.mark.parametrize('uda_type,extra,term', [
    ('MinEnt', dict(lambda_ent=dict(main=0.001, aux=0.0002)), 'trg.loss_ent'),
    ('AdvSeg', dict(discriminator_type='LS', lambda_adv_target=dict(main=0.001, aux=0.0002),
                    lr_D=1e-4, lr_D_power=0.9, lr_D_min=0), 'trg.loss_adv'),
])
def test_baselines_with_mic_train(uda_type, extra, term):
    cfg = dict(type=uda_type, model=tiny_daformer(), alpha=0.999, pseudo_threshold=0.968,
               max_iters=10, **extra, **mic_cfg('separatetrgaug'))
    model, logs = run_iterations(cfg, n=2)
    assert math.isfinite(logs[-1][term]) and math.isfinite(logs[-1]['masked.decode.loss_seg'])
    assert any(k.startswith('mic.teacher.ema_model.') for k in model.state_dict())
    if uda_type == 'AdvSeg':
        assert any(k.startswith('model_D.main.conv1') for k in model.state_dict())


@pytest.mark.parametrize('feature_scale', [0.5, 'all'])
def test_hrda_dacs_with_fd_and_mic(feature_scale):
    from tiny_cfgs import tiny_hrda
    cfg = tiny_dacs(model=tiny_hrda(feature_scale), **mic_cfg('separate'))
    _, logs = run_iterations(cfg, n=2)
    for key in ('decode.loss_seg', 'decode.hr.loss_seg', 'src.loss_imnet_feat_dist',
                'mix.decode.loss_seg', 'masked.decode.loss_seg'):
        assert math.isfinite(logs[-1][key]), key


def test_foreach_ema_equals_reference_loop():
    from mmseg.models.uda.ema_teacher import ema_update
    student = build_segmentor(tiny_daformer())
    fast, ref = build_segmentor(tiny_daformer()), build_segmentor(tiny_daformer())
    ref.load_state_dict(fast.state_dict())
    ema_update(fast, student, 0.9, foreach=True)
    ema_update(ref, student, 0.9, foreach=False)
    for a, b in zip(fast.parameters(), ref.parameters()):
        assert torch.allclose(a, b, atol=1e-7)


def test_bfloat16_mixed_precision_step_on_cpu():
    from mmseg.models.utils.optimization import apply_optimization
    torch.manual_seed(0)
    model = UDA.build(tiny_dacs(**mic_cfg('separatetrg')))
    apply_optimization(model, dict(mixed_precision=dict(enabled=True, dtype='bfloat16')))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    log = model.train_step(make_batch(), optimizer)['log_vars']
    assert all(math.isfinite(v) for v in log.values())


def test_unknown_optimization_key_is_named():
    from mmseg.models.utils.optimization import resolve_optimization
    with pytest.raises(KeyError, match="optimization.fast_atention.*'fast_attention'"):
        resolve_optimization(dict(fast_atention=False))
