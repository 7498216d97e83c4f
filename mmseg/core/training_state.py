"""What the next iteration depends on besides the weights, the runner's optimizer and its
iteration count: the UDA wrapper's ``local_iter``, optimizers the model keeps itself
(AdvSeg's ``optimizer_D``), the GradScaler of mixed precision, the random generators and
the position of the training data loader.

``capture_training_state`` gives plain values and tensors (a weights-only checkpoint can
hold them); ``restore_training_state`` puts them back.
"""
import math

import torch
from mmcv.parallel import is_module_wrapper

from .resumable_sampler import ResumableSampler
from .rng_state import capture_rng_states_of_all_ranks, restore_rng_state_of_this_rank

TRAINING_STATE_VERSION = 1


def unwrap_model(model):
    """The model inside a DataParallel / DDP wrapper."""
    return model.module if is_module_wrapper(model) else model


def extra_optimizers(model):
    """Optimizers kept as attributes of the model or its submodules, by attribute path
    (e.g. ``{'optimizer_D': Adam}`` for AdvSeg)."""
    found = {}
    for prefix, module in unwrap_model(model).named_modules():
        for name, value in vars(module).items():
            if isinstance(value, torch.optim.Optimizer):
                found[f'{prefix}.{name}' if prefix else name] = value
    return found


def batches_per_epoch(loader):
    """Batches the loader yields in one epoch of its sampler."""
    samples = len(loader.sampler)
    if loader.drop_last:
        return samples // loader.batch_size
    return math.ceil(samples / loader.batch_size)


def data_position(loader, batches_done):
    """Where the training loader stands after ``batches_done`` batches: the sampler seed,
    its epoch and the sample offset inside it (None without a :class:`ResumableSampler`)."""
    sampler = getattr(loader, 'sampler', None)
    if not isinstance(sampler, ResumableSampler) or batches_per_epoch(loader) == 0:
        return None
    epoch, batch = divmod(batches_done, batches_per_epoch(loader))
    return dict(seed=sampler.seed, epoch=epoch, offset=batch * loader.batch_size,
                batch_size=loader.batch_size, samples_per_epoch=len(sampler))


def restore_data_position(loader, position, logger):
    """Make the loader's :class:`ResumableSampler` continue from ``position``."""
    sampler = getattr(loader, 'sampler', None)
    if position is None or not isinstance(sampler, ResumableSampler):
        logger.warning('The data loader cannot continue where the checkpoint stopped (no '
                       'resumable sampler or no position saved): it starts a new order.')
        return
    sampler.seed = position['seed']
    saved = (position['batch_size'], position['samples_per_epoch'])
    if saved != (loader.batch_size, len(sampler)):
        logger.warning(
            f'The checkpoint was saved with batch size {saved[0]} and {saved[1]} samples '
            f'per epoch, this run has {loader.batch_size} and {len(sampler)}: the data '
            f'order restarts at the beginning of epoch {position["epoch"]}.')
        sampler.set_position(position['epoch'], 0)
        return
    sampler.set_position(position['epoch'], position['offset'])


def capture_training_state(runner, completed_iters, train_loader=None):
    """The state after ``completed_iters`` iterations (collective when distributed: every
    rank must call it)."""
    model = unwrap_model(runner.model)
    precision = getattr(model, 'precision', None)
    return dict(
        version=TRAINING_STATE_VERSION,
        iter=completed_iters,
        local_iter=getattr(model, 'local_iter', None),
        extra_optimizers={name: optimizer.state_dict()
                          for name, optimizer in extra_optimizers(model).items()},
        grad_scaler=precision.state_dict() if hasattr(precision, 'state_dict') else {},
        rng=capture_rng_states_of_all_ranks(),
        data=data_position(train_loader, completed_iters) if train_loader else None)


def restore_training_state(runner, state, train_loader, logger, source='checkpoint'):
    """Put back what :func:`capture_training_state` saved; ``source`` names the file in
    errors."""
    if state.get('version') != TRAINING_STATE_VERSION:
        raise ValueError(f'{source}: training_state version {state.get("version")!r} is not '
                         f'supported (expected {TRAINING_STATE_VERSION})')
    model = unwrap_model(runner.model)
    if state.get('local_iter') is not None and hasattr(model, 'local_iter'):
        model.local_iter = state['local_iter']
    _restore_extra_optimizers(model, state.get('extra_optimizers', {}), source)
    precision = getattr(model, 'precision', None)
    if hasattr(precision, 'load_state_dict'):
        precision.load_state_dict(state.get('grad_scaler') or {})
    restore_rng_state_of_this_rank(state['rng'])
    if train_loader is not None:
        restore_data_position(train_loader, state.get('data'), logger)


def _restore_extra_optimizers(model, saved, source):
    current = extra_optimizers(model)
    missing = sorted(set(current) - set(saved))
    unexpected = sorted(set(saved) - set(current))
    if missing or unexpected:
        raise ValueError(f'{source}: the optimizers kept by the model do not match the '
                         f'checkpoint: missing {missing}, unexpected {unexpected}')
    for name, optimizer in current.items():
        optimizer.load_state_dict(saved[name])
