"""Numeric parity with the original implementation (fixtures/models/parity)."""
import pytest
import torch

from parity_utils import (assert_close, assert_loss_close, build_case_model, case_metas,
                           load_io)

FULL_CASES = ['daformer_sepaspp', 'segformer']
HEAD_CASES = ['daformer_isa', 'daformer_aspp', 'daformer_sepaspp_bottleneck']


@pytest.fixture(scope='module', params=FULL_CASES + HEAD_CASES)
def case(request, fixtures_dir):
    name = request.param
    return name, build_case_model(fixtures_dir, name), load_io(fixtures_dir, f'{name}_io.pth')


@pytest.mark.parametrize('fast_attn', [True, False], ids=['sdpa', 'reference'])
def test_eval_outputs(case, fixtures_dir, fast_attn):
    name, model, io = case
    model.backbone.set_fast_attention(fast_attn)
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(io['input'])
        for i in range(4):
            assert_close(feats[i], io[f'feat{i}'], what=f'{name} feat{i}')
        logits = model.encode_decode(io['input'], case_metas(fixtures_dir, name, 'input'))
        assert_close(logits, io['logits'], what=f'{name} logits')
        if 'head_logits' in io:
            assert_close(model.decode_head(feats), io['head_logits'], what=f'{name} head')
        if 'input_odd' in io:
            odd = model.decode_head(model.extract_feat(io['input_odd']))
            assert_close(odd, io['head_logits_odd'], what=f'{name} head (odd input)')


def test_train_losses(case, fixtures_dir):
    name, _, io = case
    if 'train_input' not in io:
        pytest.skip(f'{name} has no training case in the fixtures')
    model = build_case_model(fixtures_dir, name).train()  # fresh BN statistics
    losses = model.forward_train(io['train_input'], case_metas(fixtures_dir, name, 'train_input'),
                                 io['train_gt'])
    for key in ('decode.loss_seg', 'decode.acc_seg'):
        assert_loss_close(losses[key], io[f'loss/{key}'], what=f'{name} {key}')


def test_sepaspp_extra(fixtures_dir):
    """Stride-4 head logits, pixel-weighted loss and features returned by forward_train."""
    name = 'daformer_sepaspp'
    io = load_io(fixtures_dir, f'{name}_io.pth')
    extra = load_io(fixtures_dir, f'{name}_extra.pth')
    model = build_case_model(fixtures_dir, name).eval()
    with torch.no_grad():
        head = model.encode_decode(io['input'], case_metas(fixtures_dir, name, 'input'),
                                   upscale_pred=False)
    assert_close(head, extra['head_logits'], what='head_logits')
    model.train()
    metas = case_metas(fixtures_dir, name, 'train_input')
    losses = model.forward_train(io['train_input'], metas, io['train_gt'],
                                 seg_weight=extra['train_seg_weight'], return_feat=True)
    for key in ('decode.loss_seg', 'decode.acc_seg'):
        assert_loss_close(losses[key], extra[f'loss_weighted/{key}'], what=f'weighted {key}')
    for i in range(4):
        assert_close(losses['features'][i], extra[f'train_feat{i}'], what=f'train_feat{i}')


def test_wrong_layernorm_eps_is_detected(fixtures_dir):
    """The tolerance is tight enough to catch an encoder LayerNorm epsilon of 1e-5."""
    name = 'daformer_sepaspp'
    io = load_io(fixtures_dir, f'{name}_io.pth')
    model = build_case_model(fixtures_dir, name).eval()
    for module in model.backbone.modules():
        if isinstance(module, torch.nn.LayerNorm) and module.eps == 1e-6:
            module.eps = 1e-5
    with torch.no_grad():
        feats = model.extract_feat(io['input'])
    assert max((f - io[f'feat{i}']).abs().max().item() for i, f in enumerate(feats)) > 1e-5
