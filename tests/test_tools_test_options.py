"""``tools/test.py`` options: ``--hrda-out LR|HR|ATT`` and ``--aug-test`` (config edits),
run in-process on a randomly initialised HRDA model and the synthetic dataset."""
import json

import mmcv
import pytest
import torch

from mmseg.models import build_segmentor
from test_tools_scripts import REPO, load_tool, make_demo_data

test_tool = load_tool('test')


@pytest.fixture(scope='module')
def hrda_run(fixtures_dir, tmp_path_factory):
    """Config + random-weight checkpoint of the fixtures' tiny HRDA model."""
    tmp = tmp_path_factory.mktemp('hrda')
    make_demo_data.make_demo_data(str(tmp / 'data'), num_train=0, num_val=1, size=(128, 256))
    model_cfg = json.loads(
        (fixtures_dir / 'models' / 'parity' / 'hrda_model_cfg.json').read_text())
    model_cfg.pop('train_cfg', None)
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='MultiScaleFlipAug', img_scale=(256, 128), flip=False, transforms=[
            dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
            dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img'])])]
    cfg = mmcv.Config(dict(model=model_cfg, data=dict(workers_per_gpu=0, test=dict(
        type='CityscapesDataset', data_root=str(tmp / 'data'), img_dir='leftImg8bit/val',
        ann_dir='gtFine/val', pipeline=test_pipeline))))
    config = tmp / 'hrda.py'
    cfg.dump(str(config))
    torch.manual_seed(0)
    ckpt = tmp / 'latest.pth'
    torch.save(dict(state_dict=build_segmentor(mmcv.ConfigDict(model_cfg)).state_dict()), ckpt)
    return tmp, str(config), str(ckpt)


@pytest.mark.parametrize('out', ['LR', 'HR'])
def test_hrda_out_lr_hr_evaluates(hrda_run, out):
    _, config, ckpt = hrda_run
    metric = test_tool.main([config, ckpt, '--eval', 'mIoU', '--hrda-out', out])
    assert 0 <= metric['mIoU'] <= 1


def test_hrda_out_att_writes_attention_maps(hrda_run):
    tmp, config, ckpt = hrda_run
    show_dir = tmp / 'att'
    with pytest.warns(UserWarning, match='--eval is skipped'):
        metric = test_tool.main([config, ckpt, '--eval', 'mIoU', '--hrda-out', 'ATT',
                                 '--show-dir', str(show_dir)])
    assert metric is None
    maps = list(show_dir.rglob('*.png'))
    assert len(maps) == 1 and mmcv.imread(str(maps[0])).shape == (128, 256, 3)


def test_hrda_out_needs_hrda_model():
    cfg = mmcv.Config.fromfile(str(REPO / 'configs/quickstart/daformer_mitb0_demo.py'))
    with pytest.raises(ValueError, match='needs an HRDA model'):
        test_tool.configure_hrda_out(cfg, 'HR')


def test_aug_test_enables_flip_and_ratios():
    cfg = mmcv.Config.fromfile(str(REPO / 'configs/quickstart/daformer_mitb0_demo.py'))
    test_tool.configure_aug_test(cfg)
    step = cfg.data.test.pipeline[1]
    assert step.flip is True and step.img_ratios == test_tool.DEFAULT_AUG_RATIOS
    step.img_ratios = [1.0, 2.0]
    test_tool.configure_aug_test(cfg)  # the config's own ratios are kept
    assert step.img_ratios == [1.0, 2.0]


def test_nothing_to_do_is_an_error():
    with pytest.raises(SystemExit):
        test_tool.parse_args(['cfg.py', 'ckpt.pth'])
