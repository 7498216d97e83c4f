"""State-dict layouts equal the original models' (fixtures/models/keys)."""
import json

import pytest

from mmseg.models import build_backbone, build_segmentor

BACKBONES = [f'mit_b{i}' for i in range(6)]
SEGMENTORS = ['daformer_conv1_mitb5', 'daformer_aspp_mitb5', 'daformer_sepaspp_mitb5',
              'daformer_sepaspp_bottleneck_mitb5', 'daformer_isa_mitb5', 'segformer_b5']


def decode_tuples(obj):
    if isinstance(obj, dict):
        if set(obj) == {'__tuple__'}:
            return tuple(decode_tuples(v) for v in obj['__tuple__'])
        return {k: decode_tuples(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_tuples(v) for v in obj]
    return obj


def layout(module):
    return {k: (list(v.shape), str(v.dtype).replace('torch.', ''))
            for k, v in module.state_dict().items()}


def expected_layout(fixtures_dir, name):
    keys = json.loads((fixtures_dir / 'models' / 'keys' / f'{name}.json').read_text())['keys']
    return {k: (shape, dtype) for k, shape, dtype, _ in keys}


def assert_same_layout(actual, expected):
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    assert not missing and not unexpected, \
        f'missing {missing[:10]} ({len(missing)}), unexpected {unexpected[:10]} ({len(unexpected)})'
    wrong = {k: (actual[k], expected[k]) for k in expected if actual[k] != tuple(expected[k])}
    assert not wrong, f'shape/dtype mismatch: {dict(list(wrong.items())[:10])}'


@pytest.mark.parametrize('name', BACKBONES)
def test_backbone_keys(fixtures_dir, name):
    backbone = build_backbone(dict(type=name))
    assert_same_layout(layout(backbone), expected_layout(fixtures_dir, f'backbone_{name}'))


def base_model_cfg(fixtures_dir, base):
    configs = json.loads((fixtures_dir / 'experiments' / 'base_configs.json').read_text())
    model = decode_tuples(configs[f'_base_/models/{base}.py'])['model']
    model['pretrained'] = None
    model['backbone']['type'] = 'mit_b5'
    return model


@pytest.mark.parametrize('base', SEGMENTORS)
def test_segmentor_keys(fixtures_dir, base):
    model = build_segmentor(base_model_cfg(fixtures_dir, base))
    assert_same_layout(layout(model), expected_layout(fixtures_dir, f'segmentor_{base}'))
