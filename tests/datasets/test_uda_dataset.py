"""UDADataset and Rare Class Sampling against the original's recorded behaviour."""
import copy
import json
import os
import shutil

import mmcv
import numpy as np
import pytest
import torch

from mmseg.datasets import UDADataset, build_dataset
from mmseg.datasets.uda_dataset import rcs_class_probs

SOURCES = ('gta', 'synthia', 'cityscapes')


def load_expected(fixtures_dir, name):
    with open(fixtures_dir / 'datasets' / 'expected' / name) as f:
        return json.load(f)


@pytest.fixture
def in_data_dir(fixture_data, monkeypatch):
    """Run from a folder whose ``data/`` holds the fixture datasets, converted."""
    monkeypatch.chdir(fixture_data)
    return fixture_data


def base_config(fixtures_dir, source):
    traces = load_expected(fixtures_dir, f'rcs_uda_{source}.json')['traces']
    return copy.deepcopy(next(iter(traces.values()))['config'])


def reorder(dataset, filenames):
    """Put ``dataset.img_infos`` in the original's listing order (``filenames``; other
    files keep their place after them)."""
    by_name = {info['filename']: info for info in dataset.img_infos}
    ordered = [by_name.pop(name) for name in filenames]
    dataset.img_infos = ordered + sorted(by_name.values(), key=lambda i: i['filename'])


@pytest.mark.parametrize('source', SOURCES)
def test_rcs_classes_probabilities_and_files(fixtures_dir, in_data_dir, source):
    expected = load_expected(fixtures_dir, f'rcs_uda_{source}.json')
    condensed = load_expected(fixtures_dir, 'rcs_expected.json')
    for case_name, case in expected['cases'].items():
        cfg = base_config(fixtures_dir, source)
        cfg['rare_class_sampling'] = case['rare_class_sampling']
        min_pixels = case['rare_class_sampling']['min_pixels']
        if not case['builds']:
            with pytest.raises(ValueError) as err:
                build_dataset(cfg)
            msg = str(err.value)
            assert 'min_pixels' in msg
            for c in case['classes_without_samples']:
                assert f'{c} (' in msg
            continue
        dataset = build_dataset(cfg)
        assert isinstance(dataset, UDADataset) and len(dataset) == case['len']
        assert dataset.rcs_classes == case['rcs_classes'], case_name
        assert dataset.rcs_classprob.dtype == np.float32
        np.testing.assert_allclose(dataset.rcs_classprob, case['rcs_classprob'], rtol=1e-5)
        assert {str(c): f for c, f in dataset.samples_with_class.items()} == \
            case['samples_with_class']
        assert sorted(dataset.file_to_idx) == case['file_to_idx_keys']
        temp = case['rare_class_sampling']['class_temp']
        assert dataset.rcs_classes == condensed[f'{source}_T{temp}']['classes']
        filtered = condensed[f'{source}_filtered_min_pixels{min_pixels}']
        assert {str(c): sorted(f) for c, f in dataset.samples_with_class.items()} == \
            filtered['samples_with_class']


def test_rcs_stable_sort_keeps_tie_order():
    stats = [{'3': 5, '1': 7, 'file': 'a'}, {'2': 7, '0': 1, 'file': 'b'}]
    classes, probs = rcs_class_probs(stats, 0.1)
    assert classes == [0, 3, 1, 2]  # 1 and 2 tie (7 px): 1 appeared first
    assert probs.dtype == np.float32 and probs.sum() == pytest.approx(1, abs=1e-6)
    assert probs[2] == probs[3]


def label_map(dataset, idx):
    path = os.path.join(dataset.ann_dir, dataset.img_infos[idx]['ann']['seg_map'])
    return mmcv.imread(path, flag='unchanged', backend='pillow')


def image(dataset, idx):
    return mmcv.imread(os.path.join(dataset.img_dir, dataset.img_infos[idx]['filename']))


def crop(array, box):
    y1, y2, x1, x2 = box
    return array[y1:y2, x1:x2]


