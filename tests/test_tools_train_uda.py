"""A UDA run through the command-line tools: ``tools/train.py`` on a DACS config (the
wrapper steps the optimizer itself, ``optimizer_config=None``; debug images go to the run
folder), then ``test.sh`` evaluates the student part of the wrapper's checkpoint."""
import json
import math
import sys

import pytest
import torch

from test_e2e_supervised import REPO, TINY_CONFIG, run

UDA_CONFIG = """
_base_ = ['{supervised}', '{repo}/configs/_base_/uda/dacs.py']
train_pipeline = {{{{_base_.train_pipeline}}}}
data = dict(
    train=dict(
        _delete_=True,
        type='UDADataset',
        source=dict(type='CityscapesDataset', data_root='{source}/',
                    img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                    pipeline=train_pipeline),
        target=dict(type='CityscapesDataset', data_root='{target}/',
                    img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                    pipeline=train_pipeline)),
    val=dict(data_root='{target}/'),
    test=dict(data_root='{target}/'))
optimizer_config = None
runner = dict(max_iters=2)
checkpoint_config = dict(interval=2)
evaluation = dict(interval=2)
log_config = dict(interval=1, img_interval=2)
"""


def test_uda_train_and_test_sh(tmp_path):
    config = write_uda_config(tmp_path)
    work_dir = tmp_path / 'run'
    log = run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)])
    assert 'mix.decode.loss_seg' in log
    assert sorted(p.name for p in (work_dir / 'debug').glob('*.png'))  # iteration 1 grid
    keys = torch.load(work_dir / 'latest.pth', map_location='cpu',
                      weights_only=True)['state_dict'].keys()
    assert any(k.startswith('model.') for k in keys)
    assert any(k.startswith('ema_model.') for k in keys)

    out = run(['sh', 'test.sh', str(work_dir)])
    assert 'mIoU' in out
    assert len(list((work_dir / 'preds').rglob('*.png'))) == 1


MIC = """
uda = dict(mask_mode='{mode}', mask_alpha='same', mask_pseudo_threshold='same', mask_lambda=1,
           mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7,
                               mask_block_size=16))
"""

HRDA = """
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(type='HRDAHead', single_scale_head='DAFormerHead',
                     attention_classwise=True, hr_loss_weight=0.1),
    scales=[1, 0.5], hr_crop_size=(32, 32), feature_scale=0.5, crop_coord_divisible=8,
    hr_slide_inference=True,
    test_cfg=dict(mode='slide', batched_slide=True, stride=[32, 32], crop_size=[64, 64]))
"""


def write_uda_config(tmp_path, extra=''):
    """Tiny source/target demo data under ``tmp_path`` and a DACS config on them (+
    ``extra`` config lines); returns the config path."""
    for name, seed in (('source', 0), ('target', 1)):
        run([sys.executable, 'tools/make_demo_data.py', '--out', str(tmp_path / name),
             '--num-train', '2', '--num-val', '1', '--size', '64x128', '--seed', str(seed)])
    supervised = tmp_path / 'tiny_supervised.py'
    supervised.write_text(TINY_CONFIG.format(repo=REPO, data=tmp_path / 'source'))
    config = tmp_path / 'tiny_uda.py'
    config.write_text(UDA_CONFIG.format(supervised=supervised, repo=REPO,
                                        source=tmp_path / 'source',
                                        target=tmp_path / 'target') + extra)
    return config


@pytest.mark.parametrize('arch', ['daformer', 'hrda'])
def test_mic_runs_through_the_tools(tmp_path, arch):
    """DAFormer+MIC / HRDA+MIC: the masked loss is logged (finite) beside the other terms;
    test.sh evaluates the run (for HRDA also the LR-only, HR-only and attention outputs)."""
    extra = MIC.format(mode='separate' if arch == 'daformer' else 'separatetrgaug')
    config = write_uda_config(tmp_path, extra + (HRDA if arch == 'hrda' else ''))
    work_dir = tmp_path / 'run'
    run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)])
    logs = [json.loads(line) for line in next(work_dir.glob('*.log.json')).read_text()
            .splitlines()[1:]]
    train_logs = [entry for entry in logs if entry.get('mode') == 'train']
    terms = ['decode.loss_seg', 'mix.decode.loss_seg', 'masked.decode.loss_seg']
    if arch == 'hrda':
        terms += ['decode.hr.loss_seg', 'mix.decode.hr.loss_seg', 'masked.decode.hr.loss_seg']
    for term in terms:
        assert all(math.isfinite(entry[term]) for entry in train_logs), term
    assert len(train_logs) == 2
    outputs = [[]] + ([['--hrda-out', out] for out in ('LR', 'HR', 'ATT')]
                      if arch == 'hrda' else [])
    for extra_args in outputs:
        out = run(['sh', 'test.sh', str(work_dir)] + extra_args)
        assert 'mIoU' in out or 'ATT' in extra_args, out[-2000:]
