"""The ``configs/`` tree reproduces the original DAFormer/HRDA/MIC configs.

Ground truth: ``fixtures/experiments/base_configs.json`` holds, per file of the
original ``configs/`` tree, its fully merged content (mmcv ``Config`` semantics).
"""
import ast
import json
import math
from pathlib import Path

import pytest
from mmcv import Config

from config_utils import assert_contains, config_to_plain, decode_fixture

# Only used to build the parameter list at collection time; the tests themselves
# go through the ``fixtures_dir`` fixture, which skips when the fixtures are absent.
_BASE_CONFIGS_JSON = (Path(__file__).resolve().parents[1].parent / 'shared' / 'fixtures'
                      / 'experiments' / 'base_configs.json')
_MISSING = '<fixtures missing>'


def _fixture_config_paths():
    if not _BASE_CONFIGS_JSON.is_file():
        return [_MISSING]
    with open(_BASE_CONFIGS_JSON) as f:
        return sorted(json.load(f))


@pytest.fixture(scope='module')
def base_configs(fixtures_dir):
    with open(fixtures_dir / 'experiments' / 'base_configs.json') as f:
        return {path: decode_fixture(cfg) for path, cfg in json.load(f).items()}


@pytest.mark.parametrize('rel_path', _fixture_config_paths())
def test_config_matches_fixture(rel_path, base_configs, repo_root):
    config_file = repo_root / 'configs' / rel_path
    assert config_file.is_file(), f'missing config file {config_file}'
    cfg = Config.fromfile(str(config_file))
    assert_contains(base_configs[rel_path], config_to_plain(cfg))


def test_fixture_lists_whole_config_tree(base_configs):
    assert len(base_configs) == 52
    for top_level in ('daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py',
                      'hrda/gtaHR2csHR_hrda.py', 'mic/gtaHR2csHR_mic_hrda.py'):
        assert top_level in base_configs


def _declared_bases(config_file):
    """The ``_base_`` list as written in ``config_file`` (not merged)."""
    for node in ast.parse(config_file.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == '_base_' for t in node.targets):
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


@pytest.mark.parametrize('rel_path', [
    'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py',
    'hrda/gtaHR2csHR_hrda.py',
    'mic/gtaHR2csHR_mic_hrda.py',
])
def test_top_level_configs_are_composed_from_base_files(rel_path, repo_root):
    bases = _declared_bases(repo_root / 'configs' / rel_path)
    kinds = [base.split('/')[2] if base.count('/') > 2 else base for base in bases]
    assert bases[0] == '../_base_/default_runtime.py'
    assert kinds[1:] == ['models', 'datasets', 'uda', 'schedules', 'schedules'], bases
    assert bases[-2:] == ['../_base_/schedules/adamw.py', '../_base_/schedules/poly10warm.py']


# --- the comparison helper itself must not pass silently -------------------------


def test_decode_fixture_restores_tuples():
    encoded = {'a': {'__tuple__': [1, {'__tuple__': [2, 3]}]}, 'b': [{'__tuple__': []}]}
    assert decode_fixture(encoded) == {'a': (1, (2, 3)), 'b': [()]}
    assert isinstance(decode_fixture(encoded)['b'], list)


def test_config_to_plain_keeps_container_types():
    cfg = Config(dict(model=dict(scales=[1, 0.5], size=(512, 512),
                                 pipeline=[dict(type='Resize', img_scale=(1024, 512))])))
    plain = config_to_plain(cfg)
    assert type(plain) is dict and type(plain['model']) is dict
    assert type(plain['model']['pipeline'][0]) is dict
    assert plain['model']['scales'] == [1, 0.5] and isinstance(plain['model']['scales'], list)
    assert plain['model']['size'] == (512, 512) and isinstance(plain['model']['size'], tuple)
    assert isinstance(plain['model']['pipeline'][0]['img_scale'], tuple)


def test_assert_contains_accepts_equal_and_extra_keys():
    expected = {'a': 1, 'b': [1.0, (2, 3)], 'c': {'d': None, 'e': math.inf}}
    actual = {'a': 1.0, 'b': [1, (2, 3)], 'c': {'d': None, 'e': math.inf, 'x': 0}, 'y': 1}
    assert_contains(expected, actual)


def test_assert_contains_rejects_tuple_vs_list():
    with pytest.raises(AssertionError, match=r'model\.hr_crop_size: expected tuple'):
        assert_contains({'model': {'hr_crop_size': (512, 512)}},
                        {'model': {'hr_crop_size': [512, 512]}})
    with pytest.raises(AssertionError, match=r'pipeline\[0\]\.img_scale: expected list'):
        assert_contains({'pipeline': [{'img_scale': [1024, 512]}]},
                        {'pipeline': [{'img_scale': (1024, 512)}]})


def test_assert_contains_rejects_changed_value():
    with pytest.raises(AssertionError, match=r'uda\.alpha: expected 0\.999'):
        assert_contains({'uda': {'alpha': 0.999}}, {'uda': {'alpha': 0.99}})
    with pytest.raises(AssertionError, match=r'data\.train\.type'):
        assert_contains({'data': {'train': {'type': 'UDADataset'}}},
                        {'data': {'train': {'type': 'GTADataset'}}})
    with pytest.raises(AssertionError, match=r'flag: expected True'):
        assert_contains({'flag': True}, {'flag': 1})
    with pytest.raises(AssertionError, match=r'v: expected None'):
        assert_contains({'v': None}, {'v': 0})
    with pytest.raises(AssertionError, match=r'dilations: expected 4 items'):
        assert_contains({'dilations': (1, 6, 12, 18)}, {'dilations': (1, 6, 12)})


def test_assert_contains_reports_missing_keys_and_all_mismatches():
    with pytest.raises(AssertionError) as info:
        assert_contains({'a': {'b': 1, 'c': 2}, 'd': 3}, {'a': {'b': 2}})
    message = str(info.value)
    assert '3 mismatch(es)' in message
    assert 'a.b: expected 1' in message
    assert 'a.c: missing' in message
    assert 'd: missing' in message
