"""RIPU's human-in-the-loop: a run with ``label_source='human'`` stops after its selection
round with a checkpoint; tools/active_request.py exports the request; tools/active_ingest.py
takes back only the pixels inside the requested regions and rejects bad files whole
(reported by file with counts, the store untouched); the resumed run trains on the labels.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from test_e2e_supervised import REPO
from test_resume import train
from test_tools_train_uda import write_uda_config

HUMAN = """
uda = dict(_delete_=True, type='RIPU', source_only=True, lambda_cr=0.1, lambda_nl=0,
           nl_threshold=0.05, cr_region='boundary')
active_selection = dict(mode='RA', ratio=0.022, radius_k=1, select_iters=[1],
                        schedule_iters=None, select_scale=None, label_source='human',
                        selection='ripu')
runner = dict(max_iters=3)
checkpoint_config = dict(interval=3)
evaluation = dict(interval=3)
"""


def tool(name, *args):
    return subprocess.run([sys.executable, f'tools/{name}.py', *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def write_label(path, array):
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)


def store_labels(run_dir):
    root = run_dir / 'active_labels' / 'round_1' / 'labels'
    return {p.name: np.asarray(Image.open(p)).copy() for p in sorted(root.glob('*.png'))}


@pytest.fixture(scope='module')
def stopped_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('human')
    config = write_uda_config(tmp, HUMAN)
    run_dir = tmp / 'run'
    with pytest.raises(SystemExit) as stop:
        train(config, run_dir, '--no-validate')
    return config, run_dir, str(stop.value)


def test_human_round_stops_and_exports_the_request(stopped_run, tmp_path):
    config, run_dir, message = stopped_run
    assert 'round 1 requests human labels' in message and 'active_request.py' in message
    assert (run_dir / 'iter_1.pth').is_file()
    proc = tool('active_request', run_dir, '--zoom', '2')
    assert proc.returncode == 0, proc.stderr[-3000:]
    request_dir = run_dir / 'active_request' / 'round_1'
    request = json.loads((request_dir / 'request.json').read_text())
    assert request['round'] == 1 and len(request['images']) == 2
    for image in request['images']:
        mask = np.asarray(Image.open(request_dir / f"{image['key']}_mask.png"))
        assert set(np.unique(mask)) == {0, 255}
        assert (mask == 255).sum() == image['pixels_to_label'] > 0
        overlay = Image.open(request_dir / f"{image['key']}_overlay.png")
        assert overlay.size == (mask.shape[1] * 2, mask.shape[0] * 2)


def test_ingest_rejects_bad_files_keeps_the_store_and_resumes(stopped_run, tmp_path):
    config, run_dir, _ = stopped_run
    tool('active_request', run_dir)
    request_dir = run_dir / 'active_request' / 'round_1'
    keys = [i['key'] for i in json.loads((request_dir / 'request.json').read_text())['images']]
    masks = {k: np.asarray(Image.open(request_dir / f'{k}_mask.png')) == 255 for k in keys}
    before = store_labels(run_dir)
    a, b = keys
    h, w = masks[a].shape

    bad = tmp_path / 'bad'
    bad.mkdir()
    write_label(bad / f'{a}.png', np.zeros((h, w + 1)))  # wrong size
    unknown = np.full((h, w), 3)
    unknown[0, :5] = 40  # 5 pixels of an unknown class id
    write_label(bad / f'{b}.png', unknown)
    write_label(bad / 'not_requested.png', np.zeros((h, w)))
    proc = tool('active_ingest', run_dir, bad)
    assert proc.returncode == 1
    assert f'{a}.png: rejected, nothing stored: wrong size {w + 1}x{h}' in proc.stdout
    assert f'{b}.png: rejected, nothing stored: unknown class id(s)' in proc.stdout
    assert '40: 5 px' in proc.stdout and 'not_requested.png' in proc.stdout
    after = store_labels(run_dir)
    assert all(np.array_equal(before[k], after[k]) for k in before)

    good = tmp_path / 'good'
    good.mkdir()
    write_label(good / f'{a}.png', np.full((h, w), 2))  # also outside the regions
    write_label(good / f'{b}.png', np.where(masks[b], 5, 255))
    proc = tool('active_ingest', run_dir, good)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outside = int((~masks[a]).sum())
    assert f'{a}.png: {outside} labelled pixel(s) outside the requested regions rejected' \
        in proc.stdout
    assert f'{b}.png' not in proc.stdout.split('\n', 1)[1]
    stored = store_labels(run_dir)
    assert np.array_equal(stored[f'{a}.png'], np.where(masks[a], 2, 255))
    assert np.array_equal(stored[f'{b}.png'], np.where(masks[b], 5, 255))

    write_label(bad / f'{a}.png', np.full((h, w), 99))  # a bad file after a good one
    assert tool('active_ingest', run_dir, bad).returncode == 1
    assert np.array_equal(store_labels(run_dir)[f'{a}.png'], np.where(masks[a], 2, 255))

    train(config, run_dir, '--no-validate', '--auto-resume')
    logs = [json.loads(line) for p in sorted(run_dir.glob('*.log.json'))
            for line in p.read_text().splitlines()[1:]]
    train_logs = [e for e in logs if e.get('mode') == 'train']
    assert train_logs[-1]['iter'] == 3 and 'trg.decode.loss_seg' in train_logs[-1]
