"""Registries of datasets and data transforms, and the dataset / data loader builders."""
import copy
import random
from functools import partial

import numpy as np
import torch
from mmcv.parallel import collate
from torch.utils.data import DataLoader, DistributedSampler

from mmseg.utils.registry import closest_names, make_registry

DATASETS = make_registry('dataset')
PIPELINES = make_registry('pipeline')


def _concat_dataset(cfg, default_args=None):
    """One dataset per entry of list-valued ``img_dir`` / ``ann_dir`` / ``split``,
    concatenated (mmseg 0.x)."""
    from .dataset_wrappers import ConcatDataset
    img_dirs = cfg['img_dir']
    ann_dirs = cfg.get('ann_dir')
    splits = cfg.get('split')
    num = len(img_dirs) if isinstance(img_dirs, (list, tuple)) else len(splits)
    for key, value in (('ann_dir', ann_dirs), ('split', splits)):
        if isinstance(value, (list, tuple)) and len(value) != num:
            raise ValueError(f"dataset config: '{key}' has {len(value)} entries but "
                             f'{num} datasets are concatenated')
    datasets = []
    for i in range(num):
        data_cfg = copy.deepcopy(cfg)
        for key, value in (('img_dir', img_dirs), ('ann_dir', ann_dirs), ('split', splits)):
            if isinstance(value, (list, tuple)):
                data_cfg[key] = value[i]
        datasets.append(build_dataset(data_cfg, default_args))
    return ConcatDataset(datasets)


UDA_DATASET_KEYS = ('type', 'source', 'target', 'rare_class_sampling', 'sync_crop_size')
REPEAT_DATASET_KEYS = ('type', 'dataset', 'times')


def _check_wrapper_keys(cfg, allowed, inner):
    """Unknown keys of a wrapper config would be silently ignored: refuse them."""
    unknown = [k for k in cfg if k not in allowed]
    if unknown:
        hints = '; '.join(
            f"'{k}'" + (f' (did you mean {closest_names(k, allowed)[0]!r}?)'
                        if closest_names(k, allowed) else '') for k in unknown)
        raise KeyError(f"{cfg['type']} config: unknown key(s) {hints}. Valid keys: "
                       f'{list(allowed)}; dataset settings such as data_root or pipeline '
                       f"belong inside {inner}.")


def build_dataset(cfg, default_args=None):
    """Build a dataset from its config.

    ``cfg`` may be a list of configs (concatenated), ``dict(type='RepeatDataset',
    dataset=..., times=N)``, ``dict(type='UDADataset', source=..., target=..., ...)``
    (the whole dict is passed to ``UDADataset`` as ``cfg``, like the original), or any
    registered dataset type. ``default_args`` (e.g. ``dict(test_mode=True)``) are added
    to the configs that do not set them.
    """
    from .dataset_wrappers import ConcatDataset, RepeatDataset
    if isinstance(cfg, (list, tuple)):
        return ConcatDataset([build_dataset(c, default_args) for c in cfg])
    dataset_type = cfg.get('type')
    if dataset_type == 'RepeatDataset':
        _check_wrapper_keys(cfg, REPEAT_DATASET_KEYS, "'dataset'")
        return RepeatDataset(build_dataset(cfg['dataset'], default_args), cfg['times'])
    if dataset_type == 'UDADataset':
        from .uda_dataset import UDADataset
        _check_wrapper_keys(cfg, UDA_DATASET_KEYS, "'source' / 'target'")
        for key in ('source', 'target'):
            if key not in cfg:
                raise KeyError(f"UDADataset config needs '{key}' (a dataset config)")
        return UDADataset(source=build_dataset(cfg['source'], default_args),
                          target=build_dataset(cfg['target'], default_args), cfg=cfg)
    if isinstance(cfg.get('img_dir'), (list, tuple)) or isinstance(
            cfg.get('split'), (list, tuple)):
        return _concat_dataset(cfg, default_args)
    return DATASETS.build(cfg, default_args=default_args)


def worker_init_fn(worker_id, num_workers, rank, seed):
    """Seed numpy and ``random`` in each data loader worker.

    With a ``seed`` the worker seed is ``num_workers * rank + worker_id + seed`` (mmseg
    0.x). Without one, torch's per-worker seed is used, so that workers do not share the
    numpy stream they inherited from the parent process.
    """
    if seed is None:
        worker_seed = torch.initial_seed() % 2**32
    else:
        worker_seed = num_workers * rank + worker_id + seed
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def _dist_info():
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def build_dataloader(dataset, samples_per_gpu, workers_per_gpu, num_gpus=1, dist=False,
                     shuffle=True, seed=None, drop_last=False, pin_memory=True,
                     persistent_workers=True, sampler=None, **kwargs):
    """A PyTorch ``DataLoader`` batching with ``mmcv.parallel.collate``.

    Args:
        dataset (Dataset): the dataset.
        samples_per_gpu (int): batch size per GPU.
        workers_per_gpu (int): loader worker processes per GPU.
        num_gpus (int): GPUs of a non-distributed (data-parallel) run; the batch size is
            ``num_gpus * samples_per_gpu``.
        dist (bool): distributed run: a ``DistributedSampler`` (rank / world size from
            ``torch.distributed``) gives each process its share.
        shuffle (bool): shuffle the samples (every epoch).
        seed (int | None): base seed of the workers (see :func:`worker_init_fn`).
        drop_last (bool): drop the last incomplete batch.
        pin_memory (bool): pin batches in page-locked memory (only when CUDA is
            available: there is nothing to pin for on a CPU-only machine).
        persistent_workers (bool): keep workers alive between epochs (only used when
            there are workers).
        sampler (Sampler | None): use this sampler instead of the default one (shuffling,
            or ``DistributedSampler`` when ``dist``); ``shuffle`` is then ignored.
        **kwargs: further ``DataLoader`` arguments.
    Returns:
        DataLoader: yields dicts of ``DataContainer`` batches.
    """
    rank, world_size = _dist_info()
    if dist:
        if sampler is None:
            sampler = DistributedSampler(dataset, world_size, rank, shuffle=shuffle,
                                         seed=seed if seed is not None else 0)
        batch_size = samples_per_gpu
        num_workers = workers_per_gpu
    else:
        batch_size = num_gpus * samples_per_gpu
        num_workers = num_gpus * workers_per_gpu
    if sampler is not None:
        shuffle = False  # the sampler decides the order
    init_fn = partial(worker_init_fn, num_workers=num_workers, rank=rank, seed=seed)
    if num_workers > 0:
        kwargs['persistent_workers'] = persistent_workers
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                      num_workers=num_workers,
                      collate_fn=partial(collate, samples_per_gpu=samples_per_gpu),
                      pin_memory=pin_memory and torch.cuda.is_available(), shuffle=shuffle,
                      worker_init_fn=init_fn if num_workers > 0 else None,
                      drop_last=drop_last, **kwargs)
