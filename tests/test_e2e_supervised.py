"""End to end on a tiny synthetic Cityscapes-layout dataset: train with ``tools/train.py``,
evaluate with ``test.sh`` (mIoU table + coloured predictions), draw with
``demo/image_demo.py`` — all as subprocesses, the way users run them."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

REPO = Path(__file__).resolve().parents[1]

TINY_CONFIG = """
_base_ = ['{repo}/configs/quickstart/daformer_mitb0_demo.py']
# Tiny and fast: 64x64 crops, 32-dim decoder, 4 iterations, evaluation and a
# checkpoint at the end.
model = dict(decode_head=dict(channels=32, decoder_params=dict(embed_dims=32)))
data_root = '{data}/'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (64, 64)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(128, 64)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiScaleFlipAug', img_scale=(128, 64), flip=False,
         transforms=[
             dict(type='Resize', keep_ratio=True),
             dict(type='RandomFlip'),
             dict(type='Normalize', **img_norm_cfg),
             dict(type='ImageToTensor', keys=['img']),
             dict(type='Collect', keys=['img']),
         ])
]
data = dict(
    samples_per_gpu=2,
    workers_per_gpu=0,
    train=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline)),
    val=dict(data_root=data_root, pipeline=test_pipeline),
    test=dict(data_root=data_root, pipeline=test_pipeline))
lr_config = dict(warmup_iters=2)
runner = dict(type='IterBasedRunner', max_iters=4)
checkpoint_config = dict(by_epoch=False, interval=4, max_keep_ckpts=1)
evaluation = dict(interval=4, metric='mIoU')
log_config = dict(interval=2)
"""


def run(cmd, cwd=REPO):
    env = dict(os.environ, OMP_NUM_THREADS='2', PYTHON=sys.executable)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, (f'{cmd} failed ({proc.returncode}):\n'
                                  f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('e2e')
    data = tmp / 'demo_cityscapes'
    run([sys.executable, 'tools/make_demo_data.py', '--out', str(data), '--num-train', '4',
         '--num-val', '2', '--size', '64x128'])
    config = tmp / 'tiny_daformer_demo.py'
    config.write_text(TINY_CONFIG.format(repo=REPO, data=data))
    work_dir = tmp / 'run'
    log = run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)])
    return dict(data=data, work_dir=work_dir, config=config, train_log=log)


def test_train_writes_run_folder(trained_run):
    work_dir = trained_run['work_dir']
    assert (work_dir / 'tiny_daformer_demo.py').is_file()  # config dump
    assert (work_dir / 'latest.pth').exists()
    assert (work_dir / 'iter_4.pth').is_file()
    assert list(work_dir.glob('*.log'))
    assert list((work_dir / 'tf_logs').glob('events.*'))
    json_logs = list(work_dir.glob('*.log.json'))
    assert len(json_logs) == 1
    entries = [json.loads(line) for line in json_logs[0].read_text().splitlines()]
    train = [e for e in entries if e.get('mode') == 'train']
    val = [e for e in entries if e.get('mode') == 'val']
    assert [e['iter'] for e in train] == [2, 4]
    assert all('decode.loss_seg' in e and 'lr' in e for e in train)
    assert len(val) == 1 and 0 <= val[0]['mIoU'] <= 1


def test_checkpoint_meta_has_classes_and_config(trained_run):
    import torch
    ckpt = torch.load(trained_run['work_dir'] / 'latest.pth', map_location='cpu',
                      weights_only=True)
    meta = ckpt['meta']
    assert len(meta['CLASSES']) == 19 and meta['CLASSES'][0] == 'road'
    assert len(meta['PALETTE']) == 19
    assert 'DAFormerHead' in meta['config']
    assert any(k.startswith('backbone.block1') for k in ckpt['state_dict'])


def test_test_sh_prints_miou_and_writes_predictions(trained_run):
    work_dir = trained_run['work_dir']
    out = run(['sh', 'test.sh', str(work_dir)])
    assert 'mIoU' in out and 'road' in out
    preds = sorted((work_dir / 'preds').rglob('*.png'))
    assert len(preds) == 2
    pred = cv2.imread(str(preds[0]))
    assert pred.shape == (64, 128, 3)


def test_aug_test_through_test_sh(trained_run):
    # Extra arguments of test.sh go to tools/test.py: flip + multi-scale testing.
    out = run(['sh', 'test.sh', str(trained_run['work_dir']), '--aug-test'])
    assert 'mIoU' in out


def test_image_demo_writes_overlay(trained_run, tmp_path):
    work_dir = trained_run['work_dir']
    image = sorted((trained_run['data'] / 'leftImg8bit' / 'val').rglob('*.png'))[0]
    out_file = tmp_path / 'overlay.png'
    run([sys.executable, 'demo/image_demo.py', str(image),
         str(work_dir / 'tiny_daformer_demo.py'), str(work_dir / 'latest.pth'),
         '--device', 'cpu', '--palette', 'cityscapes', '--opacity', '0.5',
         '--out-file', str(out_file)])
    overlay = cv2.imread(str(out_file))
    assert overlay is not None
    assert overlay.shape[0] >= 64 and overlay.shape[1] > 128  # image + legend panel


def test_resume_continues_from_latest(trained_run, tmp_path):
    import torch
    work_dir = tmp_path / 'resumed'
    run([sys.executable, 'tools/train.py', str(trained_run['config']), '--work-dir',
         str(work_dir), '--resume-from', str(trained_run['work_dir'] / 'latest.pth'),
         '--no-validate', '--cfg-options', 'runner.max_iters=6', 'checkpoint_config.interval=6'])
    assert (work_dir / 'iter_6.pth').is_file()
    json_log = next(work_dir.glob('*.log.json'))
    train = [json.loads(line) for line in json_log.read_text().splitlines()
             if '"mode": "train"' in line]
    # It continued with iteration 5 (neither restarting nor repeating iteration 4).
    assert [e['iter'] for e in train] == [6]
    ckpt = torch.load(work_dir / 'latest.pth', map_location='cpu', weights_only=True)
    assert ckpt['meta']['CLASSES'][0] == 'road'


def test_test_sh_finds_a_legacy_json_config(trained_run, tmp_path):
    """Run folders of the original releases hold the merged config as ``<run>.json``
    (tuples become lists there)."""
    import shutil

    from mmcv import Config
    legacy = tmp_path / 'legacy_run'
    legacy.mkdir()
    shutil.copy(trained_run['work_dir'] / 'latest.pth', legacy / 'latest.pth')
    cfg = Config.fromfile(str(trained_run['work_dir'] / 'tiny_daformer_demo.py'))
    (legacy / 'legacy_run.json').write_text(json.dumps(cfg._cfg_dict.to_dict(), indent=2))
    out = run(['sh', 'test.sh', str(legacy)])
    assert 'legacy_run.json' in out and 'mIoU' in out
    assert len(list((legacy / 'preds').rglob('*.png'))) == 2
