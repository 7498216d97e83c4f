"""Class-conditional alignment (CondAdvSeg, PixelDiscriminator) and Classifier
Rectification (LabelShiftCR, LogitAdjustedCrossEntropyLoss) with known answers and one
training step each on the tiny DAFormer."""
import json
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.models import UDA
from mmseg.models.losses import CrossEntropyLoss, LogitAdjustedCrossEntropyLoss
from mmseg.models.uda.cond_advseg import capped_soft_label
from mmseg.models.uda.pixel_discriminator import (PixelDiscriminator, soft_domain_label,
                                                  soft_label_loss)
from test_dacs import make_batch
from tiny_cfgs import tiny_daformer, tiny_hrda


# --- Classifier Rectification loss --------------------------------------------------------

def test_cr_loss_with_equal_priors_is_plain_ce():
    torch.manual_seed(0)
    logits, labels = torch.randn(2, 4, 3, 5), torch.randint(0, 4, (2, 3, 5))
    labels[0, 0, 0] = 255
    adjusted = LogitAdjustedCrossEntropyLoss([0.0] * 4)(logits, labels)
    assert torch.equal(adjusted, CrossEntropyLoss()(logits, labels))


def test_cr_loss_gradient_is_adjusted_softmax_minus_onehot():
    torch.manual_seed(0)
    source, target = torch.tensor([0.5, 0.3, 0.2]), torch.tensor([0.2, 0.2, 0.6])
    offset = (source.log() - target.log()).tolist()
    logits = torch.randn(1, 3, 2, 2, requires_grad=True)
    labels = torch.tensor([[[0, 1], [2, 2]]])
    LogitAdjustedCrossEntropyLoss(offset, reduction='sum')(logits, labels).backward()
    expected = torch.softmax(logits.detach() + torch.tensor(offset).view(1, 3, 1, 1), 1) \
        - F.one_hot(labels, 3).permute(0, 3, 1, 2)
    assert torch.allclose(logits.grad, expected, atol=1e-6)


def test_cr_loss_checks_the_class_count():
    with pytest.raises(ValueError, match='3 class offsets for logits with 4 classes'):
        LogitAdjustedCrossEntropyLoss([0.0] * 3)(torch.zeros(1, 4, 2, 2),
                                                  torch.zeros(1, 2, 2, dtype=torch.long))


# --- discriminator -------------------------------------------------------------------------

def test_pixel_discriminator_output_is_2k_channels_at_the_requested_size():
    d = PixelDiscriminator(in_channels=8, num_classes=5, ndf=16)
    assert d(torch.randn(2, 8, 4, 6)).shape == (2, 10, 4, 6)
    assert d(torch.randn(2, 8, 4, 6), size=(16, 24)).shape == (2, 10, 16, 24)


def test_soft_label_loss_is_minimal_at_the_renormalised_soft_label():
    soft = capped_soft_label(torch.tensor([5.0, 0.0, -1.0]).view(1, 3, 1, 1), cap=0.9)
    assert soft[0, 0, 0, 0] == pytest.approx(0.9)  # capped, not renormalised
    q = soft_domain_label(soft, 1)
    assert q.shape == (1, 6, 1, 1) and q[:, :3].sum() == 0
    best = torch.log(q / q.sum(1, keepdim=True) + 1e-12).requires_grad_()
    loss = soft_label_loss(best, q)
    loss.backward()
    assert best.grad.abs().max() < 1e-5
    for _ in range(5):
        other = best.detach() + torch.randn_like(best)
        assert soft_label_loss(other, q) > loss


# --- CondAdvSeg ----------------------------------------------------------------------------

def cond_advseg_cfg(**overrides):
    cfg = dict(type='CondAdvSeg', model=tiny_daformer(), temperature=1.8,
               soft_label_cap=0.9, lambda_adv=0.001, lr_D=1e-4, disc_mid=16,
               disc_feature=-1, max_iters=10)
    return dict(cfg, **overrides)


