"""Your own data end to end, as README "Your own data" runs it: the converter on a 5-class
dataset with non-Cityscapes names (source with an id mapping, unlabelled target, labelled
target val), DAFormer (with the thing-class feature distance) and HRDA+MIC trained for 2
iterations from the generated configs through tools/train.py (shrunk by --cfg-options),
test.sh (per-class table with the user's names), the demo (the user's palette) and the
experiment summary."""
import re
import sys

import cv2
import numpy as np
import pytest
import torch

from fake_datasets import OWN_CLASSES, write_own_data
from mmseg.utils.experiment_summary import read_run, write_summary
from test_e2e_supervised import run

# MiT-B0 with a 32-dim decoder from scratch, 2 iterations, evaluated and saved at the end.
CPU_SMOKE_OPTIONS = [
    'model.pretrained=None', 'model.backbone.type=mit_b0',
    'model.decode_head.in_channels=[32,64,160,256]', 'model.decode_head.channels=32',
    'model.decode_head.decoder_params.embed_dims=32', 'runner.max_iters=2',
    'checkpoint_config.interval=2', 'evaluation.interval=2', 'data.workers_per_gpu=0',
    'log_config.interval=1']
METHODS = ('daformer', 'mic')


@pytest.fixture(scope='module')
def own_runs(tmp_path_factory):
    """The converted data, its configs and a 2-iteration run of each of METHODS."""
    tmp = tmp_path_factory.mktemp('own')
    argv = write_own_data(tmp / 'farm')
    run([sys.executable, 'tools/convert_datasets/custom.py', *argv,
         '--out-dir', str(tmp / 'data'), '--config-dir', str(tmp / 'configs'),
         '--crop-size', '64', '--nproc', '2'])
    runs = {}
    for method in METHODS:
        runs[method] = tmp / f'run_{method}'
        run([sys.executable, 'tools/train.py', str(tmp / 'configs' / f'farm_{method}.py'),
             '--work-dir', str(runs[method]), '--cfg-options', *CPU_SMOKE_OPTIONS])
    return tmp, runs


@pytest.mark.parametrize('method', METHODS)
def test_test_sh_table_has_the_users_classes(own_runs, method):
    _, runs = own_runs
    out = run(['sh', 'test.sh', str(runs[method])])
    table = out[out.index('per class results'):]
    rows = re.findall(r'^\|\s+(\w+)\s+\|', table[:table.index('Summary')], re.MULTILINE)
    assert rows == ['Class'] + OWN_CLASSES['classes']
    assert len(list((runs[method] / 'preds').glob('*.png'))) == 2
    meta = torch.load(runs[method] / 'latest.pth', map_location='cpu',
                      weights_only=True)['meta']
    assert list(meta['CLASSES']) == OWN_CLASSES['classes']
    assert meta['PALETTE'] == OWN_CLASSES['palette']
    assert list((runs[method] / 'debug').glob('*.png'))


def test_demo_draws_with_the_users_palette(own_runs):
    tmp, runs = own_runs
    image = tmp / 'farm' / 'real' / 'val' / 'images' / 'img_100.png'
    overlay = tmp / 'overlay.png'
    run([sys.executable, 'demo/image_demo.py', str(image), str(runs['mic'] / 'farm_mic.py'),
         str(runs['mic'] / 'latest.pth'), '--device', 'cpu', '--opacity', '1',
         '--out-file', str(overlay)])
    drawn = cv2.imread(str(overlay))[:64, :128, ::-1].reshape(-1, 3)  # image part, RGB
    colours = {tuple(c) for c in np.unique(drawn, axis=0).tolist()}
    assert colours <= {tuple(c) for c in OWN_CLASSES['palette']}


def test_experiment_summary_lists_the_users_classes(own_runs):
    tmp, runs = own_runs
    results = [read_run(method, runs[method]) for method in METHODS]
    markdown = write_summary(tmp / 'summary', 'farm', results)
    header = markdown.splitlines()[2]
    for name in OWN_CLASSES['classes']:
        assert f' {name} |' in header
