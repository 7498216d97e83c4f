"""Dataset converters reproduce the original converters' outputs on the fixtures."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

CONVERTERS = ('gta', 'synthia', 'cityscapes')


def run_converter(repo_root, cwd, name, *args):
    script = repo_root / 'tools' / 'convert_datasets' / f'{name}.py'
    proc = subprocess.run([sys.executable, str(script), f'data/{name}', *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def converted(tmp_path_factory, fixtures_dir, repo_root):
    """The fixture inputs under ``<tmp>/data``, converted with ``--nproc 1``."""
    tmp = tmp_path_factory.mktemp('convert')
    shutil.copytree(fixtures_dir / 'datasets' / 'inputs', tmp / 'data')
    for name in CONVERTERS:
        run_converter(repo_root, tmp, name, '--nproc', '1')
    return tmp


def expected_files(fixtures_dir, name):
    root = fixtures_dir / 'datasets' / 'expected' / name
    for dirpath, _, files in os.walk(root):
        for f in files:
            path = os.path.join(dirpath, f)
            yield os.path.relpath(path, root), path


def load_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.mark.parametrize('name', CONVERTERS)
def test_label_pngs_match_pixel_for_pixel(converted, fixtures_dir, name):
    pngs = [(rel, path) for rel, path in expected_files(fixtures_dir, name)
            if rel.endswith('.png')]
    assert pngs
    for rel, path in pngs:
        mine = Image.open(converted / 'data' / name / rel)
        assert mine.mode == 'L', rel
        assert np.array_equal(np.asarray(mine), np.asarray(Image.open(path))), rel


@pytest.mark.parametrize('name', CONVERTERS)
def test_class_statistics_match(converted, fixtures_dir, name):
    for stats_name in ('sample_class_stats.json', 'sample_class_stats_dict.json',
                       'samples_with_class.json'):
        expected = load_json(fixtures_dir / 'datasets' / 'expected' / name / stats_name)
        mine = load_json(converted / 'data' / name / stats_name)
        if name == 'cityscapes':
            # The original lists Cityscapes files in directory-scan order; ours are sorted.
            if isinstance(expected, list):
                expected = sorted(expected, key=lambda s: s['file'])
                mine = sorted(mine, key=lambda s: s['file'])
            elif stats_name == 'samples_with_class.json':
                expected = {c: sorted(v) for c, v in expected.items()}
                mine = {c: sorted(v) for c, v in mine.items()}
        assert mine == expected, stats_name
    stats = load_json(converted / 'data' / name / 'sample_class_stats.json')
    for entry in stats:  # keys in ascending trainId: RCS relies on this order
        ids = [int(k) for k in entry if k != 'file']
        assert ids == sorted(ids)


def test_cityscapes_split_files(converted, fixtures_dir):
    for split in ('train', 'val', 'test'):
        expected = (fixtures_dir / 'datasets' / 'expected' / 'cityscapes' / f'{split}.txt')
        mine = converted / 'data' / 'cityscapes' / f'{split}.txt'
        assert set(mine.read_text().split()) == set(expected.read_text().split())


def test_parallel_output_and_out_dir(tmp_path, fixtures_dir, repo_root, converted):
    shutil.copytree(fixtures_dir / 'datasets' / 'inputs' / 'gta', tmp_path / 'data' / 'gta')
    run_converter(repo_root, tmp_path, 'gta', '--nproc', '2', '-o', 'stats')
    assert load_json(tmp_path / 'stats' / 'sample_class_stats.json') == load_json(
        converted / 'data' / 'gta' / 'sample_class_stats.json')
    # Re-running skips the files it wrote itself.
    run_converter(repo_root, tmp_path, 'gta', '-o', 'stats')
    assert len(load_json(tmp_path / 'stats' / 'sample_class_stats.json')) == 8


def test_cityscapes_missing_split_is_skipped(tmp_path, fixtures_dir, repo_root):
    shutil.copytree(fixtures_dir / 'datasets' / 'inputs' / 'cityscapes',
                    tmp_path / 'data' / 'cityscapes')
    shutil.rmtree(tmp_path / 'data' / 'cityscapes' / 'gtFine' / 'test')
    proc = run_converter(repo_root, tmp_path, 'cityscapes')
    assert 'test' in proc.stdout and 'skipped' in proc.stdout
    root = tmp_path / 'data' / 'cityscapes'
    assert (root / 'train.txt').exists() and not (root / 'test.txt').exists()
    assert len(load_json(root / 'sample_class_stats.json')) == 4


def test_missing_data_root_is_reported(tmp_path, repo_root):
    script = repo_root / 'tools' / 'convert_datasets' / 'gta.py'
    proc = subprocess.run([sys.executable, str(script), 'data/gta'], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and 'data/gta' in proc.stderr
