"""Estimate the label shift of a trained UDA model (Liu et al., CVPR 2022; spec §1.2 steps
7-8): the source prior from the converter's ``sample_class_stats.json``, the target prior
from the model's softmax maps on every target-train image."""
import json
import os.path as osp

import mmcv
import torch

from mmseg.datasets import build_dataloader, build_dataset
from mmseg.models.uda.label_shift import (class_pixel_counts, normalised_prior,
                                          presence_counts, target_presence)

from .inference import build_test_segmentor, load_segmentor_checkpoint


def source_class_stats_file(cfg):
    """``<data.train.source.data_root>/sample_class_stats.json`` of a UDA config."""
    train = cfg.data.train
    if train.get('type') != 'UDADataset':
        raise ValueError('label shift estimation needs a UDA config: data.train.type must be '
                         f"'UDADataset', got {train.get('type')!r}")
    path = osp.join(train.source.data_root, 'sample_class_stats.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found (data.train.source.data_root): the '
                                'dataset converters write it (tools/convert_datasets/)')
    return path


def target_loader(cfg):
    """The target-train images (``data.train.target``) through the test pipeline."""
    target = dict(cfg.data.train.target, pipeline=cfg.data.test.pipeline, test_mode=True)
    dataset = build_dataset(mmcv.ConfigDict(target))
    return build_dataloader(dataset, samples_per_gpu=1, workers_per_gpu=0, dist=False,
                            shuffle=False)


def target_presence_counts(model, loader, pixel_freq, device):
    """Σ_i I_t^i(k) over the loader's images (softmax maps at the test pipeline's size,
    not rescaled to the original). Returns (K counts, number of images)."""
    counts, images = 0, 0
    progress = mmcv.ProgressBar(len(loader.dataset))
    model.eval()
    for data in loader:
        img = data['img'][0].to(device)
        metas = data['img_metas'][0].data[0]
        with torch.no_grad():
            probs = model.inference(img, metas, rescale=False)
        counts = counts + target_presence(probs, pixel_freq).double().sum(0).cpu()
        images += img.shape[0]
        for _ in range(img.shape[0]):
            progress.update()
    return counts, images


def estimate_label_shift(cfg, checkpoint, min_pixels, pseudo_count=1.0, device=None,
                         weights='student'):
    """The ``label_shift.json`` record of ``checkpoint`` (see mmseg.utils.label_shift_file):
    counts, P_s, P_t, the source pixel frequency and n_s (``min_pixels``); P_t from the
    checkpoint's student or (``weights='teacher'``) its EMA teacher."""
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    stats_file = source_class_stats_file(cfg)
    with open(stats_file) as f:
        stats = json.load(f)
    test_cfg = dict(cfg.model.get('test_cfg') or {})
    test_cfg.pop('label_shift', None)  # the raw posteriors are estimated, not adjusted ones
    cfg.model.test_cfg = test_cfg
    model = build_test_segmentor(cfg)
    num_classes = model.num_classes
    pixels = class_pixel_counts(stats, num_classes)
    pixel_freq = normalised_prior(pixels.sum(0))
    source_counts = presence_counts(pixels, min_pixels)
    loader = target_loader(cfg)
    load_segmentor_checkpoint(model, checkpoint, dataset_classes=loader.dataset.CLASSES,
                              weights=weights)
    target_counts, target_images = target_presence_counts(model.to(device), loader,
                                                          pixel_freq, device)
    return dict(
        classes=list(model.CLASSES), num_classes=num_classes, min_pixels=min_pixels,
        pseudo_count=pseudo_count, source_stats=stats_file, source_images=len(stats),
        source_counts=source_counts.tolist(), checkpoint=checkpoint, weights=weights,
        target_images=target_images, target_counts=target_counts.tolist(),
        source_pixel_frequency=pixel_freq.tolist(),
        source_prior=normalised_prior(source_counts, pseudo_count).tolist(),
        target_prior=normalised_prior(target_counts, pseudo_count).tolist())
