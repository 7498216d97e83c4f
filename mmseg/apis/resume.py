"""Where a training run starts: from scratch, from a checkpoint's weights (``load_from``),
or continuing a run (``resume_from`` / ``auto_resume``) exactly where it stopped.

Reading and checking happen before anything is written (:func:`select_start_checkpoint`,
:func:`check_weights_match`), so that a bad file stops the run with a clear error and no
partial output; :func:`apply_start_checkpoint` then restores the runner.
"""
import os.path as osp
from dataclasses import dataclass

from mmseg.core.hooks import checkpoint_folder, numbered_checkpoints
from mmseg.core.training_state import restore_training_state, unwrap_model
from mmseg.utils.checkpoint import (CheckpointReadError, describe_keys, load_weights_file,
                                    revise_keys, shape_mismatches)

# Saved from a DataParallel / DDP wrapper by other tools.
WRAPPER_PREFIX = ((r'^module\.', ''),)


class CheckpointMismatchError(ValueError):
    """The checkpoint's weights do not belong to the model being trained."""


@dataclass
class StartCheckpoint:
    """A checkpoint read from ``path``; ``resume``: continue that run (weights, optimizer,
    iteration, random state, data position), else initialise the weights only."""
    path: str
    checkpoint: dict
    resume: bool

    @property
    def option(self):
        """The command-line option that names this kind of start (for messages)."""
        return '--resume-from' if self.resume else '--load-from'


def read_training_checkpoint(path, resume=True, trusted=False):
    """Read ``path``; check it is a training checkpoint (and, to resume, that it says how
    many iterations were done). Errors name the file."""
    checkpoint = load_weights_file(path, 'checkpoint', trusted=trusted)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        raise ValueError(f'{path!r} is not a training checkpoint: expected a dict with a '
                         "'state_dict' entry (as tools/train.py saves)"
                         + (f', found keys {sorted(checkpoint)[:8]}'
                            if isinstance(checkpoint, dict) else ''))
    if resume and not isinstance(checkpoint.get('meta', {}).get('iter'), int):
        raise ValueError(f"Cannot resume from {path!r}: its meta has no 'iter' (the number of "
                         'iterations done); use --load-from to start from its weights only')
    return checkpoint


def saved_checkpoints(work_dir):
    """``iter_N.pth`` files of ``work_dir``, newest first, then ``latest.pth`` when it is
    not one of them."""
    numbered = numbered_checkpoints(work_dir)
    paths = [numbered[n] for n in sorted(numbered, reverse=True)]
    latest = osp.join(work_dir, 'latest.pth')
    if osp.isfile(latest) and not any(osp.samefile(latest, p) for p in paths):
        paths.append(latest)
    return paths


def find_latest_checkpoint(work_dir, trusted=False, logger=None):
    """The newest readable checkpoint of ``work_dir`` as ``(path, checkpoint)``, None when
    there is none. Unreadable (truncated, corrupt) files are skipped with a warning; if
    every file is unreadable that is an error, not a fresh start."""
    unreadable = []
    for path in saved_checkpoints(work_dir):
        try:
            return path, read_training_checkpoint(path, resume=True, trusted=trusted)
        except CheckpointReadError as err:
            unreadable.append(path)
            if logger is not None:
                logger.warning(f'auto-resume: skipping {path}: {err}; trying the previous '
                               'checkpoint')
    if unreadable:
        raise CheckpointReadError(
            f'auto-resume: no readable checkpoint in {work_dir!r}; unreadable: {unreadable}. '
            'Move them away to start from scratch.')
    return None


def select_start_checkpoint(cfg, trusted=False, logger=None):
    """The checkpoint the run starts from (read, not yet applied), or None.

    ``cfg.resume_from`` wins over ``cfg.auto_resume`` (the newest readable checkpoint of
    the run's checkpoint folder), which wins over ``cfg.load_from`` (weights only).
    ``trusted`` allows full unpickling (legacy files with Python objects).
    """
    if cfg.get('resume_from'):
        return StartCheckpoint(cfg.resume_from, read_training_checkpoint(
            cfg.resume_from, resume=True, trusted=trusted), resume=True)
    if cfg.get('auto_resume'):
        folder = checkpoint_folder(cfg.work_dir,
                                   (cfg.get('checkpoint_config') or {}).get('out_dir'))
        found = find_latest_checkpoint(folder, trusted, logger)
        if found is not None:
            _log(logger, f'auto-resume: resuming from {found[0]}')
            return StartCheckpoint(found[0], found[1], resume=True)
        _log(logger, f'auto-resume: no checkpoint in {folder}; starting from scratch')
    if cfg.get('load_from'):
        return StartCheckpoint(cfg.load_from, read_training_checkpoint(
            cfg.load_from, resume=False, trusted=trusted), resume=False)
    return None


