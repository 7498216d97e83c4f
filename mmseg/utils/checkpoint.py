"""Loading weight files with clear errors (pretrained encoders, training checkpoints)."""
import os
import re
from collections import OrderedDict

import torch

# Test/demo load a UDA checkpoint into a plain segmentor exactly like the original: first
# '^module\.' -> '', then an *unanchored* 'model.' -> '' on every key, so that
# 'ema_model.x' becomes 'ema_x' and is ignored rather than loaded (SPEC-models.md).
UDA_TO_SEGMENTOR_KEYS = ((r'^module\.', ''), (r'model.', ''))


def load_weights_file(path, what='checkpoint', how_to_get=None, trusted=False):
    """Read a ``torch.save``d file; ``trusted=False`` uses ``weights_only=True``.

    Raises FileNotFoundError naming the path (and how to obtain it) when missing.
    """
    if not os.path.isfile(path):
        hint = f' {how_to_get}' if how_to_get else ''
        raise FileNotFoundError(f'{what} file not found: {path!r}.{hint}')
    try:
        return torch.load(path, map_location='cpu', weights_only=not trusted)
    except Exception as err:  # unpickling refused or corrupt file
        if not trusted and 'weights_only' in str(err):
            raise RuntimeError(
                f'{what} {path!r} contains Python objects beyond tensors; refusing to '
                f'unpickle it. If you trust this file, load it with trusted=True '
                f'(CLI: --trust-checkpoint).') from err
        raise RuntimeError(f'Cannot read {what} {path!r}: {err}') from err


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
    shape_mismatch = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}'
        for k in matching if hasattr(state_dict[k], 'shape')
        and tuple(state_dict[k].shape) != tuple(own[k].shape)]
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
