"""Peak memory and time of one full training step of a config, split into weights,
optimizer state, gradients and activations — on CUDA from the allocator, on CPU from an
exact count of live tensor bytes (``mmseg.utils.memory_counter``) — and whether it fits a
GPU of a given size, with the memory switches of ``cfg.optimization`` that make it fit.

The step runs on random images and labels of the config's crop size and batch size (the
memory of a step does not depend on the pixel values), with freshly initialised weights
(no pretrained files needed) and the optimizer state already created, as in any step after
the first.
"""
import copy
import time
from collections import OrderedDict

import torch
from mmcv import Config
from mmcv.runner import build_optimizer

from mmseg.models import build_train_model
from mmseg.utils.memory_counter import (PeakMemory, optimizer_state_tensors,
                                        unique_tensor_bytes)

from .train import optimizer_config

IMG_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
GIB = 2**30
# cfg.optimization of each variant the tool compares (each switch alone, then all).
MEMORY_VARIANTS = OrderedDict([
    ('default', {}),
    ('fused_backward', dict(fused_source_backward=True)),
    ('checkpoint_head', dict(activation_checkpointing=dict(decode_head=True))),
    ('checkpoint_backbone', dict(activation_checkpointing=dict(backbone_stages=(1, 2, 3, 4)))),
    ('no_grad_aspp_chunks', dict(no_grad_aspp_chunks=8)),
    ('low_memory', dict(low_memory=True)),
])
# A GPU needs more than the tensors' peak: the CUDA context and cuDNN/cuBLAS workspaces,
# and the caching allocator's block rounding and fragmentation. Rule-of-thumb values,
# not calibrated on a GPU here.
CUDA_CONTEXT_GIB = 0.75
CUDA_ALLOCATOR_OVERHEAD = 1.10


def train_crop_size(cfg):
    """(h, w) of the RandomCrop in the (source) training pipeline."""
    train = cfg.data.train
    pipeline = (train.source if train.get('type') == 'UDADataset' else train).pipeline
    for step in pipeline:
        if step['type'] == 'RandomCrop':
            return tuple(step['crop_size'])
    raise ValueError('the config has no RandomCrop in data.train(.source).pipeline; the '
                     'step memory needs the training crop size')


def random_batch(batch_size, crop, num_classes, device, seed=0, ignored_rows=4):
    """A UDA batch of random images and labels; the top ``ignored_rows`` label rows are
    255 (ignored), so that the step also meets ignored pixels."""
    g = torch.Generator().manual_seed(seed)
    h, w = crop
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3), flip=False,
                  scale_factor=1.0, img_norm_cfg=IMG_NORM) for _ in range(batch_size)]
    gt = torch.randint(0, num_classes, (batch_size, 1, h, w), generator=g)
    gt[:, :, :ignored_rows] = 255
    return dict(img=torch.randn(batch_size, 3, h, w, generator=g).to(device), img_metas=metas,
                gt_semantic_seg=gt.to(device),
                target_img=torch.randn(batch_size, 3, h, w, generator=g).to(device),
                target_img_metas=metas)


def without_pretrained_files(cfg):
    cfg = copy.deepcopy(cfg)
    cfg.model.pretrained = None
    cfg.model.backbone.pop('pretrained', None)
    cfg.pop('load_from', None)
    return cfg


def build_for_step(cfg, optimization, device):
    """(model, optimizer) of ``cfg`` with ``optimization`` merged into cfg.optimization."""
    cfg = without_pretrained_files(cfg)
    cfg.optimization = dict(cfg.get('optimization') or {}, **copy.deepcopy(optimization))
    torch.manual_seed(0)
    model = build_train_model(cfg, train_cfg=dict(work_dir=None)).to(device)
    model.train()
    optimizer = build_optimizer(model, optimizer_config(cfg.optimizer))
    create_optimizer_state(model, optimizer)
    return model, optimizer


def create_optimizer_state(model, optimizer):
    """One optimizer step on zero gradients, so the state exists before the measured step;
    then gradients released, as ``train_step`` does at its start."""
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def measure_train_step(model, optimizer, batch, device):
    """One ``train_step`` → dict of bytes (weights, optimizer_state, gradients,
    activations, peak) and ``step_s``.

    weights: parameters and buffers of every network (student, teachers, ImageNet copy);
    optimizer_state: e.g. AdamW's two moments; gradients: the ``.grad`` tensors after the
    step; activations: the rest of the step's peak (kept activations, temporaries). The
    gradients are allocated during the first backward, so where the peak falls before
    that, the activations are underestimated by at most the gradients.
    """
    weights = unique_tensor_bytes(list(model.parameters()) + list(model.buffers()))
    state = unique_tensor_bytes(optimizer_state_tensors(optimizer))
    with PeakMemory(device) as memory:
        start = time.perf_counter()
        model.train_step(batch, optimizer)
        if str(device).startswith('cuda'):
            torch.cuda.synchronize()
        step_s = time.perf_counter() - start
    gradients = unique_tensor_bytes([p.grad for p in model.parameters()])
    activations = max(0, memory.peak_bytes - gradients)
    return dict(weights=weights, optimizer_state=state, gradients=gradients,
                activations=activations, peak=weights + state + memory.peak_bytes,
                step_s=step_s, method='cuda allocator' if str(device).startswith('cuda')
                else 'exact live CPU tensor bytes (profiler allocation events)')


def predicted_gpu_gib(peak_bytes):
    """What a GPU needs for a step whose tensors peak at ``peak_bytes``."""
    return peak_bytes / GIB * CUDA_ALLOCATOR_OVERHEAD + CUDA_CONTEXT_GIB


def measure_variants(cfg, variants, device, amp=None):
    """{variant name: measure_train_step result} for one batch of ``cfg``'s size."""
    if isinstance(cfg, str):
        cfg = Config.fromfile(cfg)
    crop = train_crop_size(cfg)
    batch_size = cfg.data.samples_per_gpu
    results = OrderedDict()
    for name in variants:
        optimization = copy.deepcopy(MEMORY_VARIANTS[name])
        if amp is not None:
            optimization['mixed_precision'] = dict(enabled=True, dtype=amp)
        model, optimizer = build_for_step(cfg, optimization, device)
        batch = random_batch(batch_size, crop, model.num_classes, device)
        results[name] = measure_train_step(model, optimizer, batch, device)
        del model, optimizer, batch
        if str(device).startswith('cuda'):
            torch.cuda.empty_cache()
    return results


def fitting_variants(results, gpu_gib):
    """The variant names whose predicted need is within ``gpu_gib``, fastest first."""
    fits = [name for name, r in results.items() if predicted_gpu_gib(r['peak']) <= gpu_gib]
    return sorted(fits, key=lambda name: results[name]['step_s'])
