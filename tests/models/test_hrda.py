"""HRDA: parity with the original, crop/attention/window behaviour."""
import json

import numpy as np
import pytest
import torch

from mmseg.models import build_segmentor
from mmseg.models.utils.crop import get_crop_bbox
from parity_utils import (assert_close, assert_loss_close, build_case_model, case_metas,
                          load_case_state_dict, load_io, parity_dir)


@pytest.fixture(scope='module')
def hrda(fixtures_dir):
    return (build_case_model(fixtures_dir, 'hrda').eval(), load_io(fixtures_dir, 'hrda_io.pth'),
            load_io(fixtures_dir, 'hrda_extra.pth'))


def test_slide_inference_probabilities(hrda, fixtures_dir):
    model, io, _ = hrda
    with torch.no_grad():
        probs = model.inference(io['input'], case_metas(fixtures_dir, 'hrda', 'input'), True)
    assert_close(probs, io['inference_probs'], what='inference_probs')


def test_crop_encode_decode_and_internals(hrda, fixtures_dir):
    model, io, extra = hrda
    with torch.no_grad():
        logits = model.encode_decode(io['input'][:, :, :128, :128],
                                     case_metas(fixtures_dir, 'hrda', 'crop'))
    assert_close(logits, io['encode_decode_crop_logits'], what='crop logits')
    debug = model.decode_head.debug_output
    assert_close(debug['hr_logits'], extra['crop_hr_logits'], what='hr logits')
    assert_close(debug['hr_window_logits'], extra['crop_hr_window_logits'], what='windows')
    assert_close(debug['lr_logits'], extra['crop_lr_logits_weighted'], what='(1-a)·lr')


@pytest.mark.parametrize('out', ['LR', 'HR', 'ATT'])
def test_hrda_out_variants(fixtures_dir, hrda, out):
    _, io, extra = hrda
    cfg = json.loads((parity_dir(fixtures_dir) / 'hrda_model_cfg.json').read_text())
    if out == 'ATT':
        cfg['decode_head']['debug_output_attention'] = True
    else:
        cfg['decode_head']['fixed_attention'] = 0.0 if out == 'LR' else 1.0
    model = build_segmentor(cfg)
    model.load_state_dict(load_case_state_dict(fixtures_dir, 'hrda'), strict=out == 'ATT')
    model.eval()
    with torch.no_grad():
        result = model.inference(io['input'], case_metas(fixtures_dir, 'hrda', 'input'), True)
    if out == 'ATT':
        result = result[:, :1]
    assert_close(result, extra[f'hrda_out_{out}'], what=f'--hrda-out {out}')


def test_training_forward_with_the_recorded_crop(fixtures_dir):
    extra = load_io(fixtures_dir, 'hrda_extra.pth')
    model = build_case_model(fixtures_dir, 'hrda').train()
    np.random.seed(5)
    metas = [dict(img_shape=(128, 128, 3), ori_shape=(128, 128, 3), pad_shape=(128, 128, 3),
                  flip=False, scale_factor=1.0)] * 2
    losses = model.forward_train(extra['train_input'], metas, extra['train_gt'],
                                 return_feat=True)
    assert tuple(model.last_train_crop_box[0]) == tuple(extra['train_hr_crop_box'].tolist())
    for key in ('decode.loss_seg', 'decode.acc_seg', 'decode.hr.loss_seg', 'decode.hr.acc_seg'):
        assert_loss_close(losses[key], extra[f'loss/{key}'], what=key)
    for i in range(4):
        assert_close(losses['features'][i], extra[f'train_feat{i}'], what=f'train_feat{i}')


def test_crop_boxes_divisible_and_inside():
    np.random.seed(0)
    for _ in range(200):
        h, w = np.random.randint(64, 300, size=2)
        y1, y2, x1, x2 = get_crop_bbox(h, w, (48, 56), divisible=8)
        assert y1 % 8 == 0 and x1 % 8 == 0
        assert 0 <= y1 and y2 <= max(h, 48) and 0 <= x1 and x2 <= max(w, 56)
        assert (y2 - y1, x2 - x1) == (48, 56)


def test_attention_zero_outside_detail_box_in_training(fixtures_dir):
    model = build_case_model(fixtures_dir, 'hrda').train()
    head = model.decode_head
    head.set_hr_crop_box((0, 64, 64, 128))
    feats = model.multi_scale_features(torch.randn(1, 3, 128, 128), hr_crop_box=(0, 64, 64, 128))
    head.forward(feats)
    # zeroed at LR resolution (box/8 = rows 0-8, cols 8-16 of 16×16), then upsampled ×2
    # bilinearly to the HR output resolution, which blurs the box edge by one cell
    att = head.debug_output['attention']
    assert att[..., 17:, :].abs().sum() == 0 and att[..., :, :15].abs().sum() == 0
    assert att[..., :16, 16:].abs().sum() > 0


def test_overlapping_windows_are_averaged(fixtures_dir):
    model = build_case_model(fixtures_dir, 'hrda').eval()
    feats = model.extract_slide_feat(torch.randn(1, 3, 96, 160))
    boxes = feats['boxes']
    count = torch.zeros(96, 160)
    for y1, y2, x1, x2 in boxes:
        count[y1:y2, x1:x2] += 1
    assert count.min() >= 1 and count.max() > 1  # every pixel covered, windows overlap
    with torch.no_grad():
        hr = model.decode_head.decode_hr(feats, 1)
        windows = model.decode_head.debug_output['hr_window_logits']
    # the first window's top-left 8×8 output cells are covered by it alone
    assert torch.allclose(hr[0, :, :8, :8], windows[0, :, :8, :8], atol=1e-6)


def test_detail_loss_weighting(fixtures_dir):
    """decode.loss_seg = (1-λ)·CE(fused); decode.hr.loss_seg = λ·CE(HR on the crop)."""
    extra = load_io(fixtures_dir, 'hrda_extra.pth')
    model = build_case_model(fixtures_dir, 'hrda').train()
    head = model.decode_head
    np.random.seed(5)
    metas = [dict(img_shape=(128, 128, 3), ori_shape=(128, 128, 3))] * 2
    weighted = model.forward_train(extra['train_input'], metas, extra['train_gt'])
    head.hr_loss_weight = 0.0
    model.load_state_dict(load_case_state_dict(fixtures_dir, 'hrda'))
    np.random.seed(5)
    plain = model.forward_train(extra['train_input'], metas, extra['train_gt'])
    assert 'decode.hr.loss_seg' not in plain
    assert torch.allclose(weighted['decode.loss_seg'], 0.9 * plain['decode.loss_seg'],
                          rtol=1e-5)
