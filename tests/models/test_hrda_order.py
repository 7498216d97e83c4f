"""HRDA runs the encoder and the shared head on the context (LR) input before the detail
(HR) input, as the original does: in train mode the order decides the BatchNorm running
statistics and the dropout / drop-path draws."""
import copy

import numpy as np
import torch

from mmseg.models import build_segmentor
from mmseg.models.uda.ema_teacher import EMATeacher
from tiny_cfgs import img_metas, tiny_hrda

# 64×64 input: LR context 32×32 (stride-4 features 8×8), HR detail crop 48×48 (12×12), so
# every call is recognisable by its input size.
IMG_SIZE, HR_CROP = 64, (48, 48)


def record_first_input_shapes(module):
    """Hook ``module``; returns the list it fills with (batch, h, w) of each call's first
    input tensor (a feature list's first level)."""
    shapes = []

    def hook(_, args):
        first = args[0][0] if isinstance(args[0], (list, tuple)) else args[0]
        shapes.append(tuple(first.shape[:1]) + tuple(first.shape[2:]))

    module.register_forward_pre_hook(hook)
    return shapes


def tiny_model():
    torch.manual_seed(0)
    return build_segmentor(tiny_hrda(feature_scale=0.5, hr_crop_size=HR_CROP)).train()


def batch(n=2):
    gen = torch.Generator().manual_seed(1)
    img = torch.randn(n, 3, IMG_SIZE, IMG_SIZE, generator=gen)
    gt = torch.randint(0, 19, (n, 1, IMG_SIZE, IMG_SIZE), generator=gen)
    return img, gt


def test_training_forward_encodes_and_decodes_lr_before_hr():
    model = tiny_model()
    backbone_calls = record_first_input_shapes(model.backbone)
    head_calls = record_first_input_shapes(model.decode_head.head)
    img, gt = batch()
    np.random.seed(0)
    model.forward_train(img, img_metas(2, IMG_SIZE, IMG_SIZE), gt)
    assert backbone_calls == [(2, 32, 32), (2, 48, 48)]
    assert head_calls == [(2, 8, 8), (2, 12, 12)]


def test_teacher_pseudo_label_decodes_lr_before_hr_windows():
    model = tiny_model()
    teacher = EMATeacher(tiny_hrda(feature_scale=0.5, hr_crop_size=HR_CROP), alpha=0.99,
                         pseudo_threshold=0.968)
    teacher.update(model, 0)
    backbone_calls = record_first_input_shapes(teacher.ema_model.backbone)
    head_calls = record_first_input_shapes(teacher.ema_model.decode_head.head)
    img, _ = batch()
    teacher.pseudo_label(img, img_metas(2, IMG_SIZE, IMG_SIZE))
    # HR: 48×48 sliding windows with stride 24 over 64×64 → 2×2 windows, batched
    assert backbone_calls == [(2, 32, 32), (8, 48, 48)]
    assert head_calls == [(2, 8, 8), (8, 12, 12)]


def batchnorm_buffers(module):
    return {name: buf.clone() for name, buf in module.named_buffers()
            if 'running_' in name or 'num_batches_tracked' in name}


def head_by_hand(model, img, box, lr_first):
    """The head's train-mode calls replayed by hand on the segmentor's own features."""
    head = model.decode_head
    with torch.no_grad():
        hr_feats, lr_feats = model.multi_scale_features(img, hr_crop_box=box)
        torch.manual_seed(3)
        for feats in ([lr_feats, hr_feats] if lr_first else [hr_feats, lr_feats]):
            head.head(feats)
        head.scale_attention(lr_feats)


def test_head_batchnorm_statistics_equal_lr_then_hr_by_hand():
    reference = tiny_model()
    img, gt = batch()
    np.random.seed(0)
    torch.manual_seed(3)
    reference.forward_train(img, img_metas(2, IMG_SIZE, IMG_SIZE), gt)
    box = reference.last_train_crop_box[0]
    stats_step = batchnorm_buffers(reference.decode_head)

    by_hand = {}
    for lr_first in (True, False):
        model = tiny_model()
        head_by_hand(model, img, box, lr_first)
        by_hand[lr_first] = batchnorm_buffers(model.decode_head)

    assert stats_step.keys() == by_hand[True].keys() and stats_step
    for name, value in stats_step.items():
        assert torch.equal(value, by_hand[True][name]), name
    # the order is visible in the statistics (so this test can fail)
    assert any(not torch.allclose(value, by_hand[False][name])
               for name, value in stats_step.items() if 'running_mean' in name)


def test_feature_distance_keeps_float64_features():
    """FD casts autocast outputs up to float32 but never truncates float64 features."""
    from mmseg.models import UDA
    from tiny_cfgs import tiny_dacs
    uda = UDA.build(tiny_dacs()).double()
    img, gt = batch()
    feat = uda.get_model().extract_feat(img.double())
    loss, _ = uda.feature_distance_loss(img.double(), gt, feat)
    assert loss.dtype == torch.float64
