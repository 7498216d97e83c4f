"""Evaluation during training (mmseg 0.x ``EvalHook`` / ``DistEvalHook``).

The hooks take the test loop as ``test_fn`` (``mmseg.apis`` passes its
``single_gpu_test`` / ``multi_gpu_test``), so ``core`` never imports ``apis``. With
``save_best`` the best checkpoint is written like the others (atomically, resumable, see
:mod:`mmseg.core.hooks.checkpoint_hook`), and the previous best is removed only after.
"""
import os
import os.path as osp
import warnings

import torch.distributed as dist
from mmcv.runner import DistEvalHook as _DistEvalHook
from mmcv.runner import EvalHook as _EvalHook
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.core.hooks.checkpoint_hook import checkpoint_content
from mmseg.core.training_state import capture_training_state
from mmseg.utils.checkpoint import atomic_save


class EvalHook(_EvalHook):
    """Evaluate every ``interval`` iterations (``by_epoch=False``, the IterBasedRunner way).

    Args:
        dataloader (DataLoader): validation loader; its dataset implements ``evaluate``.
        test_fn (callable): ``test_fn(model, dataloader) -> results`` accepted by
            ``dataset.evaluate`` (per-image ``pre_eval`` tuples from ``mmseg.apis``).
            Without it, mmcv's generic loop is used (raw predictions, more memory).
        train_loader (DataLoader | None): the training loader, whose position the best
            checkpoint (``save_best``) saves.
        **eval_kwargs: e.g. ``metric='mIoU'``, passed to ``dataset.evaluate``; mmcv's
            ``save_best`` / ``rule`` / ``out_dir``. The mmseg 0.x keys ``efficient_test``
            and ``pre_eval`` are accepted and ignored: the test function decides what it
            returns.
    """

    def __init__(self, dataloader, interval=1, by_epoch=False, test_fn=None,
                 train_loader=None, **eval_kwargs):
        _drop_legacy_keys(eval_kwargs)
        super().__init__(dataloader, interval=interval, by_epoch=by_epoch, test_fn=test_fn,
                         **eval_kwargs)
        self.train_loader = train_loader

    def _do_evaluate(self, runner):
        results = self.test_fn(runner.model, self.dataloader)
        _log_and_save_best(self, runner, results, _training_state(self, runner))


class DistEvalHook(_DistEvalHook):
    """Distributed variant: every rank runs ``test_fn`` on its share; rank 0 evaluates.

    ``test_fn(model, dataloader)`` must return the gathered results on rank 0 (None
    elsewhere), like ``mmseg.apis.multi_gpu_test``.
    """

    def __init__(self, dataloader, interval=1, by_epoch=False, test_fn=None,
                 train_loader=None, **eval_kwargs):
        _drop_legacy_keys(eval_kwargs)
        super().__init__(dataloader, interval=interval, by_epoch=by_epoch, test_fn=test_fn,
                         **eval_kwargs)
        self.train_loader = train_loader

    def _do_evaluate(self, runner):
        if self.broadcast_bn_buffer:
            # DDP does not synchronise BatchNorm statistics: evaluate rank 0's everywhere.
            for module in runner.model.modules():
                if isinstance(module, _BatchNorm) and module.track_running_stats:
                    dist.broadcast(module.running_var, 0)
                    dist.broadcast(module.running_mean, 0)
        results = self.test_fn(runner.model, self.dataloader)
        state = _training_state(self, runner)  # every rank takes part
        if runner.rank == 0:
            _log_and_save_best(self, runner, results, state)
        else:
            runner.log_buffer.clear()


def _training_state(hook, runner):
    """The training state for the best checkpoint (collective when distributed), None
    without ``save_best``."""
    if not hook.save_best:
        return None
    return capture_training_state(runner, runner.iter + 1, hook.train_loader)


def _log_and_save_best(hook, runner, results, state):
    """Evaluate ``results`` into the log buffer (a 'val' log entry) and keep the best
    checkpoint when ``save_best`` is set.

    mmcv's ``after_train_iter`` has already flushed the training log. Unlike mmcv, no
    'eval_iter_num' is set: the 'val' entry then carries the training iteration (not the
    number of validation images), so curves over iterations line up.
    """
    runner.log_buffer.clear()
    key_score = hook.evaluate(runner, results)
    if hook.save_best and key_score:
        save_best_checkpoint(hook, runner, key_score, state)


def save_best_checkpoint(hook, runner, key_score, state):
    """mmcv's ``_save_ckpt``, crash-safe: when ``key_score`` beats the best so far,
    ``best_<metric>_iter_<N>.pth`` is written atomically (the layout of the other
    checkpoints), then ``hook_msgs`` names it and the previous best file is removed, so a
    crash at any moment leaves a loadable best checkpoint."""
    hook_msgs = runner.meta['hook_msgs']
    if not hook.compare_func(key_score,
                             hook_msgs.get('best_score', hook.init_value_map[hook.rule])):
        return
    completed = runner.iter + 1
    current = f'epoch_{runner.epoch + 1}' if hook.by_epoch else f'iter_{completed}'
    path = osp.join(hook.out_dir, f'best_{hook.key_indicator}_{current}.pth')
    meta = dict(runner.meta, hook_msgs=dict(hook_msgs, best_score=key_score, best_ckpt=path))
    atomic_save(checkpoint_content(runner, completed, meta, state), path)
    hook_msgs.update(best_score=key_score, best_ckpt=path)
    previous, hook.best_ckpt_path = hook.best_ckpt_path, path
    if previous and previous != path and osp.isfile(previous):
        os.remove(previous)
        runner.logger.info(f'The previous best checkpoint {previous} was removed')
    runner.logger.info(f'Now best checkpoint is saved as {osp.basename(path)}.')
    runner.logger.info(f'Best {hook.key_indicator} is {key_score:0.4f} at {current}.')


def _drop_legacy_keys(eval_kwargs):
    for key in ('efficient_test', 'pre_eval', 'gpu_collect', 'tmpdir'):
        if key in eval_kwargs:
            eval_kwargs.pop(key)
            if key == 'efficient_test':
                warnings.warn('evaluation.efficient_test is deprecated and ignored: the test '
                              'loop keeps per-image pre_eval statistics instead of maps.')


__all__ = ['EvalHook', 'DistEvalHook']
