"""mIoU / Acc against a hand-computed example (set-level accumulation, NaN classes)."""
import numpy as np
import pytest
import torch
from PIL import Image

from mmseg.core.evaluation.metrics import (eval_metrics, intersect_and_union, mean_dice,
                                           mean_fscore, mean_iou, pre_eval_to_metrics)

NAN = float('nan')
# Image 1 (255 = ignore). Per pixel (gt, pred): (0,0) ok, (0,1), (1,1) ok, (1,1) ok, (2,3).
GT1 = np.array([[0, 0, 1], [1, 255, 2]], np.uint8)
PRED1 = np.array([[0, 1, 1], [1, 0, 3]], np.int64)
# Image 2: all class 2, all right.
GT2 = np.full((2, 2), 2, np.uint8)
PRED2 = np.full((2, 2), 2, np.int64)
NUM_CLASSES = 5  # class 4 appears nowhere → NaN


def test_intersect_and_union_by_hand():
    inter, union, pred, label = intersect_and_union(PRED1, GT1, NUM_CLASSES, 255)
    assert all(isinstance(t, torch.Tensor) for t in (inter, union, pred, label))
    assert inter.tolist() == [1, 2, 0, 0, 0]
    assert pred.tolist() == [1, 3, 0, 1, 0]
    assert label.tolist() == [2, 2, 1, 0, 0]
    assert union.tolist() == [2, 3, 1, 1, 0]


def test_metrics_accumulate_over_the_whole_set():
    ret = mean_iou([PRED1, PRED2], [GT1, GT2], NUM_CLASSES, 255)
    # Class 2: intersection 0 + 4, union 1 + 4 → 0.8 (not the mean of 0 and 1).
    np.testing.assert_allclose(ret['IoU'], [0.5, 2 / 3, 0.8, 0.0, NAN])
    np.testing.assert_allclose(ret['Acc'], [0.5, 1.0, 0.8, NAN, NAN])
    assert ret['aAcc'] == pytest.approx(7 / 9)
    assert np.nanmean(ret['IoU']) == pytest.approx((0.5 + 2 / 3 + 0.8 + 0) / 4)
    assert np.nanmean(ret['Acc']) == pytest.approx((0.5 + 1 + 0.8) / 3)
    pre = [intersect_and_union(p, g, NUM_CLASSES, 255) for p, g in ((PRED1, GT1), (PRED2, GT2))]
    from_pre = pre_eval_to_metrics(pre, ['mIoU'])
    for key in ('IoU', 'Acc', 'aAcc'):
        np.testing.assert_allclose(from_pre[key], ret[key])
    zeros = eval_metrics([PRED1, PRED2], [GT1, GT2], NUM_CLASSES, 255, nan_to_num=-1)
    assert zeros['IoU'][4] == -1


def test_dice_and_fscore():
    dice = mean_dice([PRED1], [GT1], NUM_CLASSES, 255)['Dice']
    np.testing.assert_allclose(dice, [2 / 3, 0.8, 0.0, 0.0, NAN])
    ret = mean_fscore([PRED1], [GT1], NUM_CLASSES, 255)
    np.testing.assert_allclose(ret['Precision'][:2], [1.0, 2 / 3])
    np.testing.assert_allclose(ret['Recall'][:2], [0.5, 1.0])
    np.testing.assert_allclose(ret['Fscore'][:2], [2 / 3, 0.8])
    with pytest.raises(KeyError, match='mIoU'):
        eval_metrics([PRED1], [GT1], NUM_CLASSES, 255, metrics=['IoU'])


def test_files_label_map_and_reduce_zero_label(tmp_path):
    np.save(tmp_path / 'pred.npy', PRED1)
    Image.fromarray(GT1).save(tmp_path / 'gt.png')
    from_files = intersect_and_union(str(tmp_path / 'pred.npy'), str(tmp_path / 'gt.png'),
                                     NUM_CLASSES, 255)
    from_arrays = intersect_and_union(PRED1, GT1, NUM_CLASSES, 255)
    assert all(torch.equal(a, b) for a, b in zip(from_files, from_arrays))
    # reduce_zero_label: 0 → ignored, 1 → 0, 2 → 1.
    gt = np.array([[0, 1, 2]], np.uint8)
    inter, _, _, label = intersect_and_union(np.array([[1, 0, 0]]), gt, 2, 255,
                                             reduce_zero_label=True)
    assert label.tolist() == [1, 1] and inter.tolist() == [1, 0]
    # label_map swaps classes 0 and 1 of the ground truth.
    inter, _, _, label = intersect_and_union(np.array([[1, 0]]), np.array([[0, 1]], np.uint8),
                                             2, 255, label_map={0: 1, 1: 0})
    assert inter.tolist() == [1, 1]


def test_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match='shape'):
        intersect_and_union(np.zeros((2, 3)), np.zeros((3, 2), np.uint8), 2, 255)
