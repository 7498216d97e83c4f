"""Helpers to compare mmcv configs with the JSON ground truth in ``fixtures/experiments``.

The fixtures encode tuples as ``{"__tuple__": [...]}`` (tuple vs. list matters, e.g. for
``Resize.img_scale``); :func:`decode_fixture` turns them back into tuples,
:func:`config_to_plain` turns an mmcv ``Config``/``ConfigDict`` into plain containers and
:func:`assert_contains` checks that every expected key is present with an equal value.
"""
import math
from collections.abc import Mapping

TUPLE_KEY = '__tuple__'


def decode_fixture(obj):
    """Recursively decode the fixture JSON: ``{"__tuple__": [...]}`` becomes a tuple."""
    if isinstance(obj, Mapping):
        if set(obj) == {TUPLE_KEY}:
            return tuple(decode_fixture(v) for v in obj[TUPLE_KEY])
        return {k: decode_fixture(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_fixture(v) for v in obj]
    return obj


def config_to_plain(cfg):
    """Convert an mmcv ``Config``/``ConfigDict`` (or nested containers) to plain
    dicts, lists and tuples, keeping list vs. tuple."""
    if hasattr(cfg, '_cfg_dict'):  # mmcv Config
        cfg = cfg._cfg_dict
    if isinstance(cfg, Mapping):
        return {k: config_to_plain(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(config_to_plain(v) for v in cfg)
    return cfg


def _type_name(value):
    return type(value).__name__


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _join(path, key):
    return f'{path}.{key}' if path else str(key)


def find_mismatches(expected, actual, path=''):
    """Return a list of ``'path: message'`` strings, one per expected value that is
    missing from ``actual`` or differs from it (empty if ``actual`` contains
    ``expected``).

    Dicts are compared key by key (extra keys in ``actual`` are allowed); lists and
    tuples must have the same container type and length and are compared element by
    element; numbers compare exactly, but ``1`` equals ``1.0`` and ``inf`` equals
    ``inf``; ``bool`` is never equal to a number.
    """
    where = path or '<root>'
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [f'{where}: expected a dict, got {_type_name(actual)} {actual!r}']
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f'{_join(path, key)}: missing (expected {value!r})')
            else:
                problems += find_mismatches(value, actual[key], _join(path, key))
        return problems
    if isinstance(expected, (list, tuple)):
        if type(actual) is not type(expected):
            return [f'{where}: expected {_type_name(expected)} {expected!r}, '
                    f'got {_type_name(actual)} {actual!r}']
        if len(actual) != len(expected):
            return [f'{where}: expected {len(expected)} items {expected!r}, '
                    f'got {len(actual)} items {actual!r}']
        problems = []
        for i, (exp, act) in enumerate(zip(expected, actual)):
            problems += find_mismatches(exp, act, f'{path}[{i}]')
        return problems
    if _is_number(expected) and _is_number(actual):
        equal = expected == actual or (math.isnan(expected) and math.isnan(actual))
    else:  # strings, None, bools: same type and value (True is not 1)
        equal = type(expected) is type(actual) and expected == actual
    if equal:
        return []
    return [f'{where}: expected {expected!r} ({_type_name(expected)}), '
            f'got {actual!r} ({_type_name(actual)})']


def assert_contains(expected, actual, path=''):
    """Assert that ``actual`` contains every key of ``expected`` with an equal value
    and the same container types; the message lists the dotted path of every
    mismatch."""
    __tracebackhide__ = True
    problems = find_mismatches(expected, actual, path)
    if problems:
        raise AssertionError(f'{len(problems)} mismatch(es):\n  ' + '\n  '.join(problems))
