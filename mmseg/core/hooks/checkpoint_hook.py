"""Crash-safe, resumable checkpoints every ``interval`` iterations (``checkpoint_config``).

Replaces mmcv's ``CheckpointHook`` (same config keys). Differences:

- the file holds everything the next iteration depends on (see
  :mod:`mmseg.core.training_state`), readable with ``torch.load(weights_only=True)``;
- ``iter_N.pth`` is written after N iterations and its ``meta['iter']`` is N, the number
  of completed iterations (mmcv stores N - 1, so that resuming repeats an iteration);
- files are written atomically (temporary file, fsync, rename) and ``latest.pth`` is
  replaced atomically by a hard link (or a copy), so a crash during a save leaves the
  previous checkpoint intact;
- ``max_keep_ckpts`` counts the ``iter_*.pth`` files actually present.

Register it to run after every other ``after_train_iter`` hook (priority 'LOWEST'): the
saved random-generator state must include what evaluation and logging of this iteration
consumed, so that a resumed run draws what a straight run would.
"""
import os
import os.path as osp
import re
import time

import mmcv
from mmcv.runner import HOOKS, Hook, get_dist_info
from mmcv.runner.checkpoint import get_state_dict, weights_to_cpu
from mmcv.runner.dist_utils import allreduce_params

from mmseg.core.training_state import capture_training_state, unwrap_model
from mmseg.utils.checkpoint import (atomic_link_or_copy, atomic_save, remove_temp_files,
                                    to_weights_only)

LATEST = 'latest.pth'


def checkpoint_folder(work_dir, out_dir=None):
    """Where the checkpoints of a run go: ``work_dir``, or ``out_dir/<work_dir name>``
    (mmcv's convention) when another ``out_dir`` is given."""
    if not out_dir or osp.abspath(out_dir) == osp.abspath(work_dir):
        return work_dir
    return osp.join(out_dir, osp.basename(work_dir.rstrip(osp.sep)))


def numbered_checkpoints(folder, filename_tmpl='iter_{}.pth'):
    """``{N: path}`` of the checkpoint files named like ``filename_tmpl`` in ``folder``."""
    if not osp.isdir(folder):
        return {}
    pattern = re.compile('^' + re.escape(filename_tmpl).replace(r'\{\}', r'(\d+)') + '$')
    found = {}
    for name in os.listdir(folder):
        match = pattern.match(name)
        if match:
            found[int(match.group(1))] = osp.join(folder, name)
    return found


