"""Reading and writing weight files: clear errors when loading (pretrained encoders,
training checkpoints), crash-safe writes (temporary file, fsync, rename)."""
import contextlib
import os
import re
import shutil
from collections import OrderedDict

import torch

# Test/demo load a UDA checkpoint into a plain segmentor exactly like the original: first
# '^module\.' -> '', then an *unanchored* 'model.' -> '' on every key, so that
# 'ema_model.x' becomes 'ema_x' and is ignored rather than loaded (SPEC-models.md).
UDA_TO_SEGMENTOR_KEYS = ((r'^module\.', ''), (r'model.', ''))
# The EMA teacher of a DACS-family checkpoint (``ema_model.*``) as a plain segmentor.
UDA_TEACHER_TO_SEGMENTOR_KEYS = ((r'^module\.', ''), (r'^ema_model\.', ''))


# Temporary files of :func:`replaced_atomically`: '.<name>.tmp-<pid>' beside the final file.
TEMP_FILE_PATTERN = re.compile(r'^\..+\.tmp-\d+$')


class CheckpointReadError(RuntimeError):
    """A weight file exists but cannot be read (truncated, corrupt, not a torch file)."""


def load_weights_file(path, what='checkpoint', how_to_get=None, trusted=False):
    """Read a ``torch.save``d file; ``trusted=False`` uses ``weights_only=True``.

    Raises FileNotFoundError naming the path (and how to obtain it) when missing,
    :class:`CheckpointReadError` when the file is unreadable (truncated or corrupt) and
    RuntimeError when it needs full unpickling but ``trusted`` is False.
    """
    if not os.path.isfile(path):
        hint = f' {how_to_get}' if how_to_get else ''
        raise FileNotFoundError(f'{what} file not found: {path!r}.{hint}')
    try:
        return torch.load(path, map_location='cpu', weights_only=not trusted)
    except Exception as err:  # unpickling refused or corrupt file
        if not trusted and needs_full_unpickling(err):
            raise RuntimeError(
                f'{what} {path!r} contains Python objects beyond tensors; refusing to '
                f'unpickle it. If you trust this file, load it with trusted=True '
                f'(CLI: --trust-checkpoint).') from err
        raise CheckpointReadError(
            f'Cannot read {what} {path!r} (truncated or corrupt?): {err}') from err


def needs_full_unpickling(error):
    """Whether a ``weights_only`` load failed because the file holds Python objects (rather
    than because it is corrupt): torch then names the refused global."""
    message = str(error)
    return 'Weights only load failed' in message and ('GLOBAL' in message
                                                       or 'add_safe_globals' in message)


def extract_state_dict(checkpoint):
    """The state dict inside a checkpoint (``state_dict`` / ``model`` entry or itself)."""
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
    return checkpoint


def revise_keys(state_dict, rules):
    """Apply regex substitutions ``(pattern, replacement)`` in order to every key."""
    revised = OrderedDict()
    for key, value in state_dict.items():
        for pattern, repl in rules:
            key = re.sub(pattern, repl, key)
        revised[key] = value
    return revised


def shape_mismatches(own, state_dict):
    """'key: checkpoint (shape) vs model (shape)' for every shared key whose shapes differ."""
    return [f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
            for k, v in state_dict.items()
            if k in own and hasattr(v, 'shape') and tuple(v.shape) != tuple(own[k].shape)]


def describe_keys(keys, examples=2):
    """A short summary of many state-dict keys: their count, grouped by the first two
    name components, with a few examples, e.g. ``"3 (model.backbone.*: 2, ema_model.x: 1;
    e.g. 'model.backbone.a', 'model.backbone.b')"``."""
    keys = list(keys)
    groups = OrderedDict()
    for key in keys:
        parts = key.split('.')
        group = '.'.join(parts[:2]) + ('.*' if len(parts) > 2 else '')
        groups[group] = groups.get(group, 0) + 1
    shown = ', '.join(f'{g}: {n}' for g, n in list(groups.items())[:8])
    more = ', ...' if len(groups) > 8 else ''
    sample = ', '.join(repr(k) for k in keys[:examples])
    return f'{len(keys)} ({shown}{more}; e.g. {sample})' if keys else '0'


