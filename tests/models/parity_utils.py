"""Loading the numeric parity cases of ``fixtures/models/parity``."""
import json

import torch

from mmseg.models import build_segmentor

ATOL = 1e-5    # logits, probabilities, features (CPU float32)
LOSS_RTOL = 1e-5


def parity_dir(fixtures_dir):
    return fixtures_dir / 'models' / 'parity'


def load_case_state_dict(fixtures_dir, case):
    """Complete weights of a case (head-only cases borrow the sepaspp backbone)."""
    d = parity_dir(fixtures_dir)
    full = d / f'{case}_state_dict.pth'
    if full.exists():
        return torch.load(full, weights_only=True)
    backbone = torch.load(d / 'daformer_sepaspp_state_dict.pth', weights_only=True)
    state_dict = {k: v for k, v in backbone.items() if k.startswith('backbone.')}
    state_dict.update(torch.load(d / f'{case}_head_state_dict.pth', weights_only=True))
    return state_dict


def build_case_model(fixtures_dir, case, strict=True):
    """The case's model with its fixture weights, loaded strictly."""
    cfg = json.loads((parity_dir(fixtures_dir) / f'{case}_model_cfg.json').read_text())
    model = build_segmentor(cfg)
    model.load_state_dict(load_case_state_dict(fixtures_dir, case), strict=strict)
    return model


def case_metas(fixtures_dir, case, name):
    """``img_metas`` recorded for one call of the case (shapes as tuples)."""
    case_json = json.loads((parity_dir(fixtures_dir) / f'{case}_case.json').read_text())
    metas = case_json['img_metas'][name]
    for meta in metas:
        for key in ('img_shape', 'ori_shape', 'pad_shape'):
            meta[key] = tuple(meta[key])
    return metas


def load_io(fixtures_dir, name):
    return torch.load(parity_dir(fixtures_dir) / name, weights_only=True)


def assert_close(actual, expected, atol=ATOL, what=''):
    assert actual.shape == expected.shape, f'{what}: shape {actual.shape} != {expected.shape}'
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f'{what}: max abs diff {diff:.3g} > {atol}'


def assert_loss_close(actual, expected, what=''):
    actual, expected = float(actual.detach().reshape(-1)[0]), float(expected.reshape(-1)[0])
    assert abs(actual - expected) <= LOSS_RTOL * abs(expected), \
        f'{what}: {actual} != {expected} (rtol {LOSS_RTOL})'
