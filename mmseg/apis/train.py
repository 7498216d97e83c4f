"""Training entry point: data loaders, optimizer, IterBasedRunner and its hooks."""
import copy
import functools
import inspect
import random
import warnings

import numpy as np
import torch
from mmcv.runner import HOOKS, build_optimizer, build_runner, get_dist_info
from mmcv.utils import build_from_cfg

from mmseg.apis.parallel import wrap_model
from mmseg.apis.resume import apply_start_checkpoint, select_start_checkpoint
from mmseg.apis.test import multi_gpu_test, single_gpu_test
from mmseg.core.evaluation import DistEvalHook, EvalHook
from mmseg.core.hooks import ResumableCheckpointHook
from mmseg.core.resumable_sampler import ResumableSampler
from mmseg.datasets import SeededSampleDataset, build_dataloader, build_dataset
from mmseg.utils import get_root_logger

# Every run also logs to TensorBoard (<work_dir>/tf_logs) besides the text/JSON logs.
DEFAULT_EXTRA_LOG_HOOKS = (dict(type='TensorboardLoggerHook', by_epoch=False),)


def init_random_seed(seed=None, device='cpu'):
    """``seed`` if given, else a random one (the same on every rank when distributed)."""
    if seed is not None:
        return seed
    seed = int(np.random.randint(2**31))
    rank, world_size = get_dist_info()
    if world_size == 1:
        return seed
    import torch.distributed as dist
    value = torch.tensor(seed if rank == 0 else 0, dtype=torch.int64, device=device)
    dist.broadcast(value, src=0)
    return int(value.item())