def load_state_dict_checked(module, state_dict, source, strict=False, logger=None):
    """Load ``state_dict`` into ``module``; fail loudly when no key matches at all.

    Returns ``(missing_keys, unexpected_keys)``.
    """
    own = module.state_dict()
    matching = [k for k in state_dict if k in own]
    if not matching:
        raise RuntimeError(
            f'No key of {source} matches the model ({type(module).__name__}): e.g. '
            f'checkpoint has {list(state_dict)[:3]}, model expects {list(own)[:3]}. '
            f'Is this a checkpoint of another architecture?')
    shape_mismatch = shape_mismatches(own, state_dict)
    if shape_mismatch:
        raise RuntimeError(f'Shape mismatch loading {source}: ' + '; '.join(shape_mismatch[:10]))
    result = module.load_state_dict(state_dict, strict=strict)
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if logger is not None and (missing or unexpected):
        logger.warning(f'Loaded {source}: {len(missing)} missing keys '
                       f'(e.g. {missing[:5]}), {len(unexpected)} unexpected keys '
                       f'(e.g. {unexpected[:5]})')
    return missing, unexpected


def load_checkpoint(module, path, rules=UDA_TO_SEGMENTOR_KEYS, strict=False, logger=None,
                    trusted=False):
    """Load a training checkpoint (plain segmentor or UDA wrapper) into ``module``.

    Returns the raw checkpoint dict (with ``meta`` when present).
    """
    checkpoint = load_weights_file(path, 'checkpoint', trusted=trusted)
    state_dict = revise_keys(extract_state_dict(checkpoint), rules)
    load_state_dict_checked(module, state_dict, f'checkpoint {path!r}', strict, logger)
    return checkpoint


def temporary_path(path):
    """The file that :func:`replaced_atomically` writes before renaming it to ``path``."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f'.{name}.tmp-{os.getpid()}')


def fsync_folder(folder):
    """Make a rename inside ``folder`` durable (POSIX; a no-op where folders cannot be
    opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


@contextlib.contextmanager
def replaced_atomically(path):
    """Yield a temporary path beside ``path`` to write; when the block succeeds, rename it
    over ``path`` (atomic on POSIX) and fsync the folder, otherwise delete it. A crash at
    any moment leaves either the old file or the complete new one."""
    tmp = temporary_path(path)
    _remove_quietly(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    fsync_folder(os.path.dirname(os.path.abspath(path)))


def atomic_save(obj, path):
    """``torch.save(obj)`` to ``path``, crash-safe (:func:`replaced_atomically`); the data
    is on disk (fsync) before the rename."""
    with replaced_atomically(path) as tmp:
        with open(tmp, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())


def atomic_link_or_copy(src, dst):
    """Make ``dst`` (e.g. ``latest.pth``) show the content of ``src``, crash-safe: a hard
    link (no extra disk space) or, where links are not supported, a copy."""
    with replaced_atomically(dst) as tmp:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())


def remove_temp_files(folder):
    """Delete the temporary files that interrupted writes (:func:`replaced_atomically`)
    left in ``folder``; returns their paths."""
    if not os.path.isdir(folder):
        return []
    removed = [os.path.join(folder, name) for name in sorted(os.listdir(folder))
               if TEMP_FILE_PATTERN.match(name)]
    for path in removed:
        _remove_quietly(path)
    return removed


PLAIN_TYPES = (str, bytes, bool, int, float, type(None), torch.Tensor, torch.Size,
               torch.dtype, torch.device)


def to_weights_only(value, where='checkpoint'):
    """``value`` with numpy scalars / arrays turned into Python numbers / tensors, so that
    ``torch.load(..., weights_only=True)`` can read it back; raises TypeError naming the
    entry (``where``) holding anything else (a Python object would need full unpickling)."""
    import numpy as np
    if isinstance(value, np.generic):  # before PLAIN_TYPES: np.float64 is a float
        return value.item()
    if isinstance(value, PLAIN_TYPES):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, dict):
        converted = [(k, to_weights_only(v, f'{where}[{k!r}]')) for k, v in value.items()]
        return OrderedDict(converted) if isinstance(value, OrderedDict) else dict(converted)
    if isinstance(value, (list, tuple)):
        converted = [to_weights_only(v, f'{where}[{i}]') for i, v in enumerate(value)]
        return converted if isinstance(value, list) else tuple(converted)
    raise TypeError(f'{where} holds a {type(value).__name__}, which a weights-only '
                    'checkpoint cannot store; convert it to numbers, strings or tensors')