def test_cond_advseg_step_trains_segmentor_and_discriminator():
    torch.manual_seed(0)
    model = UDA.build(cond_advseg_cfg()).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    d_before = [p.detach().clone() for p in model.model_D.parameters()]
    head_before = [p.detach().clone() for p in model.model.decode_head.parameters()]
    log = model.train_step(make_batch(), optimizer)['log_vars']
    for key in ('decode.loss_seg', 'trg.loss_adv', 'D.loss_d'):
        assert math.isfinite(log[key]), key
    assert model.model_D.body[0].in_channels == 256  # MiT-B0 stage 4
    assert model.optimizer_D.state_dict()['state'][0]['step'] == 1
    assert all(p.grad is None for p in model.model_D.parameters())
    assert not any(torch.equal(a, b) for a, b in zip(d_before, model.model_D.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(head_before,
                                                      model.model.decode_head.parameters()))


def test_cond_advseg_source_ce_uses_the_temperature():
    torch.manual_seed(0)
    model = UDA.build(cond_advseg_cfg()).eval()
    batch = make_batch()
    log, _, _ = model.train_source(batch['img'], batch['gt_semantic_seg'])
    with torch.no_grad():
        logits = model.model.encode_decode(batch['img'], batch['img_metas'])
        # mmseg 0.x 'mean': ignored pixels count in the denominator.
        expected = F.cross_entropy(logits / 1.8, batch['gt_semantic_seg'][:, 0],
                                   ignore_index=255, reduction='none').mean()
    assert log['decode.loss_seg'] == pytest.approx(expected.item(), rel=1e-5)


def test_cond_advseg_refuses_hrda():
    with pytest.raises(ValueError, match='must be an EncoderDecoder'):
        UDA.build(cond_advseg_cfg(model=tiny_hrda()))


# --- LabelShiftCR --------------------------------------------------------------------------

@pytest.fixture
def label_shift_file(tmp_path):
    source = torch.linspace(1, 2, 19)
    target = torch.linspace(2, 1, 19)
    path = tmp_path / 'label_shift.json'
    path.write_text(json.dumps(dict(source_prior=(source / source.sum()).tolist(),
                                    target_prior=(target / target.sum()).tolist())))
    return str(path)


@pytest.mark.parametrize('trainable', ['decode_head', 'conv_seg'])
def test_cr_freezes_everything_but_the_classifier(label_shift_file, trainable):
    torch.manual_seed(0)
    model = UDA.build(dict(type='LabelShiftCR', model=tiny_daformer(), max_iters=2,
                           label_shift=dict(file=label_shift_file), cr_trainable=trainable))
    model.train()
    assert not model.model.backbone.training
    before = {k: v.clone() for k, v in model.model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    log = model.train_step(make_batch(), optimizer)['log_vars']
    assert math.isfinite(log['decode.loss_seg'])
    after = model.model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith('decode_head.') for k in changed)
    if trainable == 'conv_seg':
        assert changed == {'decode_head.conv_seg.weight', 'decode_head.conv_seg.bias'}
    loss = model.model.decode_head.loss_decode
    assert isinstance(loss, LogitAdjustedCrossEntropyLoss)
    prior = json.load(open(label_shift_file))
    assert loss.logit_adjustment[0].item() == pytest.approx(
        math.log(prior['source_prior'][0]) - math.log(prior['target_prior'][0]), rel=1e-5)


def test_cr_names_a_bad_label_shift_file(tmp_path):
    bad = tmp_path / 'ls.json'
    bad.write_text(json.dumps(dict(source_prior=[0.5, 0.5], target_prior=[0.5, 0.5])))
    with pytest.raises(ValueError, match=r"ls.json: key 'source_prior' has 2 classes, "
                                         'expected 19'):
        UDA.build(dict(type='LabelShiftCR', model=tiny_daformer(),
                       label_shift=dict(file=str(bad))))
