"""Dataset listing, items, the pseudo-label margin mask, evaluation and building."""
import numpy as np
import pytest
import torch
from PIL import Image

from mmseg.datasets import (ACDCDataset, CityscapesDataset, ConcatDataset, CustomDataset,
                            DarkZurichDataset, GTADataset, RepeatDataset, SynthiaDataset,
                            build_dataloader, build_dataset)
from mmseg.datasets.cityscapes import margin_mask

from conftest import write_image, write_label

TRAIN_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg'],
         meta_keys=['filename', 'ori_filename', 'ori_shape', 'img_shape']),
]
TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(128, 64), flip=False,
         transforms=[dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
                     dict(type='Normalize', mean=[0, 0, 0], std=[1, 1, 1]),
                     dict(type='ImageToTensor', keys=['img']),
                     dict(type='Collect', keys=['img'])]),
]


def cityscapes(root, folder='train', pipeline=TRAIN_PIPELINE, **kwargs):
    return CityscapesDataset(pipeline=pipeline, data_root=str(root),
                             img_dir=f'leftImg8bit/{folder}', ann_dir=f'gtFine/{folder}',
                             **kwargs)


def test_scan_sorted_recursive_and_items(make_cityscapes, tmp_path):
    make_cityscapes(n=2, city='bremen')
    root, labels = make_cityscapes(n=3, city='aachen')
    dataset = cityscapes(root)
    names = [info['filename'] for info in dataset.img_infos]
    assert names == sorted(names) and len(dataset) == 5
    assert dataset.img_infos[0] == dict(
        filename='aachen/aachen_000000_000019_leftImg8bit.png',
        ann=dict(seg_map='aachen/aachen_000000_000019_gtFine_labelTrainIds.png'))
    item = dataset[0]
    assert item['img'].data.shape == (3, 32, 64)
    assert np.array_equal(item['gt_semantic_seg'].data[0].numpy(),
                          labels['aachen_000000_000019'])
    assert item['img_metas'].data['ori_filename'] == names[0]
    assert dataset.CLASSES[0] == 'road' and len(dataset.CLASSES) == 19
    assert dataset.PALETTE[0] == [128, 64, 128]


def test_split_file_and_test_mode(make_cityscapes):
    root, _ = make_cityscapes(n=3)
    (root / 'subset.txt').write_text('aachen/aachen_000002_000019\naachen/aachen_000000_000019\n')
    dataset = cityscapes(root, split='subset.txt', pipeline=TEST_PIPELINE, test_mode=True)
    assert [i['filename'] for i in dataset.img_infos] == [
        'aachen/aachen_000002_000019_leftImg8bit.png',
        'aachen/aachen_000000_000019_leftImg8bit.png']
    item = dataset[0]
    assert set(item) == {'img', 'img_metas'}
    assert item['img'][0].shape == (3, 64, 128)
    assert np.allclose(item['img_metas'][0].data['scale_factor'], 2.0)


def test_all_benchmark_datasets_share_cityscapes_classes():
    for cls in (GTADataset, SynthiaDataset, ACDCDataset, DarkZurichDataset):
        assert cls.CLASSES == CityscapesDataset.CLASSES
        assert cls.PALETTE == CityscapesDataset.PALETTE
    from mmseg.core.evaluation import get_classes, get_palette
    assert tuple(get_classes('cityscapes')) == CityscapesDataset.CLASSES
    assert get_palette('gta') == CityscapesDataset.PALETTE
    with pytest.raises(ValueError, match='cityscapes'):
        get_classes('citiscapes')


def test_acdc_and_dark_zurich_suffixes(tmp_path):
    rng = np.random.default_rng(0)
    for name, cls in (('acdc', ACDCDataset), ('dark_zurich', DarkZurichDataset)):
        root = tmp_path / name
        write_image(root / 'rgb_anon/val/night/GP01/GP01_frame_000001_rgb_anon.png',
                    rng.integers(0, 255, (8, 16, 3), dtype=np.uint8))
        write_label(root / 'gt/val/night/GP01/GP01_frame_000001_gt_labelTrainIds.png',
                    np.zeros((8, 16), np.uint8))
        dataset = cls(pipeline=TRAIN_PIPELINE, data_root=str(root), img_dir='rgb_anon/val',
                      ann_dir='gt/val')
        assert dataset.img_infos[0]['ann']['seg_map'].endswith('_gt_labelTrainIds.png')
        assert dataset[0]['gt_semantic_seg'].data.shape == (1, 8, 16)