def required_keys(model, own_keys):
    """Keys a ``--load-from`` checkpoint must provide: the student's (``model.*``) for a
    UDA wrapper, which initialises its teachers and ImageNet copy itself; all otherwise."""
    if hasattr(model, 'get_model'):
        return [k for k in own_keys if k.startswith('model.')]
    return list(own_keys)


def check_weights_match(model, start):
    """Raise :class:`CheckpointMismatchError` (naming the file and summarising the missing /
    unexpected keys) when ``start`` does not fit ``model``: resuming needs exactly the
    model's keys and shapes; loading needs matching shapes and every required key.

    Returns ``(state_dict, missing, unexpected)``.
    """
    model = unwrap_model(model)
    own = model.state_dict()
    given = revise_keys(start.checkpoint['state_dict'], WRAPPER_PREFIX)
    missing = [k for k in own if k not in given]
    unexpected = [k for k in given if k not in own]
    shapes = shape_mismatches(own, given)
    if start.resume:
        fatal = bool(missing or unexpected or shapes)
    else:
        required = set(required_keys(model, own))
        fatal = bool(shapes or any(k in required for k in missing)
                     or len(unexpected) == len(given))
    if fatal:
        raise CheckpointMismatchError(
            f'{start.option} {start.path!r} does not fit the model '
            f'({type(model).__name__}, {len(own)} keys): missing keys '
            f'{describe_keys(missing)}; unexpected keys {describe_keys(unexpected)}'
            + (f'; shape mismatches: {shapes[:5]}' if shapes else '')
            + '. Is it a checkpoint of another architecture or config?')
    return given, missing, unexpected


def apply_start_checkpoint(runner, start, train_loader, logger):
    """Load ``start`` into the runner: the weights, and when resuming also the optimizer,
    the iteration count, evaluation-hook messages and the training state. Then drops
    ``start.checkpoint`` so that its tensors do not stay in memory during training."""
    state_dict, missing, unexpected = check_weights_match(runner.model, start)
    unwrap_model(runner.model).load_state_dict(state_dict, strict=False)
    if start.resume:
        resume_runner(runner, start, train_loader, logger)
    else:
        if missing or unexpected:
            logger.warning(f'--load-from {start.path}: missing keys {describe_keys(missing)}; '
                           f'unexpected keys {describe_keys(unexpected)}')
        logger.info(f'Loaded the weights of {start.path}')
    start.checkpoint = None


def resume_runner(runner, start, train_loader, logger):
    """Continue the run of ``start`` (its weights are already loaded)."""
    checkpoint = start.checkpoint
    state = checkpoint.get('training_state')
    if state is None:
        # mmcv's CheckpointHook stored iter = N - 1 in iter_N.pth, saved after N iterations.
        completed = checkpoint['meta']['iter'] + 1
        logger.warning(f'{start.path} was not saved by this version (no training_state): '
                       'weights, optimizer and iteration are restored, but not the random '
                       'generators nor the data order, so the run will not continue exactly '
                       'as it would have.')
    else:
        completed = state['iter']
    _restore_optimizer(runner, checkpoint, start.path, logger)
    runner._iter = completed
    runner._inner_iter = 0
    hook_msgs = checkpoint['meta'].get('hook_msgs')
    if hook_msgs:
        runner.meta = runner.meta if runner.meta is not None else {}
        runner.meta.setdefault('hook_msgs', {}).update(hook_msgs)
    if state is None:
        model = unwrap_model(runner.model)
        if hasattr(model, 'local_iter'):
            model.local_iter = completed
    else:
        restore_training_state(runner, state, train_loader, logger, source=start.path)
    logger.info(f'Resumed from {start.path}: {completed} iterations done, continuing with '
                f'iteration {completed + 1}')


def _restore_optimizer(runner, checkpoint, path, logger):
    saved = checkpoint.get('optimizer')
    if saved is None:
        logger.warning(f'{path} holds no optimizer state (save_optimizer=False?): the '
                       'optimizer starts afresh')
        return
    optimizers = runner.optimizer if isinstance(runner.optimizer, dict) \
        else {None: runner.optimizer}
    for name, optimizer in optimizers.items():
        entry = saved if name is None else saved.get(name)
        where = 'optimizer' if name is None else f'optimizer {name!r}'
        try:
            optimizer.load_state_dict(entry)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise CheckpointMismatchError(
                f'--resume-from {path!r}: the {where} state does not fit this run\'s '
                f'optimizer (changed optimizer or paramwise_cfg?): {err}') from err


def _log(logger, message):
    if logger is not None:
        logger.info(message)