@HOOKS.register_module()
class ResumableCheckpointHook(Hook):
    """Save resumable checkpoints.

    Args:
        interval (int): save every ``interval`` iterations (-1: never, except the last
            iteration with ``save_last``).
        by_epoch (bool): must be False (iteration-based training only).
        save_optimizer (bool): include the optimizer state (needed to resume exactly).
        out_dir (str | None): root folder; checkpoints go to ``out_dir/<work_dir name>``
            (mmcv's convention), by default to the work dir itself.
        max_keep_ckpts (int): keep only the newest ``max_keep_ckpts`` ``iter_*.pth``
            (-1: all).
        save_last (bool): also save after the last iteration.
        sync_buffer (bool): all-reduce the model buffers before saving (distributed).
        filename_tmpl (str): file name with ``{}`` for the iteration count.
        create_symlink (bool): update ``latest.pth``.
        meta (dict | None): saved in every checkpoint (class names, palette, config).
        train_loader (DataLoader | None): the training loader whose position is saved.
        file_client_args: only None (local files) is supported.
    """

    def __init__(self, interval=-1, by_epoch=False, save_optimizer=True, out_dir=None,
                 max_keep_ckpts=-1, save_last=True, sync_buffer=False,
                 filename_tmpl='iter_{}.pth', create_symlink=True, meta=None,
                 train_loader=None, file_client_args=None):
        if by_epoch:
            raise ValueError('checkpoint_config.by_epoch=True is not supported: training is '
                             'iteration-based (IterBasedRunner); use by_epoch=False')
        if file_client_args is not None:
            raise ValueError('checkpoint_config.file_client_args is not supported: '
                             'checkpoints are written atomically to a local folder')
        if filename_tmpl.count('{}') != 1 or filename_tmpl == LATEST:
            raise ValueError(f"checkpoint_config.filename_tmpl={filename_tmpl!r} must contain "
                             "'{}' once, e.g. 'iter_{}.pth'")
        self.interval = interval
        self.save_optimizer = save_optimizer
        self.out_dir = out_dir
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.sync_buffer = sync_buffer
        self.filename_tmpl = filename_tmpl
        self.create_symlink = create_symlink
        self.meta = dict(meta or {})
        self.train_loader = train_loader

    def before_run(self, runner):
        self.out_dir = checkpoint_folder(runner.work_dir, self.out_dir)
        runner.logger.info(f'Checkpoints will be saved to {self.out_dir}')
        if get_dist_info()[0] == 0:
            mmcv.mkdir_or_exist(self.out_dir)
            for path in remove_temp_files(self.out_dir):
                runner.logger.warning(f'Removed {path}, left by a save that was interrupted')

    def after_train_iter(self, runner):
        if self.every_n_iters(runner, self.interval) or (self.save_last
                                                         and self.is_last_iter(runner)):
            self.save(runner)

    def save(self, runner):
        """Write ``iter_<N>.pth`` for the N = ``runner.iter + 1`` completed iterations (all
        ranks must call this when distributed; rank 0 writes)."""
        completed = runner.iter + 1
        if self.sync_buffer:
            allreduce_params(runner.model.buffers())
        state = capture_training_state(runner, completed, self.train_loader)
        if get_dist_info()[0] != 0:
            return
        path = osp.join(self.out_dir, self.filename_tmpl.format(completed))
        runner.logger.info(f'Saving checkpoint at {completed} iterations')
        meta = dict(self.meta, **(runner.meta or {}))
        atomic_save(checkpoint_content(runner, completed, meta, state, self.save_optimizer),
                    path)
        if self.create_symlink:
            atomic_link_or_copy(path, osp.join(self.out_dir, LATEST))
        if runner.meta is not None:
            runner.meta.setdefault('hook_msgs', dict())['last_ckpt'] = path
        self.remove_old_checkpoints(completed)

    def saved_iterations(self):
        """``{N: path}`` of the ``iter_N.pth`` files in the output folder."""
        return numbered_checkpoints(self.out_dir, self.filename_tmpl)

    def remove_old_checkpoints(self, current):
        """Keep the newest ``max_keep_ckpts`` files up to ``current``; files of later
        iterations (left by another run in this folder) are not touched."""
        if self.max_keep_ckpts <= 0:
            return
        saved = self.saved_iterations()
        older = sorted((n for n in saved if n <= current), reverse=True)
        for n in older[self.max_keep_ckpts:]:
            os.remove(saved[n])


def checkpoint_content(runner, completed, meta, state, save_optimizer=True):
    """The dict a checkpoint file holds after ``completed`` iterations: mmcv's layout
    (``meta`` completed with the epoch, the iteration count, the mmcv version, the time and
    the class names; ``state_dict``; ``optimizer``) plus ``training_state`` (``state``,
    from :func:`capture_training_state`), all readable with ``weights_only=True``."""
    model = unwrap_model(runner.model)
    meta = dict(meta, epoch=runner.epoch + 1, iter=completed, mmcv_version=mmcv.__version__,
                time=time.asctime())
    if getattr(model, 'CLASSES', None) is not None:
        meta['CLASSES'] = tuple(model.CLASSES)
    checkpoint = dict(meta=to_weights_only(meta, "checkpoint['meta']"),
                      state_dict=weights_to_cpu(get_state_dict(model)))
    if save_optimizer:
        checkpoint['optimizer'] = to_weights_only(_optimizer_state(runner.optimizer),
                                                  "checkpoint['optimizer']")
    checkpoint['training_state'] = to_weights_only(state, "checkpoint['training_state']")
    return checkpoint


def _optimizer_state(optimizer):
    if isinstance(optimizer, dict):
        return {name: opt.state_dict() for name, opt in optimizer.items()}
    return optimizer.state_dict()