@pytest.mark.parametrize('source', SOURCES)
def test_rcs_traces(fixtures_dir, in_data_dir, source):
    """Seeded draws give the original's classes, files, crops and target samples."""
    expected = load_expected(fixtures_dir, f'rcs_uda_{source}.json')
    for trace_name, trace in expected['traces'].items():
        cfg = copy.deepcopy(trace['config'])
        if trace['sync_crop_size']:
            cfg['sync_crop_size'] = trace['sync_crop_size']
        dataset = build_dataset(cfg)
        # The original listed files in directory-scan order, which decides what a target
        # index means: use its order.
        target_order = {it['target_index']: it['target_file'] for it in trace['items']}
        known = [target_order[i] for i in sorted(target_order)]
        assert sorted(target_order) == list(range(len(known)))
        reorder(dataset.target, known)
        loads = []
        load_source = dataset.source.prepare_train_img
        dataset.source.prepare_train_img = lambda i: loads.append(i) or load_source(i)

        np.random.seed(trace['seed'])
        for k, item in enumerate(trace['items']):
            loads.clear()
            out = dataset[k]
            where = f'{trace_name} item {k}'
            assert len(loads) == item['n_source_loads'], where
            source_idx = loads[-1]
            assert out['img_metas'].data['ori_filename'] == item['source_file'], where
            assert out['target_img_metas'].data['ori_filename'] == item['target_file'], where
            target_idx = known.index(item['target_file'])
            source_box = item['attempts'][-1]['crop']
            gt = crop(label_map(dataset.source, source_idx), source_box)
            assert int((torch.from_numpy(gt) == item['class']).sum()) == item['output_n_class']
            target_img = crop(image(dataset.target, target_idx), item['target_crop'])
            source_img = crop(image(dataset.source, source_idx), source_box)
            if item.get('sync_crop'):
                gt, target_img, source_img = (crop(a, item['sync_crop'])
                                              for a in (gt, target_img, source_img))
            assert np.array_equal(out['gt_semantic_seg'].data[0].numpy(), gt), where
            assert np.array_equal(out['img'].data.numpy().transpose(1, 2, 0), source_img)
            assert np.array_equal(out['target_img'].data.numpy().transpose(1, 2, 0),
                                  target_img), where
            assert list(out['gt_semantic_seg'].data.shape) == item['output_gt_shape']
            assert list(out['target_img'].data.shape) == item['output_target_img_shape']


@pytest.mark.parametrize('source', ('gta', 'synthia'))
def test_pairing_without_rcs(fixtures_dir, in_data_dir, source):
    expected = load_expected(fixtures_dir, 'uda_pairing.json')[source]
    dataset = build_dataset(expected['config'])
    assert len(dataset) == expected['len']
    reorder(dataset.source, expected['source_order'])
    reorder(dataset.target, expected['target_order'])
    for i in (0, 1, 5, len(dataset) - 1):
        out = dataset[i]
        pair = [out['img_metas'].data['ori_filename'],
                out['target_img_metas'].data['ori_filename']]
        assert pair == expected['pairs'][i]
    assert sorted(out) == expected['last_item_keys']


def test_target_valid_pseudo_mask_and_sync_crop(fixtures_dir, in_data_dir):
    cfg = base_config(fixtures_dir, 'gta')
    cfg['target']['crop_pseudo_margins'] = [2, 4, 0, 8]
    cfg['sync_crop_size'] = [8, 16]
    dataset = build_dataset(cfg)
    out = dataset[0]
    assert out['valid_pseudo_mask'].data.shape == (1, 8, 16)
    assert out['img'].data.shape == (3, 8, 16) and out['target_img'].data.shape == (3, 8, 16)
    assert 'valid_pseudo_mask' not in cfg['target']['pipeline'][-1]['keys']


def test_missing_statistics_tell_to_run_the_converter(fixtures_dir, in_data_dir):
    os.remove('data/gta/sample_class_stats.json')
    cfg = base_config(fixtures_dir, 'gta')
    with pytest.raises(FileNotFoundError) as err:
        build_dataset(cfg)
    assert 'sample_class_stats.json' in str(err.value)
    assert 'tools/convert_datasets/gta.py' in str(err.value)


def test_source_and_target_must_share_classes(fixtures_dir, in_data_dir):
    cfg = base_config(fixtures_dir, 'gta')
    cfg['target']['classes'] = ['road', 'car']
    with pytest.raises(ValueError, match='CLASSES'):
        build_dataset(cfg)


def test_converted_statistics_feed_rcs(fixtures_dir, in_data_dir, repo_root):
    """RCS on statistics written by our converter equals the original's."""
    import subprocess
    import sys
    shutil.rmtree('data/gta')
    shutil.copytree(fixtures_dir / 'datasets' / 'inputs' / 'gta', 'data/gta')
    subprocess.run([sys.executable, str(repo_root / 'tools/convert_datasets/gta.py'),
                    'data/gta', '--nproc', '1'], check=True, capture_output=True)
    case = load_expected(fixtures_dir, 'rcs_uda_gta.json')['cases']['T0.01_min_pixels10']
    dataset = build_dataset(base_config(fixtures_dir, 'gta'))
    assert dataset.rcs_classes == case['rcs_classes']
    np.testing.assert_allclose(dataset.rcs_classprob, case['rcs_classprob'], rtol=1e-5)


def test_wrapper_config_typos_are_refused(fixtures_dir, in_data_dir):
    cfg = base_config(fixtures_dir, 'gta')
    cfg['rare_class_sampeling'] = cfg.pop('rare_class_sampling')
    with pytest.raises(KeyError, match='rare_class_sampling'):
        build_dataset(cfg)
    cfg = base_config(fixtures_dir, 'gta')
    cfg['rare_class_sampling'].pop('class_temp')
    with pytest.raises(KeyError, match='class_temp'):
        build_dataset(cfg)
    repeat = dict(type='RepeatDataset', times=2, dataset=cfg['source'], data_root='x')
    with pytest.raises(KeyError, match="inside 'dataset'"):
        build_dataset(repeat)
