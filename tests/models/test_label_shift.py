"""Label shift (Liu et al., CVPR 2022): prior estimation with known answers, the
label_shift.json checks, and Inference Adjustment in whole, slide and HRDA inference."""
import json
import math

import pytest
import torch

from mmseg.models import build_segmentor
from mmseg.models.uda.label_shift import (class_pixel_counts, pixel_frequency,
                                          presence_counts, source_label_prior,
                                          target_label_prior, target_presence,
                                          target_presence_scores)
from mmseg.utils.label_shift_file import LabelShiftFileError, load_label_shift, log_prior_ratio
from tiny_cfgs import img_metas, tiny_daformer, tiny_hrda


def write_priors(path, source, target, **extra):
    path.write_text(json.dumps(dict(source_prior=source, target_prior=target, **extra)))
    return str(path)


# --- estimation --------------------------------------------------------------------------

def test_presence_counts_use_the_pixel_threshold_strictly():
    labels = torch.zeros(1, 4, 5, dtype=torch.long)  # 20 px: 10 of class 1, 10 of class 0
    labels[0, :2] = 1
    counts = class_pixel_counts(labels, num_classes=3)
    assert counts.tolist() == [[10, 10, 0]]
    assert presence_counts(counts, 5).tolist() == [1, 1, 0]
    assert presence_counts(counts, 10).tolist() == [0, 0, 0]


def test_source_prior_from_stats_entries_and_label_maps_agree():
    stats = [{'0': 30, '1': 3, 'file': 'a.png'}, {'0': 8, '2': 12, 'file': 'b.png'}]
    prior = source_label_prior(stats, num_classes=3, min_pixels=5)
    assert prior.tolist() == pytest.approx([2 / 3, 0, 1 / 3])  # presences: 2, 0, 1
    maps = [torch.tensor([0] * 30 + [1] * 3), torch.tensor([0] * 8 + [2] * 12 + [255] * 4)]
    assert torch.equal(source_label_prior(maps, 3, 5), prior)
    smoothed = source_label_prior(stats, 3, 5, pseudo_count=1)
    assert smoothed.tolist() == pytest.approx([3 / 6, 1 / 6, 2 / 6])


def test_pixel_frequency_ignores_255():
    maps = [torch.tensor([0, 0, 1, 255])]
    assert pixel_frequency(maps, 2).tolist() == pytest.approx([2 / 3, 1 / 3])


def test_constant_probability_map_scores_its_value():
    probs = torch.tensor([0.7, 0.2, 0.1]).view(1, 3, 1, 1).expand(1, 3, 4, 6)
    assert target_presence_scores(probs)[0].tolist() == pytest.approx([0.7, 0.2, 0.1])
    pixel_freq = [0.5, 0.3, 0.05]
    assert target_presence(probs, pixel_freq).tolist() == [[True, False, True]]
    assert target_label_prior(probs, pixel_freq).tolist() == pytest.approx([0.5, 0, 0.5])
    assert target_presence(probs, [0.5, 0.3, 0.0]).tolist() == [[True, False, False]]


def test_target_score_is_log_mean_exp_of_the_probabilities():
    probs = torch.zeros(1, 2, 1, 2)
    probs[0, 0, 0] = torch.tensor([1.0, 0.0])
    probs[0, 1, 0] = torch.tensor([0.0, 1.0])
    expected = math.log((math.e + 1) / 2)
    assert target_presence_scores(probs)[0].tolist() == pytest.approx([expected, expected])


# --- label_shift.json ----------------------------------------------------------------------

def test_log_prior_ratio(tmp_path):
    path = write_priors(tmp_path / 'ls.json', [0.25, 0.75], [0.5, 0.5])
    assert log_prior_ratio(path, 2) == pytest.approx([math.log(2), math.log(2 / 3)])


@pytest.mark.parametrize('source, target, key, message', [
    ([0.5, 0.5], [0.2, 0.3, 0.5], 'target_prior', 'has 3 classes, expected 2'),
    ([1.0, 0.0], [0.5, 0.5], 'source_prior', 'positive'),
    ([0.5, -0.5], [0.5, 0.5], 'source_prior', 'positive'),
    ([0.5, 0.5], [0.5, 0.6], 'target_prior', 'sums to 1.1'),
    ([0.5, 0.5], None, 'target_prior', 'is missing'),
])
def test_bad_label_shift_files_name_the_file_and_key(tmp_path, source, target, key, message):
    path = tmp_path / 'bad.json'
    record = dict(source_prior=source)
    if target is not None:
        record['target_prior'] = target
    path.write_text(json.dumps(record))
    with pytest.raises(LabelShiftFileError, match=message) as info:
        load_label_shift(str(path), 2)
    assert str(path) in str(info.value) and repr(key) in str(info.value)