def test_unlabelled_target_without_label_folder(tmp_path):
    """Dark Zurich train has no labels: the configs still name gt/train/night."""
    root = tmp_path / 'dark_zurich'
    write_image(root / 'rgb_anon/train/night/a_rgb_anon.png', np.zeros((8, 16, 3), np.uint8))
    dataset = DarkZurichDataset(
        pipeline=[dict(type='LoadImageFromFile'), dict(type='DefaultFormatBundle'),
                  dict(type='Collect', keys=['img'], meta_keys=['filename'])],
        data_root=str(root), img_dir='rgb_anon/train/night/', ann_dir='gt/train/night/')
    assert dataset[0]['img'].data.shape == (3, 8, 16)
    with pytest.raises(FileNotFoundError, match='a_gt_labelTrainIds.png'):
        dataset.get_gt_seg_map_by_idx(0)


def test_crop_pseudo_margins_mask_through_resize_crop_collect(make_cityscapes):
    root, _ = make_cityscapes(n=1, size=(32, 64))
    margins = [2, 8, 4, 6]
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations'),
        dict(type='Resize', img_scale=(128, 64)),
        dict(type='RandomCrop', crop_size=(40, 48)),
        dict(type='DefaultFormatBundle'),
        dict(type='Collect', keys=['img', 'gt_semantic_seg'], meta_keys=['filename']),
    ]
    dataset = cityscapes(root, pipeline=pipeline, crop_pseudo_margins=margins)
    assert pipeline[-1]['keys'] == ['img', 'gt_semantic_seg']  # config left untouched
    full = margin_mask(32, 64, margins)
    assert full.dtype == np.uint8 and full.sum() == (32 - 10) * (64 - 10)
    resized = full.repeat(2, axis=0).repeat(2, axis=1)  # nearest ×2
    for seed in range(3):
        np.random.seed(seed)
        y, x = np.random.randint(0, 64 - 40 + 1), np.random.randint(0, 128 - 48 + 1)
        np.random.seed(seed)
        item = dataset[0]
        mask = item['valid_pseudo_mask'].data
        assert mask.shape == (1, 40, 48) and mask.dtype == torch.uint8
        assert np.array_equal(mask[0].numpy(), resized[y:y + 40, x:x + 48])
        assert item['gt_semantic_seg'].data.shape == (1, 40, 48)
    with pytest.raises(ValueError, match='Collect'):
        cityscapes(root, pipeline=pipeline[:-1], crop_pseudo_margins=margins)


def test_margin_mask_zero_margins_keep_everything():
    assert margin_mask(4, 5, [0, 0, 0, 0]).all()
    bottom = margin_mask(4, 5, [0, 1, 0, 0])
    assert bottom[:3].all() and not bottom[3].any()


def test_evaluate_pre_eval_and_raw_predictions(make_cityscapes, capsys):
    root, labels = make_cityscapes(n=2, size=(8, 16))
    dataset = cityscapes(root, pipeline=TEST_PIPELINE, test_mode=True)
    gts = [labels[f'aachen_{i:06d}_000019'] for i in range(2)]
    preds = [gt.astype(np.int64).copy() for gt in gts]
    preds[0][preds[0] == 255] = 0
    preds[1][:, :8] = 0  # half of the second image predicted as road
    pre = dataset.pre_eval(preds, [0, 1])
    assert len(pre) == 2 and len(pre[0]) == 4
    from_pre = dataset.evaluate(pre)
    from_raw = dataset.evaluate(preds)
    assert from_pre == from_raw
    assert set(from_pre) >= {'mIoU', 'mAcc', 'aAcc', 'IoU.road', 'Acc.bicycle'}
    assert 0 < from_pre['mIoU'] < 1 and 0 < from_pre['aAcc'] < 1
    assert from_pre['mIoU'] == round(from_pre['mIoU'], 4)  # percent with 2 decimals
    printed = capsys.readouterr().out
    assert 'per class results' in printed and 'road' in printed and 'mIoU' in printed
    perfect = dataset.evaluate(dataset.pre_eval([g.astype(np.int64) for g in gts], [0, 1]))
    assert perfect['mIoU'] == 1.0 and perfect['aAcc'] == 1.0
    with pytest.raises(KeyError, match='mIoU'):
        dataset.evaluate(pre, metric='accuracy')
    both = dataset.evaluate(pre, metric=['mIoU', 'mDice', 'mFscore'])
    assert {'mDice', 'mFscore', 'mPrecision', 'mRecall'} <= set(both)


