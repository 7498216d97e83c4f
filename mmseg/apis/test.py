"""Test loops: run a (data-parallel wrapped) segmentor over a data loader.

Results are per-image ``dataset.pre_eval`` statistics by default (constant memory per
image), which ``dataset.evaluate`` accumulates into mIoU.
"""
import os.path as osp
import warnings

import mmcv
import numpy as np
import torch
import torch.distributed as dist
from mmcv.image import tensor2imgs

from mmseg.utils.visualization import draw_heatmap


def single_gpu_test(model, data_loader, show=False, out_dir=None, efficient_test=False,
                    opacity=0.5, pre_eval=True, format_only=False, format_args=None):
    """Test ``model`` (an ``MMDataParallel``) on one device.

    Args:
        show (bool): display each prediction in a window.
        out_dir (str | None): write each coloured prediction to
            ``<out_dir>/<ori_filename>`` (one PNG per image).
        efficient_test (bool): deprecated, same as ``pre_eval=True``.
        opacity (float): prediction opacity over the image (1 = colours only).
        pre_eval (bool): return ``dataset.pre_eval`` statistics instead of seg maps.
        format_only (bool): return ``dataset.format_results(..., indices=...)`` outputs.
    Returns:
        list: one entry per image, in dataset order.
    """
    if efficient_test:
        warnings.warn('efficient_test is deprecated; using pre_eval=True instead.')
        pre_eval = True
    model.eval()
    dataset = data_loader.dataset
    results = []
    prog_bar = mmcv.ProgressBar(len(dataset))
    for batch_indices, data in zip(data_loader.batch_sampler, data_loader):
        with torch.no_grad():
            result = model(return_loss=False, **data)
        if show or out_dir:
            show_predictions(model, data, result, dataset, show, out_dir, opacity)
        results.extend(_postprocess(dataset, result, batch_indices, pre_eval, format_only,
                                    format_args))
        for _ in range(len(result)):
            prog_bar.update()
    return results


def multi_gpu_test(model, data_loader, tmpdir=None, gpu_collect=False, efficient_test=False,
                   pre_eval=True, format_only=False, format_args=None):
    """Test with one process per GPU (``torch.distributed`` initialised, distributed
    sampler without shuffling). Returns the results of all ranks on rank 0, else None.

    ``tmpdir`` / ``gpu_collect`` are accepted for mmseg 0.x compatibility; results are
    gathered with ``all_gather_object``.
    """
    if efficient_test:
        warnings.warn('efficient_test is deprecated; using pre_eval=True instead.')
        pre_eval = True
    model.eval()
    dataset = data_loader.dataset
    rank, world_size = dist.get_rank(), dist.get_world_size()
    part = []
    prog_bar = mmcv.ProgressBar(len(dataset)) if rank == 0 else None
    for batch_indices, data in zip(data_loader.batch_sampler, data_loader):
        with torch.no_grad():
            result = model(return_loss=False, **data)
        part.extend(_postprocess(dataset, result, batch_indices, pre_eval, format_only,
                                 format_args))
        if prog_bar is not None:
            for _ in range(len(result) * world_size):
                prog_bar.update()
    parts = [None] * world_size
    dist.all_gather_object(parts, part)
    if rank != 0:
        return None
    # The distributed sampler (no shuffle) gives rank r the indices r, r + W, r + 2W, ...
    ordered = [res for group in zip(*parts) for res in group]
    return ordered[:len(dataset)]


def _postprocess(dataset, result, batch_indices, pre_eval, format_only, format_args):
    if format_only:
        return dataset.format_results(result, indices=batch_indices, **(format_args or {}))
    if pre_eval:
        return dataset.pre_eval(result, indices=batch_indices)
    return list(result)


def show_predictions(model, data, result, dataset, show=False, out_dir=None, opacity=0.5):
    """Draw each prediction of a test batch over its de-normalised input image, at the
    original size; write it to ``<out_dir>/<ori_filename>`` and/or show it."""
    img_tensor = data['img'][0]
    img_metas = data['img_metas'][0]
    img_metas = img_metas.data[0] if hasattr(img_metas, 'data') else img_metas
    imgs = tensor2imgs(img_tensor, **img_metas[0]['img_norm_cfg'])
    segmentor = getattr(model, 'module', model)
    for img, img_meta, pred in zip(imgs, img_metas, result):
        h, w, _ = img_meta['img_shape']
        ori_h, ori_w = img_meta['ori_shape'][:2]
        img_show = mmcv.imresize(img[:h, :w, :], (ori_w, ori_h))
        out_file = osp.join(out_dir, img_meta['ori_filename']) if out_dir else None
        if np.issubdtype(np.asarray(pred).dtype, np.floating):
            # A map of floats is not a class-id map (HRDA --hrda-out ATT): a heat map.
            drawn = draw_heatmap(pred)
            if out_file:
                mmcv.imwrite(drawn, out_file)
            if show:
                mmcv.imshow(drawn, img_meta['ori_filename'])
            continue
        segmentor.show_result(img_show, [pred], palette=getattr(dataset, 'PALETTE', None),
                              show=show, out_file=out_file, opacity=opacity)