def test_missing_label_shift_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        build_segmentor(dict(tiny_daformer(num_classes=2),
                             test_cfg=dict(mode='whole',
                                           label_shift=dict(file=str(tmp_path / 'nowhere.json')))))


def test_label_shift_test_cfg_needs_a_file_key():
    with pytest.raises(ValueError, match=r"test_cfg.label_shift must be dict\(file="):
        build_segmentor(dict(tiny_daformer(), test_cfg=dict(label_shift='x.json')))


# --- Inference Adjustment ------------------------------------------------------------------

def test_ia_flips_a_two_class_argmax(tmp_path):
    """p = [.6, .4] and P_t/P_s = [.5, 2] → p·P_t/P_s ∝ [.3, .8]: class 1 (SPEC §1.6)."""
    path = write_priors(tmp_path / 'ls.json', [2 / 3, 1 / 3], [1 / 3, 2 / 3])
    model = build_segmentor(dict(tiny_daformer(num_classes=2),
                                 test_cfg=dict(mode='whole', label_shift=dict(file=path))))
    logits = torch.log(torch.tensor([0.6, 0.4])).view(1, 2, 1, 1).expand(1, 2, 8, 8)
    model.encode_decode = lambda img, metas: logits
    probs = model.inference(torch.zeros(1, 3, 8, 8), img_metas(1, 8, 8), rescale=False)
    assert probs[0, :, 0, 0].tolist() == pytest.approx([0.3 / 1.1, 0.8 / 1.1])
    assert (probs.argmax(1) == 1).all()
    model.label_shift_log_ratio = None
    plain = model.inference(torch.zeros(1, 3, 8, 8), img_metas(1, 8, 8), rescale=False)
    assert (plain.argmax(1) == 0).all()


SLIDE = dict(mode='slide', crop_size=(48, 48), stride=(32, 32))  # 4 overlapping windows


def model_pair(cfg, test_cfg, label_shift_file):
    """The same random weights without and with ``test_cfg.label_shift``."""
    torch.manual_seed(0)
    plain = build_segmentor(dict(cfg, test_cfg=test_cfg)).eval()
    adjusted = build_segmentor(dict(cfg, test_cfg=dict(test_cfg, label_shift=dict(
        file=label_shift_file)))).eval()
    adjusted.load_state_dict(plain.state_dict())
    return plain, adjusted


# HRDA: context at half resolution, detail from its own overlapping 32² windows.
CASES = [(tiny_daformer(), dict(mode='whole')), (tiny_daformer(), SLIDE),
         (tiny_hrda(), dict(mode='whole'))]
CASE_IDS = ['whole', 'slide', 'hrda']


@pytest.mark.parametrize('cfg, test_cfg', CASES, ids=CASE_IDS)
def test_ia_with_equal_priors_is_bit_identical(tmp_path, cfg, test_cfg):
    prior = [1 / 19] * 19
    plain, adjusted = model_pair(cfg, test_cfg, write_priors(tmp_path / 'eq.json', prior, prior))
    img = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(plain.inference(img, img_metas(1, 64, 64), True),
                           adjusted.inference(img, img_metas(1, 64, 64), True))


@pytest.mark.parametrize('cfg, test_cfg', CASES, ids=CASE_IDS)
def test_ia_adds_the_log_prior_ratio_to_the_logits(tmp_path, cfg, test_cfg):
    source = torch.linspace(1, 3, 19)
    target = torch.linspace(3, 1, 19) ** 2
    path = write_priors(tmp_path / 'ls.json', (source / source.sum()).tolist(),
                        (target / target.sum()).tolist())
    plain, adjusted = model_pair(cfg, test_cfg, path)
    ratio = torch.tensor(log_prior_ratio(path, 19)).view(1, -1, 1, 1)
    img = torch.randn(1, 3, 64, 64)
    metas = img_metas(1, 64, 64)
    with torch.no_grad():
        logits = (plain.slide_inference if test_cfg['mode'] == 'slide'
                  else plain.whole_inference)(img, metas, True)
        expected = torch.softmax(logits + ratio, dim=1)
        result = adjusted.inference(img, metas, True)
    assert torch.allclose(result, expected, atol=1e-6)
    assert not torch.equal(result.argmax(1), plain.inference(img, metas, True).argmax(1))