def test_custom_classes_subset(make_cityscapes):
    root, labels = make_cityscapes(n=1, size=(8, 16))
    dataset = cityscapes(root, classes=['car', 'road'])
    assert dataset.CLASSES == ['car', 'road']
    assert dataset.PALETTE == [[0, 0, 142], [128, 64, 128]]
    gt = dataset[0]['gt_semantic_seg'].data[0].numpy()
    raw = labels['aachen_000000_000019']
    assert (gt[raw == 13] == 0).all() and (gt[raw == 0] == 1).all()
    assert (gt[(raw != 13) & (raw != 0)] == 255).all()
    with pytest.raises(ValueError, match='carr'):
        cityscapes(root, classes=['carr'])


def test_format_results_writes_pngs(make_cityscapes, tmp_path):
    root, _ = make_cityscapes(n=2, size=(8, 16))
    dataset = cityscapes(root, pipeline=TEST_PIPELINE, test_mode=True)
    pred = np.zeros((8, 16), np.int64)
    pred[:, 8:] = 13
    files = dataset.format_results([pred], str(tmp_path / 'out'), indices=[1])
    assert files == [str(tmp_path / 'out' / 'aachen_000001_000019.png')]
    written = np.asarray(Image.open(files[0]))
    assert written[0, 0] == 7 and written[0, -1] == 26  # Cityscapes label ids
    train_ids = dataset.format_results([pred], str(tmp_path / 'tid'), indices=[0],
                                       to_label_id=False)
    assert np.array_equal(np.asarray(Image.open(train_ids[0])), pred)


def test_build_dataset_wrappers_and_dataloader(make_cityscapes):
    root, _ = make_cityscapes(n=3, size=(8, 16))
    cfg = dict(type='CityscapesDataset', data_root=str(root), img_dir='leftImg8bit/train',
               ann_dir='gtFine/train', pipeline=TRAIN_PIPELINE)
    dataset = build_dataset(cfg)
    assert isinstance(dataset, CityscapesDataset) and len(dataset) == 3
    assert build_dataset(cfg, dict(test_mode=True)).test_mode
    concat = build_dataset([cfg, cfg])
    assert isinstance(concat, ConcatDataset) and len(concat) == 6
    assert concat.CLASSES == CityscapesDataset.CLASSES
    repeat = build_dataset(dict(type='RepeatDataset', times=2, dataset=cfg))
    assert isinstance(repeat, RepeatDataset) and len(repeat) == 6
    with pytest.raises(KeyError, match='CityscapesDataset'):
        build_dataset(dict(cfg, type='CitySpacesDataset'))
    with pytest.raises(TypeError, match='img_suffixx'):
        build_dataset(dict(cfg, img_suffixx='.png'))

    loader = build_dataloader(dataset, samples_per_gpu=2, workers_per_gpu=0, shuffle=False,
                              pin_memory=False)
    batch = next(iter(loader))
    assert batch['img'].data[0].shape == (2, 3, 8, 16)
    assert batch['gt_semantic_seg'].data[0].shape == (2, 1, 8, 16)
    assert len(batch['img_metas'].data[0]) == 2
    worker_loader = build_dataloader(dataset, samples_per_gpu=3, workers_per_gpu=1, seed=0,
                                     drop_last=True, pin_memory=False)
    assert worker_loader.persistent_workers
    assert next(iter(worker_loader))['img'].data[0].shape == (3, 3, 8, 16)


def test_custom_dataset_generic_suffixes(tmp_path):
    rng = np.random.default_rng(1)
    for name in ('b', 'a'):
        write_image(tmp_path / 'img' / f'{name}.jpg', rng.integers(0, 255, (4, 4, 3),
                                                                   dtype=np.uint8))
        write_label(tmp_path / 'ann' / f'{name}.png', np.ones((4, 4), np.uint8))
    dataset = CustomDataset(pipeline=TRAIN_PIPELINE, img_dir=str(tmp_path / 'img'),
                            ann_dir=str(tmp_path / 'ann'))
    assert [i['filename'] for i in dataset.img_infos] == ['a.jpg', 'b.jpg']
    assert dataset[1]['gt_semantic_seg'].data.sum() == 16
