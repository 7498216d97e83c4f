"""MIC: block masks, the inputs each mask mode feeds the student, λ scaling, debug panels."""
import math

import pytest
import torch
from PIL import Image

from mmseg.models.uda.debug_writer import DebugImageWriter
from mmseg.models.uda.masking_consistency_module import MaskingConsistencyModule
from mmseg.models.utils.dacs_transforms import StrongTransform
from mmseg.models.utils.masking_transforms import BlockMaskGenerator
from test_dacs import mic_cfg, run_iterations
from tiny_cfgs import tiny_daformer, tiny_dacs, tiny_hrda


def test_block_mask_keeps_whole_blocks_at_the_expected_rate():
    torch.manual_seed(0)
    generator = BlockMaskGenerator(mask_ratio=0.7, mask_block_size=8)
    masks = generator.generate_mask(torch.zeros(200, 3, 64, 96))
    assert masks.shape == (200, 1, 64, 96)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    blocks = masks.view(200, 1, 8, 8, 12, 8)  # N, 1, rows, b, cols, b
    per_block_min = blocks.amin(dim=(3, 5))
    per_block_max = blocks.amax(dim=(3, 5))
    assert torch.equal(per_block_min, per_block_max)  # every block wholly kept or dropped
    assert masks.mean().item() == pytest.approx(0.3, abs=0.05)
    per_image = masks.mean(dim=(1, 2, 3))
    assert per_image.std() > 0  # independent draws per image


def test_mask_image_zeroes_the_dropped_blocks():
    torch.manual_seed(1)
    generator = BlockMaskGenerator(mask_ratio=0.5, mask_block_size=4)
    imgs = torch.rand(2, 3, 16, 16) + 1
    torch.manual_seed(1)
    mask = generator.generate_mask(imgs)
    torch.manual_seed(1)
    masked = generator.mask_image(imgs)
    assert torch.equal(masked, imgs * mask)
    assert ((masked == 0) == (mask == 0).expand_as(masked)).all()


def make_module(mode, source_only=False):
    return MaskingConsistencyModule(
        tiny_daformer(), mask_mode=mode, mask_alpha='same', mask_pseudo_threshold='same',
        mask_lambda=1, mask_generator=dict(type='block', mask_ratio=0.7, mask_block_size=8),
        alpha=0.99, pseudo_threshold=0.968, pseudo_weight_ignore_top=0,
        pseudo_weight_ignore_bottom=0, strong_transform=StrongTransform(0.2, 0.2, True),
        source_only=source_only)


def batch_tensors():
    g = torch.Generator().manual_seed(0)
    return dict(img=torch.randn(2, 3, 8, 8, generator=g),
                gt=torch.randint(0, 19, (2, 1, 8, 8), generator=g),
                target_img=torch.randn(2, 3, 8, 8, generator=g),
                pseudo_label=torch.randint(0, 19, (2, 8, 8), generator=g),
                pseudo_weight=torch.rand(2, 8, 8, generator=g))


@pytest.mark.parametrize('mode', ['separate', 'separateaug'])
def test_separate_takes_source0_and_target0(mode):
    b = batch_tensors()
    images, labels, weights = make_module(mode).select_inputs(**b)
    assert torch.equal(images, torch.stack([b['img'][0], b['target_img'][0]]))
    assert torch.equal(labels[0], b['gt'][0])
    assert torch.equal(labels[1, 0], b['pseudo_label'][0])
    assert torch.equal(weights[0], torch.ones(8, 8))
    assert torch.equal(weights[1], b['pseudo_weight'][0])


@pytest.mark.parametrize('mode', ['separatesrc', 'separatesrcaug'])
def test_separatesrc_takes_the_source_batch_with_gt(mode):
    b = batch_tensors()
    images, labels, weights = make_module(mode).select_inputs(**b)
    assert images is b['img'] and labels is b['gt'] and weights is None


@pytest.mark.parametrize('mode', ['separatetrg', 'separatetrgaug'])
def test_separatetrg_takes_the_target_batch_with_pseudo_labels(mode):
    b = batch_tensors()
    images, labels, weights = make_module(mode).select_inputs(**b)
    assert images is b['target_img']
    assert torch.equal(labels, b['pseudo_label'].unsqueeze(1))
    assert weights is b['pseudo_weight']


def test_source_only_host_masks_the_source_batch():
    b = batch_tensors()
    images, labels, weights = make_module('separatetrg', source_only=True).select_inputs(**b)
    assert images is b['img'] and labels is b['gt'] and weights is None


def test_separate_needs_batch_size_two():
    b = {k: v[:1] for k, v in batch_tensors().items()}
    with pytest.raises(ValueError, match='batch size of 2, got 1'):
        make_module('separate').select_inputs(**b)


def test_unknown_mask_mode_is_named():
    with pytest.raises(ValueError, match="'separat'"):
        make_module('separat')


def test_mask_lambda_scales_only_the_masked_loss():
    base = tiny_dacs(imnet_feature_dist_lambda=0, **mic_cfg('separatetrg'))
    _, full = run_iterations(dict(base, mask_lambda=1), n=1)
    _, half = run_iterations(dict(base, mask_lambda=0.25), n=1)
    assert half[0]['masked.decode.loss_seg'] == pytest.approx(
        0.25 * full[0]['masked.decode.loss_seg'], rel=1e-5)
    for key in ('decode.loss_seg', 'mix.decode.loss_seg', 'masked.decode.acc_seg'):
        assert half[0][key] == full[0][key], key


def test_no_pseudo_threshold_gives_weight_one():
    cfg = tiny_dacs(imnet_feature_dist_lambda=0,
                    **mic_cfg('separatetrg', mask_pseudo_threshold=None))
    model, logs = run_iterations(cfg, n=1)
    assert model.mic.teacher is not None  # None is not 'same': an own teacher
    assert torch.equal(model.mic._debug['weights'], torch.ones_like(model.mic._debug['weights']))
    assert math.isfinite(logs[0]['masked.decode.loss_seg'])


@pytest.mark.parametrize('model_cfg,expected', [
    (tiny_daformer(), ['Src Pred', 'Mix Pred', 'Masked Pred']),
    (tiny_hrda(), ['Mix Fused Pred', 'Mix LR', 'Mix HR', 'Mix Scale Att.', 'Masked Fused Pred',
                   'Masked LR', 'Masked HR', 'Masked Scale Att.']),
])
def test_debug_images_show_mic_and_hrda_panels(tmp_path, monkeypatch, model_cfg, expected):
    titles = []
    original = DebugImageWriter.maybe_write

    def record(self, iteration, make_panels, *args):
        def panels():
            made = make_panels()
            titles.extend(title for title, _, value in made if value is not None)
            return made
        return original(self, iteration, panels, *args)

    monkeypatch.setattr(DebugImageWriter, 'maybe_write', record)
    cfg = tiny_dacs(model=model_cfg, imnet_feature_dist_lambda=0, **mic_cfg('separate'))
    run_iterations(cfg, n=1, work_dir=str(tmp_path))
    for title in ['Source Image', 'Target Seg (Pseudo) GT', 'Masked Image', 'Masked Seg Targ',
                  'Masked Pseudo W.'] + expected:
        assert title in titles, title
    written = sorted(p.name for p in (tmp_path / 'debug').iterdir())
    assert written == ['000001_0.png', '000001_1.png']
    with Image.open(tmp_path / 'debug' / written[0]) as grid:
        assert grid.size[0] > 0
