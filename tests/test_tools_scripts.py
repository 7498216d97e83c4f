"""The thin command-line tools: test.sh errors, analyze_logs, publish_model, make_demo_data,
get_param_count, print_config."""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def load_tool(name):
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f'tools_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


analyze_logs = load_tool('analyze_logs')
make_demo_data = load_tool('make_demo_data')
publish_model = load_tool('publish_model')


def run_test_sh(run_dir):
    return subprocess.run(['sh', str(REPO / 'test.sh'), str(run_dir)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHON=sys.executable))


def test_test_sh_without_config_fails_clearly(tmp_path):
    (tmp_path / 'latest.pth').write_bytes(b'')
    proc = run_test_sh(tmp_path)
    assert proc.returncode != 0
    assert 'no config' in proc.stderr and str(tmp_path) in proc.stderr


def test_test_sh_without_checkpoint_fails_clearly(tmp_path):
    (tmp_path / 'run.py').write_text('model = dict()\n')
    proc = run_test_sh(tmp_path)
    assert proc.returncode != 0
    assert 'latest.pth' in proc.stderr and 'no checkpoint' in proc.stderr


def test_test_sh_missing_run_dir_fails_clearly(tmp_path):
    proc = run_test_sh(tmp_path / 'nope')
    assert proc.returncode != 0 and 'run directory not found' in proc.stderr


def test_test_sh_with_several_configs_fails_clearly(tmp_path):
    (tmp_path / 'a.py').write_text('')
    (tmp_path / 'b.py').write_text('')
    (tmp_path / 'latest.pth').write_bytes(b'')
    proc = run_test_sh(tmp_path)
    assert proc.returncode != 0 and 'several .py configs' in proc.stderr


def write_json_log(path):
    lines = [dict(env_info='x', config='y', seed=0)]
    for it in range(10, 110, 10):
        lines.append(dict(mode='train', epoch=1, iter=it, lr=1e-4, loss=2.0 / it,
                          **{'decode.loss_seg': 2.0 / it}, time=0.5, data_time=0.01))
        if it % 50 == 0:
            lines.append(dict(mode='val', epoch=1, iter=it, mIoU=it / 200, aAcc=0.9))
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')


def test_analyze_logs_plot_curve_writes_png(tmp_path):
    log = tmp_path / 'run.log.json'
    write_json_log(log)
    entries = analyze_logs.load_json_log(str(log))
    assert analyze_logs.curve(entries, 'mIoU') == ([50, 100], [0.25, 0.5])
    out = tmp_path / 'curves.png'
    analyze_logs.main(['plot_curve', str(log), '--keys', 'loss', 'mIoU', '--out', str(out)])
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 100


def test_analyze_logs_cal_train_time(tmp_path, capsys):
    log = tmp_path / 'run.log.json'
    write_json_log(log)
    analyze_logs.main(['cal_train_time', str(log)])
    assert 'average time per iteration 0.5000 s' in capsys.readouterr().out


def test_publish_model_strips_optimizer_and_hashes_name(tmp_path):
    src = tmp_path / 'latest.pth'
    state = {'backbone.w': torch.randn(3, 3)}
    torch.save(dict(state_dict=state, meta=dict(CLASSES=('a', 'b'), iter=4),
                    optimizer={'state': {}, 'param_groups': []},
                    training_state={'iter': 4, 'local_iter': 4}), src)
    final = publish_model.main([str(src), str(tmp_path / 'out' / 'model.pth')])
    assert re.fullmatch(r'model-[0-9a-f]{8}\.pth', Path(final).name)
    assert publish_model.sha256_of(final).startswith(Path(final).stem[-8:])
    loaded = torch.load(final, map_location='cpu', weights_only=True)
    assert set(loaded) == {'state_dict', 'meta'}
    assert torch.equal(loaded['state_dict']['backbone.w'], state['backbone.w'])
    assert loaded['meta']['CLASSES'] == ('a', 'b')
    assert not list((tmp_path / 'out').glob('*.tmp.pth'))


def test_make_demo_data_layout_and_determinism(tmp_path):
    names = make_demo_data.make_demo_data(str(tmp_path / 'a'), seed=3, num_train=3, num_val=2,
                                          size=(64, 96))
    make_demo_data.make_demo_data(str(tmp_path / 'b'), seed=3, num_train=3, num_val=2,
                                  size=(64, 96))
    assert len(names['train']) == 3 and len(names['val']) == 2
    for split in ('train', 'val'):
        for name in names[split]:
            city, stem = name.split('/')
            img_file = f'leftImg8bit/{split}/{city}/{stem}_leftImg8bit.png'
            label_file = f'gtFine/{split}/{city}/{stem}_gtFine_labelTrainIds.png'
            img = cv2.imread(str(tmp_path / 'a' / img_file), cv2.IMREAD_UNCHANGED)
            label = cv2.imread(str(tmp_path / 'a' / label_file), cv2.IMREAD_UNCHANGED)
            assert img.shape == (64, 96, 3) and img.dtype == np.uint8
            assert label.shape == (64, 96) and label.dtype == np.uint8
            ids = set(np.unique(label).tolist())
            assert ids <= set(range(19)) | {255}
            assert {0, 2, 10} <= ids  # road, building, sky in every scene
            assert (tmp_path / 'a' / img_file).read_bytes() == \
                (tmp_path / 'b' / img_file).read_bytes()
    assert (tmp_path / 'a' / 'train.txt').read_text().split() == names['train']
    stats = json.loads((tmp_path / 'a' / 'sample_class_stats.json').read_text())
    assert len(stats) == 3 and all('file' in s for s in stats)


def test_make_demo_data_different_seeds_differ(tmp_path):
    make_demo_data.make_demo_data(str(tmp_path / 'a'), seed=0, num_train=1, num_val=0)
    make_demo_data.make_demo_data(str(tmp_path / 'b'), seed=1, num_train=1, num_val=0)
    rel = 'leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png'
    assert (tmp_path / 'a' / rel).read_bytes() != (tmp_path / 'b' / rel).read_bytes()


def test_make_demo_data_rejects_bad_size():
    with pytest.raises(SystemExit):
        make_demo_data.parse_args(['--size', '128by256'])


def test_get_param_count_on_quickstart_config(capsys):
    get_param_count = load_tool('get_param_count')
    counts = get_param_count.main([str(REPO / 'configs/quickstart/daformer_mitb0_demo.py')])
    assert counts['total'] == counts['encoder'] + counts['decoder']
    assert 3.0e6 < counts['encoder'] < 4.0e6  # MiT-B0: 3.3 M parameters
    out = capsys.readouterr().out
    assert 'encoder' in out and 'decoder' in out and 'total' in out


def test_print_config_merges_bases(capsys):
    print_config = load_tool('print_config')
    cfg = print_config.main([str(REPO / 'configs/quickstart/daformer_mitb0_demo.py'),
                             '--cfg-options', 'runner.max_iters=7'])
    assert cfg.runner.max_iters == 7
    out = capsys.readouterr().out
    assert 'DAFormerHead' in out and 'max_iters=7' in out
