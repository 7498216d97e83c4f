"""Segmentation metrics (mmseg 0.x semantics).

Per image, :func:`intersect_and_union` counts per-class pixel areas; the areas are summed
over the whole set before dividing (``IoU_c = sum_i |P_c ∩ G_c| / sum_i |P_c ∪ G_c|``), so
the mean IoU is *not* an average of per-image IoUs. Classes absent from both the ground
truth and the predictions of the whole set get NaN and are left out of the means.
"""
from collections import OrderedDict

import mmcv
import numpy as np
import torch

ALLOWED_METRICS = ('mIoU', 'mDice', 'mFscore')


def f_score(precision, recall, beta=1):
    """F-beta score from precision and recall (scalars or arrays)."""
    return (1 + beta**2) * (precision * recall) / ((beta**2 * precision) + recall)


def _as_numpy_pred(pred_label):
    if isinstance(pred_label, str):
        return np.load(pred_label)
    if isinstance(pred_label, torch.Tensor):
        return pred_label.detach().cpu().numpy()
    return np.asarray(pred_label)


def _as_numpy_label(label):
    if isinstance(label, str):
        return mmcv.imread(label, flag='unchanged', backend='pillow')
    if isinstance(label, torch.Tensor):
        return label.detach().cpu().numpy()
    return np.asarray(label)


def map_label(label, label_map=None, reduce_zero_label=False):
    """Apply a custom-classes ``label_map`` ({old id: new id}, -1 = drop → 255) and the
    ``reduce_zero_label`` convention (0 → 255, others − 1) to a label map (copy)."""
    label = np.array(label, copy=True)
    if label_map:
        mapped = label.copy()
        for old_id, new_id in label_map.items():
            # -1 marks a dropped class; uint8 maps used to wrap it to 255 (ignored).
            mapped[label == old_id] = 255 if new_id == -1 else new_id
        label = mapped
    if reduce_zero_label:
        label = label.astype(np.int64)
        label[label == 0] = 255
        label = label - 1
        label[label == 254] = 255
    return label


def intersect_and_union(pred_label, label, num_classes, ignore_index, label_map=dict(),
                        reduce_zero_label=False):
    """Per-class areas of one image.

    Args:
        pred_label (ndarray | Tensor | str): H×W predicted class ids (or a ``.npy`` path).
        label (ndarray | Tensor | str): H×W ground-truth ids (or an image path).
        num_classes (int): number of classes; ids outside ``[0, num_classes)`` are not
            counted for their own side (like ``torch.histc`` in mmseg 0.x).
        ignore_index (int): ground-truth value excluded from every area.
        label_map (dict): custom-classes id remapping applied to ``label``.
        reduce_zero_label (bool): apply the reduce-zero-label convention to ``label``.
    Returns:
        tuple[Tensor]: ``area_intersect, area_union, area_pred_label, area_label``, each of
        shape (num_classes,), float64 (exact pixel counts).
    """
    pred = _as_numpy_pred(pred_label)
    gt = _as_numpy_label(label)
    if label_map or reduce_zero_label:
        gt = map_label(gt, label_map, reduce_zero_label)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction shape {pred.shape} differs from ground-truth shape '
                         f'{gt.shape}' + (f' ({label})' if isinstance(label, str) else ''))
    keep = gt != ignore_index
    pred = pred[keep].astype(np.int64)
    gt = gt[keep].astype(np.int64)
    # Out-of-range ids go to an extra bin n, so they count for the other side only.
    n = num_classes
    pred[(pred < 0) | (pred >= n)] = n
    gt[(gt < 0) | (gt >= n)] = n
    confusion = np.bincount(gt * (n + 1) + pred, minlength=(n + 1)**2).reshape(n + 1, n + 1)
    area_intersect = np.diag(confusion)[:n]
    area_label = confusion.sum(axis=1)[:n]
    area_pred_label = confusion.sum(axis=0)[:n]
    area_union = area_pred_label + area_label - area_intersect
    return tuple(torch.from_numpy(a.astype(np.float64))
                 for a in (area_intersect, area_union, area_pred_label, area_label))


def total_intersect_and_union(results, gt_seg_maps, num_classes, ignore_index,
                              label_map=dict(), reduce_zero_label=False):
    """Sum of :func:`intersect_and_union` over pairs of ``results`` / ``gt_seg_maps``
    (lists or iterables of arrays / paths). Returns the 4 summed areas, (num_classes,)."""
    totals = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
    for result, gt_seg_map in zip(results, gt_seg_maps):
        areas = intersect_and_union(result, gt_seg_map, num_classes, ignore_index, label_map,
                                    reduce_zero_label)
        for total, area in zip(totals, areas):
            total += area
    return tuple(totals)


