"""Data transforms: mmseg 0.x semantics (shapes, nearest labels, RNG use, metas)."""
import copy

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmcv.parallel import DataContainer
from PIL import Image

from mmseg.datasets import PIPELINES
from mmseg.datasets.pipelines import (Collect, Compose, DefaultFormatBundle, ImageToTensor,
                                      LoadAnnotations, LoadImageFromFile, MultiScaleFlipAug,
                                      Normalize, Pad, PhotoMetricDistortion, RandomCrop,
                                      RandomFlip, Resize)


def results_with(img, seg=None, **extra):
    results = dict(img=img, img_shape=img.shape, ori_shape=img.shape, pad_shape=img.shape,
                   scale_factor=1.0, seg_fields=[], **extra)
    if seg is not None:
        results['gt_semantic_seg'] = seg
        results['seg_fields'].append('gt_semantic_seg')
    return results


def stripes(height, width):
    """A label map of vertical class stripes (values 0..9), easy to check after resizing."""
    return np.tile((np.arange(width) * 10 // width).astype(np.uint8), (height, 1))


def test_load_image_from_file(tmp_path):
    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 10  # blue in OpenCV's BGR order
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    results = LoadImageFromFile()(dict(img_info=dict(filename='a.png'), img_prefix=str(tmp_path)))
    assert results['filename'] == str(tmp_path / 'a.png')
    assert results['ori_filename'] == 'a.png'
    assert results['img'].dtype == np.uint8 and results['img'][0, 0].tolist() == [10, 0, 0]
    assert results['img_shape'] == results['ori_shape'] == results['pad_shape'] == (4, 6, 3)
    assert results['scale_factor'] == 1.0
    norm = results['img_norm_cfg']
    assert norm['mean'].tolist() == [0, 0, 0] and norm['std'].tolist() == [1, 1, 1]
    assert norm['to_rgb'] is False
    as_float = LoadImageFromFile(to_float32=True)(
        dict(img_info=dict(filename=str(tmp_path / 'a.png'))))
    assert as_float['img'].dtype == np.float32


def test_load_annotations_reads_palette_indices(tmp_path):
    label = np.array([[0, 7, 255], [18, 3, 3]], np.uint8)
    img = Image.fromarray(label, mode='P')
    img.putpalette([255, 0, 0] * 256)  # colours must not matter
    img.save(tmp_path / 'l.png')
    results = LoadAnnotations()(dict(ann_info=dict(seg_map='l.png'), seg_prefix=str(tmp_path),
                                     seg_fields=[]))
    assert results['gt_semantic_seg'].dtype == np.uint8
    assert np.array_equal(results['gt_semantic_seg'], label)
    assert results['seg_fields'] == ['gt_semantic_seg']
    reduced = LoadAnnotations(reduce_zero_label=True)(
        dict(ann_info=dict(seg_map=str(tmp_path / 'l.png')), seg_fields=[]))
    assert reduced['gt_semantic_seg'].tolist() == [[255, 6, 255], [17, 2, 2]]


def test_resize_keep_ratio_fits_long_and_short_edge():
    img = np.zeros((1024, 2048, 3), np.uint8)
    seg = stripes(1024, 2048)
    results = Resize(img_scale=(1024, 512))(results_with(img, seg))
    assert results['img'].shape == (512, 1024, 3)
    assert results['gt_semantic_seg'].shape == (512, 1024)
    assert results['img_shape'] == results['pad_shape'] == (512, 1024, 3)
    assert results['scale_factor'].dtype == np.float32
    assert results['scale_factor'].tolist() == [0.5] * 4
    assert results['keep_ratio'] is True and results['scale'] == (1024, 512)
    assert results['scale_idx'] == 0
    # GTA size to (1280, 720): limited by the long edge.
    gta = Resize(img_scale=[1280, 720])(results_with(np.zeros((1052, 1914, 3), np.uint8)))
    assert gta['img'].shape == (704, 1280, 3)


def test_resize_labels_use_nearest():
    seg = stripes(20, 40)
    results = Resize(img_scale=(60, 30), keep_ratio=False)(
        results_with(np.zeros((20, 40, 3), np.uint8), seg))
    assert results['img'].shape == (30, 60, 3)
    out = results['gt_semantic_seg']
    assert out.shape == (30, 60)
    assert set(np.unique(out)) <= set(np.unique(seg))
    assert np.array_equal(out, mmcv.imresize(seg, (60, 30), interpolation='nearest'))
    assert results['scale_factor'].tolist() == [1.5, 1.5, 1.5, 1.5]


def test_resize_ratio_range_and_preset_scale():
    np.random.seed(3)
    ratio = np.random.random_sample() * (2.0 - 0.5) + 0.5
    np.random.seed(3)
    results = Resize(img_scale=(40, 20), ratio_range=(0.5, 2.0))(
        results_with(np.zeros((20, 40, 3), np.uint8)))
    assert results['scale'] == (int(40 * ratio), int(20 * ratio))
    preset = Resize(img_scale=(40, 20))(results_with(np.zeros((20, 40, 3), np.uint8),
                                                     scale=(20, 10)))
    assert preset['img'].shape == (10, 20, 3)
    with pytest.raises(ValueError, match='multiscale_mode'):
        Resize(img_scale=[(1, 2), (3, 4)], multiscale_mode='nope')


def test_random_crop_box_inside_image_and_same_for_labels():
    img = np.arange(30 * 50 * 3, dtype=np.int64).reshape(30, 50, 3).astype(np.float32)
    seg = (np.arange(30 * 50).reshape(30, 50) % 7).astype(np.uint8)
    for seed in range(20):
        np.random.seed(seed)
        y = np.random.randint(0, 30 - 16 + 1)
        x = np.random.randint(0, 50 - 24 + 1)
        np.random.seed(seed)
        results = RandomCrop(crop_size=(16, 24))(results_with(img.copy(), seg.copy()))
        assert results['img'].shape == (16, 24, 3) and results['img_shape'] == (16, 24, 3)
        assert np.array_equal(results['img'], img[y:y + 16, x:x + 24])
        assert np.array_equal(results['gt_semantic_seg'], seg[y:y + 16, x:x + 24])
    # Crops larger than the image keep the whole image.
    small = RandomCrop(crop_size=(64, 64))(results_with(img.copy(), seg.copy()))
    assert small['img'].shape == (30, 50, 3)


def test_random_crop_cat_max_ratio_redraws():
    """Up to 10 redraws (y offset, then x offset each) until no class covers >= the
    ratio of the non-ignored pixels and at least two classes are present."""
    seg = np.zeros((20, 40), np.uint8)
    seg[:, 30:] = 1
    seg[:3] = 255
    img = np.arange(20 * 40).reshape(20, 40, 1).astype(np.float32)

    def reference_offsets(seed):
        np.random.seed(seed)
        y, x = np.random.randint(0, 11), np.random.randint(0, 31)
        for _ in range(10):
            labels, cnt = np.unique(seg[y:y + 10, x:x + 10], return_counts=True)
            cnt = cnt[labels != 255]
            if len(cnt) > 1 and cnt.max() / cnt.sum() < 0.75:
                break
            y, x = np.random.randint(0, 11), np.random.randint(0, 31)
        return y, x

    redrawn = 0
    for seed in range(10):
        y, x = reference_offsets(seed)
        np.random.seed(seed)
        results = RandomCrop(crop_size=(10, 10), cat_max_ratio=0.75)(
            results_with(img.copy(), seg.copy()))
        assert np.array_equal(results['img'], img[y:y + 10, x:x + 10])
        assert np.array_equal(results['gt_semantic_seg'], seg[y:y + 10, x:x + 10])
        redrawn += len(np.unique(results['gt_semantic_seg'][results['gt_semantic_seg'] != 255])) > 1
    assert redrawn >= 5  # the retries find the two-class crops most of the time
    with pytest.raises(KeyError, match='LoadAnnotations'):
        RandomCrop(crop_size=(4, 4), cat_max_ratio=0.5)(results_with(np.zeros((8, 8, 3))))


def test_random_flip():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    seg = np.array([[0, 1, 2], [3, 4, 5]], np.uint8)
    flipped = RandomFlip(prob=1.0)(results_with(img.copy(), seg.copy()))
    assert flipped['flip'] is True and flipped['flip_direction'] == 'horizontal'
    assert np.array_equal(flipped['img'], img[:, ::-1])
    assert np.array_equal(flipped['gt_semantic_seg'], seg[:, ::-1])
    kept = RandomFlip(prob=0.0)(results_with(img.copy(), seg.copy()))
    assert kept['flip'] is False and np.array_equal(kept['img'], img)
    vertical = RandomFlip(direction='vertical')(results_with(img.copy(), seg.copy(), flip=True))
    assert np.array_equal(vertical['gt_semantic_seg'], seg[::-1])
    assert RandomFlip()(results_with(img.copy()))['flip'] is False


def test_pad_size_and_divisor():
    results = Pad(size=(8, 10), pad_val=0, seg_pad_val=255)(
        results_with(np.ones((5, 7, 3), np.uint8), np.zeros((5, 7), np.uint8)))
    assert results['img'].shape == (8, 10, 3) and results['pad_shape'] == (8, 10, 3)
    assert results['img'][5:].sum() == 0 and results['img'][:5, :7].min() == 1
    seg = results['gt_semantic_seg']
    assert seg.shape == (8, 10) and (seg[5:] == 255).all() and (seg[:, 7:] == 255).all()
    assert (seg[:5, :7] == 0).all()
    divisor = Pad(size_divisor=4)(results_with(np.ones((5, 7, 3), np.uint8)))
    assert divisor['img'].shape == (8, 8, 3)
    with pytest.raises(ValueError):
        Pad()


def test_normalize_to_rgb():
    img = np.zeros((2, 2, 3), np.uint8)
    img[..., 0] = 30  # B
    img[..., 2] = 90  # R
    results = Normalize(mean=[10, 0, 0], std=[2, 1, 1], to_rgb=True)(results_with(img))
    assert results['img'].dtype == np.float32
    assert results['img'][0, 0].tolist() == [40.0, 0.0, 30.0]
    assert results['img_norm_cfg']['to_rgb'] is True
    assert results['img_norm_cfg']['mean'].dtype == np.float32


def test_photometric_distortion_is_seeded_and_keeps_shape():
    img = np.random.RandomState(0).randint(0, 256, (8, 8, 3)).astype(np.uint8)
    outs = []
    for _ in range(2):
        np.random.seed(5)
        outs.append(PhotoMetricDistortion()(results_with(img.copy()))['img'])
    assert outs[0].dtype == np.uint8 and outs[0].shape == img.shape
    assert np.array_equal(outs[0], outs[1])


def test_format_bundle_and_collect():
    img = np.zeros((4, 6, 3), np.float32)
    seg = np.ones((4, 6), np.uint8)
    results = results_with(img, seg, filename='f.png', ori_filename='f.png', flip=False,
                           flip_direction='horizontal',
                           img_norm_cfg=dict(mean=0, std=1, to_rgb=False))
    results['valid_pseudo_mask'] = np.ones((4, 6), np.uint8)
    results = DefaultFormatBundle()(results)
    assert isinstance(results['img'], DataContainer) and results['img'].stack
    assert results['img'].data.shape == (3, 4, 6)
    assert results['gt_semantic_seg'].data.shape == (1, 4, 6)
    assert results['gt_semantic_seg'].data.dtype == torch.int64
    assert results['valid_pseudo_mask'].data.shape == (1, 4, 6)
    data = Collect(keys=['img', 'gt_semantic_seg', 'valid_pseudo_mask'])(results)
    assert set(data) == {'img', 'img_metas', 'gt_semantic_seg', 'valid_pseudo_mask'}
    assert data['img_metas'].cpu_only
    assert set(data['img_metas'].data) == {'filename', 'ori_filename', 'ori_shape', 'img_shape',
                                           'pad_shape', 'scale_factor', 'flip',
                                           'flip_direction', 'img_norm_cfg'}
    with pytest.raises(KeyError, match='gt_semantic_seg'):
        Collect(keys=['img', 'gt_semantic_seg'], meta_keys=())(dict(img=1))


def test_image_to_tensor():
    results = ImageToTensor(keys=['img'])(dict(img=np.zeros((4, 6, 3), np.float32)))
    assert isinstance(results['img'], torch.Tensor) and results['img'].shape == (3, 4, 6)


def test_multi_scale_flip_aug_structure():
    transforms = [dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
                  dict(type='ImageToTensor', keys=['img']),
                  dict(type='Collect', keys=['img'],
                       meta_keys=['img_shape', 'flip', 'scale_factor'])]
    aug = MultiScaleFlipAug(transforms, img_scale=(64, 32), img_ratios=[0.5, 1.0], flip=True)
    img = np.zeros((16, 32, 3), np.uint8)
    img[:, 0] = 255
    out = aug(results_with(img))
    assert set(out) == {'img', 'img_metas'}
    assert len(out['img']) == 4
    metas = [m.data for m in out['img_metas']]
    assert [m['flip'] for m in metas] == [False, True, False, True]
    assert [tuple(t.shape) for t in out['img']] == [(3, 16, 32)] * 2 + [(3, 32, 64)] * 2
    # The flipped copy has the bright column on the right.
    assert out['img'][1][0, 0, -1] == 255 and out['img'][0][0, 0, 0] == 255
    # Single scale, no flip: the test pipeline of the configs.
    single = MultiScaleFlipAug(transforms, img_scale=[128, 64], flip=False)(results_with(img))
    assert len(single['img']) == 1 and single['img'][0].shape == (3, 64, 128)


def test_compose_from_configs_and_typo_suggestion():
    pipeline = Compose([dict(type='RandomFlip', prob=1.0), lambda r: dict(r, seen=True)])
    out = pipeline(results_with(np.zeros((2, 2, 3), np.uint8)))
    assert out['seen'] and out['flip']
    assert Compose([lambda r: None, lambda r: 1 / 0])({}) is None
    with pytest.raises(KeyError, match='RandomFlip'):
        Compose([dict(type='RandomFlipp')])
    assert PIPELINES.get('MultiScaleFlipAug') is MultiScaleFlipAug


def test_configs_are_not_mutated():
    cfg = [dict(type='Resize', img_scale=(1024, 512)), dict(type='Collect', keys=['img'])]
    before = copy.deepcopy(cfg)
    Compose(cfg)
    assert cfg == before
