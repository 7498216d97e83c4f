"""Evaluation during training (mmseg 0.x ``EvalHook`` / ``DistEvalHook``).

The hooks take the test loop as ``test_fn`` (``mmseg.apis`` passes its
``single_gpu_test`` / ``multi_gpu_test``), so ``core`` never imports ``apis``.
"""
import warnings

import torch.distributed as dist
from mmcv.runner import DistEvalHook as _DistEvalHook
from mmcv.runner import EvalHook as _EvalHook
from torch.nn.modules.batchnorm import _BatchNorm


class EvalHook(_EvalHook):
    """Evaluate every ``interval`` iterations (``by_epoch=False``, the IterBasedRunner way).

    Args:
        dataloader (DataLoader): validation loader; its dataset implements ``evaluate``.
        test_fn (callable): ``test_fn(model, dataloader) -> results`` accepted by
            ``dataset.evaluate`` (per-image ``pre_eval`` tuples from ``mmseg.apis``).
            Without it, mmcv's generic loop is used (raw predictions, more memory).
        **eval_kwargs: e.g. ``metric='mIoU'``, passed to ``dataset.evaluate``. The mmseg
            0.x keys ``efficient_test`` and ``pre_eval`` are accepted and ignored: the
            test function decides what it returns.
    """

    def __init__(self, dataloader, interval=1, by_epoch=False, test_fn=None, **eval_kwargs):
        _drop_legacy_keys(eval_kwargs)
        super().__init__(dataloader, interval=interval, by_epoch=by_epoch, test_fn=test_fn,
                         **eval_kwargs)

    def _do_evaluate(self, runner):
        results = self.test_fn(runner.model, self.dataloader)
        _log_and_save_best(self, runner, results)


class DistEvalHook(_DistEvalHook):
    """Distributed variant: every rank runs ``test_fn`` on its share; rank 0 evaluates.

    ``test_fn(model, dataloader)`` must return the gathered results on rank 0 (None
    elsewhere), like ``mmseg.apis.multi_gpu_test``.
    """

    def __init__(self, dataloader, interval=1, by_epoch=False, test_fn=None, **eval_kwargs):
        _drop_legacy_keys(eval_kwargs)
        super().__init__(dataloader, interval=interval, by_epoch=by_epoch, test_fn=test_fn,
                         **eval_kwargs)

    def _do_evaluate(self, runner):
        if self.broadcast_bn_buffer:
            # DDP does not synchronise BatchNorm statistics: evaluate rank 0's everywhere.
            for module in runner.model.modules():
                if isinstance(module, _BatchNorm) and module.track_running_stats:
                    dist.broadcast(module.running_var, 0)
                    dist.broadcast(module.running_mean, 0)
        results = self.test_fn(runner.model, self.dataloader)
        if runner.rank == 0:
            _log_and_save_best(self, runner, results)
        else:
            runner.log_buffer.clear()


def _log_and_save_best(hook, runner, results):
    """Evaluate ``results`` into the log buffer (a 'val' log entry) and keep the best
    checkpoint when ``save_best`` is set.

    mmcv's ``after_train_iter`` has already flushed the training log. Unlike mmcv, no
    'eval_iter_num' is set: the 'val' entry then carries the training iteration (not the
    number of validation images), so curves over iterations line up.
    """
    runner.log_buffer.clear()
    key_score = hook.evaluate(runner, results)
    if hook.save_best and key_score:
        hook._save_ckpt(runner, key_score)


def _drop_legacy_keys(eval_kwargs):
    for key in ('efficient_test', 'pre_eval', 'gpu_collect', 'tmpdir'):
        if key in eval_kwargs:
            eval_kwargs.pop(key)
            if key == 'efficient_test':
                warnings.warn('evaluation.efficient_test is deprecated and ignored: the test '
                              'loop keeps per-image pre_eval statistics instead of maps.')


__all__ = ['EvalHook', 'DistEvalHook']