def total_area_to_metrics(total_area_intersect, total_area_union, total_area_pred_label,
                          total_area_label, metrics=['mIoU'], nan_to_num=None, beta=1):
    """Metrics from summed areas.

    Returns:
        dict[str, ndarray]: ``aAcc`` (scalar) and per-class arrays: ``IoU``/``Acc`` (mIoU),
        ``Dice``/``Acc`` (mDice), ``Fscore``/``Precision``/``Recall`` (mFscore); fractions
        in [0, 1], NaN for 0/0 unless ``nan_to_num`` is given.
    """
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = set(metrics) - set(ALLOWED_METRICS)
    if unknown:
        raise KeyError(f'metrics {sorted(unknown)} are not supported; choose from '
                       f'{list(ALLOWED_METRICS)}')
    with np.errstate(divide='ignore', invalid='ignore'):
        intersect = np.asarray(total_area_intersect, dtype=np.float64)
        union = np.asarray(total_area_union, dtype=np.float64)
        pred = np.asarray(total_area_pred_label, dtype=np.float64)
        label = np.asarray(total_area_label, dtype=np.float64)
        ret_metrics = OrderedDict(aAcc=intersect.sum() / label.sum())
        for metric in metrics:
            if metric == 'mIoU':
                ret_metrics['IoU'] = intersect / union
                ret_metrics['Acc'] = intersect / label
            elif metric == 'mDice':
                ret_metrics['Dice'] = 2 * intersect / (pred + label)
                ret_metrics['Acc'] = intersect / label
            elif metric == 'mFscore':
                precision = intersect / pred
                recall = intersect / label
                ret_metrics['Fscore'] = f_score(precision, recall, beta)
                ret_metrics['Precision'] = precision
                ret_metrics['Recall'] = recall
    if nan_to_num is not None:
        ret_metrics = OrderedDict(
            (k, np.nan_to_num(v, nan=nan_to_num)) for k, v in ret_metrics.items())
    return ret_metrics


def eval_metrics(results, gt_seg_maps, num_classes, ignore_index, metrics=['mIoU'],
                 nan_to_num=None, label_map=dict(), reduce_zero_label=False, beta=1):
    """Metrics of predictions ``results`` against ``gt_seg_maps`` (see
    :func:`total_area_to_metrics` for the returned dict)."""
    areas = total_intersect_and_union(results, gt_seg_maps, num_classes, ignore_index,
                                      label_map, reduce_zero_label)
    return total_area_to_metrics(*areas, metrics, nan_to_num, beta)


def mean_iou(results, gt_seg_maps, num_classes, ignore_index, nan_to_num=None,
             label_map=dict(), reduce_zero_label=False):
    """``aAcc`` and per-class ``IoU`` / ``Acc`` (mmseg 0.x ``mean_iou``)."""
    return eval_metrics(results, gt_seg_maps, num_classes, ignore_index, ['mIoU'],
                        nan_to_num, label_map, reduce_zero_label)


def mean_dice(results, gt_seg_maps, num_classes, ignore_index, nan_to_num=None,
              label_map=dict(), reduce_zero_label=False):
    """``aAcc`` and per-class ``Dice`` / ``Acc``."""
    return eval_metrics(results, gt_seg_maps, num_classes, ignore_index, ['mDice'],
                        nan_to_num, label_map, reduce_zero_label)


def mean_fscore(results, gt_seg_maps, num_classes, ignore_index, nan_to_num=None,
                label_map=dict(), reduce_zero_label=False, beta=1):
    """``aAcc`` and per-class ``Fscore`` / ``Precision`` / ``Recall``."""
    return eval_metrics(results, gt_seg_maps, num_classes, ignore_index, ['mFscore'],
                        nan_to_num, label_map, reduce_zero_label, beta)


def pre_eval_to_metrics(pre_eval_results, metrics=['mIoU'], nan_to_num=None, beta=1):
    """Metrics from per-image ``intersect_and_union`` tuples (``dataset.pre_eval``
    output), summed over the whole set first."""
    pre_eval_results = list(pre_eval_results)
    if not pre_eval_results:
        raise ValueError('no pre_eval results to evaluate (empty dataset?)')
    for i, item in enumerate(pre_eval_results):
        if not (isinstance(item, (tuple, list)) and len(item) == 4):
            raise TypeError(f'pre_eval result {i} is not a 4-tuple of per-class areas '
                            f'(got {type(item).__name__})')
    columns = list(zip(*pre_eval_results))
    totals = [sum(torch.as_tensor(a, dtype=torch.float64) for a in column)
              for column in columns]
    return total_area_to_metrics(*totals, metrics, nan_to_num, beta)