def set_random_seed(seed, deterministic=False):
    """Seed python, numpy and torch (all devices).

    Args:
        deterministic (bool): also make cuDNN deterministic (slower).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def log_hooks_config(log_config):
    """``cfg.log_config`` with the TensorBoard logger added when it is missing."""
    if log_config is None:
        return None
    log_config = copy.deepcopy(dict(log_config))
    hooks = list(log_config.get('hooks', []))
    present = {h['type'] for h in hooks}
    hooks += [dict(h) for h in DEFAULT_EXTRA_LOG_HOOKS if h['type'] not in present]
    log_config['hooks'] = hooks
    # 'img_interval' is read by the UDA wrappers (debug images), not by mmcv's hooks.
    log_config.pop('img_interval', None)
    return log_config


def build_train_loaders(datasets, cfg, distributed=False):
    """One loader per dataset (``drop_last``), each sampled by a :class:`ResumableSampler`
    seeded with ``cfg.seed`` and with its own generator for the loader's worker seeds, so
    that the data order neither depends on nor consumes the global random state.

    Every sample is drawn with its own seed, from (seed, rank, epoch, position in the
    epoch) (:class:`SeededSampleDataset`): its augmentations and Rare Class Sampling draws
    are the same for any ``workers_per_gpu`` and in a resumed run."""
    seed = cfg.get('seed')
    sampler_seed = seed if seed is not None else int(torch.randint(2**31 - 1, ()).item())
    rank, world_size = get_dist_info() if distributed else (0, 1)
    loaders = []
    for dataset in datasets:
        sampler = ResumableSampler(len(dataset), shuffle=True, seed=sampler_seed, rank=rank,
                                   world_size=world_size, sample_seeds=True)
        generator = torch.Generator()
        generator.manual_seed(sampler_seed)
        loaders.append(build_dataloader(
            SeededSampleDataset(dataset), cfg.data.samples_per_gpu, cfg.data.workers_per_gpu,
            len(cfg.get('gpu_ids') or [0]), dist=distributed, seed=seed, drop_last=True,
            sampler=sampler, generator=generator))
    return loaders


CHECKPOINT_HOOK_TYPES = ('CheckpointHook', 'ResumableCheckpointHook')


def build_checkpoint_hook(checkpoint_config, train_loader):
    """``cfg.checkpoint_config`` as a :class:`ResumableCheckpointHook` (also when it names
    mmcv's ``CheckpointHook``, whose keys it accepts) that saves ``train_loader``'s
    position; another registered ``type`` is built as configured."""
    config = dict(checkpoint_config)
    hook_type = config.pop('type', 'ResumableCheckpointHook')
    if hook_type not in CHECKPOINT_HOOK_TYPES:
        return build_from_cfg(dict(config, type=hook_type), HOOKS)
    valid = [k for k in inspect.signature(ResumableCheckpointHook).parameters
             if k != 'train_loader']
    unknown = sorted(set(config) - set(valid))
    if unknown:
        raise KeyError(f'checkpoint_config: unknown key(s) {unknown}; valid keys: {valid}')
    return ResumableCheckpointHook(**config, train_loader=train_loader)


def build_eval_hook(cfg, distributed=False, train_loader=None):
    """The evaluation hook over ``cfg.data.val`` (batch 1, no shuffling), configured by
    ``cfg.evaluation`` (``interval``, ``metric``, ``save_best``, ...); a best checkpoint
    saves ``train_loader``'s position."""
    val_dataset = build_dataset(cfg.data.val, dict(test_mode=True))
    val_dataloader = build_dataloader(
        val_dataset, samples_per_gpu=1, workers_per_gpu=cfg.data.workers_per_gpu,
        dist=distributed, shuffle=False)
    eval_cfg = dict(cfg.get('evaluation', {}))
    eval_cfg['by_epoch'] = cfg.runner['type'] != 'IterBasedRunner'
    eval_cfg['train_loader'] = train_loader
    if distributed:
        return DistEvalHook(val_dataloader, test_fn=functools.partial(multi_gpu_test,
                                                                       pre_eval=True),
                            **eval_cfg)
    return EvalHook(val_dataloader, test_fn=functools.partial(single_gpu_test, pre_eval=True),
                    **eval_cfg)


def optimizer_config(optimizer_cfg):
    """``cfg.optimizer``, with the fused (single-kernel) AdamW/Adam on CUDA unless the config
    sets ``fused`` itself; same results within float noise."""
    optimizer_cfg = copy.deepcopy(dict(optimizer_cfg))
    if torch.cuda.is_available() and optimizer_cfg.get('type') in ('AdamW', 'Adam'):
        optimizer_cfg.setdefault('fused', True)
    return optimizer_cfg


def train_segmentor(model, dataset, cfg, distributed=False, validate=False, timestamp=None,
                    meta=None, start='cfg'):
    """Train ``model`` (a segmentor or UDA wrapper) on ``dataset`` (or a list of them,
    one per workflow phase) as configured by ``cfg``.

    Uses ``cfg.runner`` (default ``IterBasedRunner`` with ``cfg.total_iters``),
    ``cfg.optimizer`` (``paramwise_cfg.custom_keys`` supported), ``cfg.optimizer_config``
    (None for UDA wrappers, which step the optimizer themselves), ``cfg.lr_config``,
    ``cfg.checkpoint_config`` (resumable, atomically written checkpoints),
    ``cfg.log_config`` and, when ``validate``, ``cfg.evaluation`` (``evaluation = None``:
    no evaluation, e.g. a target without validation labels). Checkpoints and logs go to
    ``cfg.work_dir``.

    ``start``: 'cfg' selects the checkpoint to start from by ``cfg.resume_from`` /
    ``cfg.auto_resume`` / ``cfg.load_from`` (see
    :func:`~mmseg.apis.resume.select_start_checkpoint`); a
    :class:`~mmseg.apis.resume.StartCheckpoint` (already read) is used as it is; None starts
    from scratch. A resumed run continues exactly as the uninterrupted run would have, with
    any ``workers_per_gpu``.
    """
    logger = get_root_logger(log_level=cfg.get('log_level', 'INFO'))
    datasets = dataset if isinstance(dataset, (list, tuple)) else [dataset]
    data_loaders = build_train_loaders(datasets, cfg, distributed)

    model = wrap_model(model, cfg, distributed)
    optimizer = build_optimizer(model, optimizer_config(cfg.optimizer))

    if cfg.get('runner') is None:
        cfg.runner = dict(type='IterBasedRunner', max_iters=cfg.total_iters)
        warnings.warn('config has no runner; using IterBasedRunner with cfg.total_iters')
    runner = build_runner(cfg.runner, default_args=dict(
        model=model, batch_processor=None, optimizer=optimizer, work_dir=cfg.work_dir,
        logger=logger, meta=meta))
    runner.register_training_hooks(
        cfg.lr_config, cfg.get('optimizer_config'), None,
        log_hooks_config(cfg.get('log_config')), cfg.get('momentum_config'),
        custom_hooks_config=cfg.get('custom_hooks'))
    if cfg.get('checkpoint_config') is not None:
        # Last of all hooks: the saved random state must include what evaluation and
        # logging of the iteration consumed.
        runner.register_hook(build_checkpoint_hook(cfg.checkpoint_config, data_loaders[0]),
                             priority='LOWEST')
    if cfg.get('active_selection') is not None:
        # Imported here: only active domain adaptation (RIPU) needs the selection code.
        from mmseg.apis.active_selection_hook import build_active_selection_hook
        runner.register_hook(build_active_selection_hook(cfg, datasets[0]), priority='NORMAL')
    runner.timestamp = timestamp

    if validate and cfg.get('evaluation', {}) is None:
        logger.info('evaluation = None in the config: training without evaluation')
    elif validate:
        runner.register_hook(build_eval_hook(cfg, distributed, data_loaders[0]),
                             priority='LOW')

    if start == 'cfg':
        start = select_start_checkpoint(cfg, logger=logger)
    if start is not None:
        apply_start_checkpoint(runner, start, data_loaders[0], logger)
    runner.run(data_loaders, cfg.get('workflow', [('train', 1)]))
    return runner
