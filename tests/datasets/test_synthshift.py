"""SynthShift generator (tools/convert_datasets/synthshift.py): the GTA / Cityscapes layouts
our datasets read, label encodings, RCS statistics, determinism, the domain shift and the
output-folder safety rules."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg.datasets import UDADataset, build_dataset

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'convert_datasets' / 'synthshift.py'
TINY = dict(num_source=6, num_target_train=4, num_target_val=3, size=(64, 128))
LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def load_tool():
    spec = importlib.util.spec_from_file_location('tools_synthshift', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthshift = load_tool()


def all_files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A tiny SynthShift output (seed 0) and its manifest."""
    out = tmp_path_factory.mktemp('synthshift') / 'out'
    manifest = synthshift.generate(str(out), seed=0, **TINY)
    return out, manifest


def test_layout_read_by_our_datasets(tiny):
    out, manifest = tiny
    source = build_dataset(dict(type='GTADataset', data_root=str(out / 'gta'),
                                img_dir='images', ann_dir='labels', pipeline=LOAD))
    assert len(source) == TINY['num_source']
    assert source.img_infos[0]['filename'] == '00001.png'
    sample = source[0]
    assert sample['img'].shape == (64, 128, 3)
    assert sample['gt_semantic_seg'].shape == (64, 128)
    for split, city in (('train', 'aachen'), ('val', 'frankfurt')):
        target = build_dataset(dict(type='CityscapesDataset', data_root=str(out / 'cityscapes'),
                                    img_dir=f'leftImg8bit/{split}', ann_dir=f'gtFine/{split}',
                                    pipeline=LOAD))
        assert len(target) == TINY[f'num_target_{split}']
        sample = target[0]
        assert sample['img'].shape == (64, 128, 3)
        assert sample['gt_semantic_seg'].shape == (64, 128)
        names = (out / 'cityscapes' / f'{split}.txt').read_text().split()
        assert names[0] == f'{city}/{city}_000000_000019'
        assert sorted(f'{Path(i["filename"]).parent.name}/'
                      f'{Path(i["filename"]).name[:-len("_leftImg8bit.png")]}'
                      for i in target.img_infos) == sorted(names)
    assert manifest['params']['num_source'] == TINY['num_source']
    assert json.loads((out / 'synthshift.json').read_text()) == manifest
    assert not (out / 'synthshift.partial').exists()


def test_source_label_ids_convert_to_the_drawn_train_ids(tiny):
    out, _ = tiny
    id_to_train = synthshift.CITYSCAPES_ID_TO_TRAINID
    for label_file in sorted((out / 'gta' / 'labels').glob('?????.png')):
        with Image.open(label_file) as img:
            assert img.mode == 'P'  # as GTA5: palette PNG whose indices are the label ids
            ids = np.asarray(img)
        assert set(np.unique(ids).tolist()) <= set(id_to_train) | {0}
        train_ids = cv2.imread(str(label_file).replace('.png', '_labelTrainIds.png'),
                               cv2.IMREAD_UNCHANGED)
        expected = np.full(ids.shape, 255, np.uint8)
        for label_id, train_id in id_to_train.items():
            expected[ids == label_id] = train_id
        assert np.array_equal(train_ids, expected)
        assert {0, 2, 10} <= set(np.unique(train_ids).tolist())  # road, building, sky


def test_target_labels_are_train_ids(tiny):
    out, _ = tiny
    files = sorted((out / 'cityscapes' / 'gtFine').rglob('*_gtFine_labelTrainIds.png'))
    assert len(files) == TINY['num_target_train'] + TINY['num_target_val']
    for f in files:
        label = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        assert label.dtype == np.uint8 and label.ndim == 2
        ids = set(np.unique(label).tolist())
        assert ids <= set(range(19)) | {255}
        assert 255 in ids  # the ego-vehicle bonnet


def test_rcs_statistics_match_the_labels(tiny):
    out, _ = tiny
    stats = json.loads((out / 'gta' / 'sample_class_stats.json').read_text())
    assert len(stats) == TINY['num_source']
    for entry in stats:
        assert entry['file'].startswith('gta/labels/')  # relative to the output folder
        label = cv2.imread(str(out / entry['file']), cv2.IMREAD_UNCHANGED)
        counts = np.bincount(label.ravel(), minlength=256)
        assert {k: v for k, v in entry.items() if k != 'file'} == \
            {str(c): int(counts[c]) for c in range(19) if counts[c]}
    for name in ('sample_class_stats_dict.json', 'samples_with_class.json'):
        assert (out / 'gta' / name).is_file()
        assert (out / 'cityscapes' / name).is_file()
    # The statistics drive Rare Class Sampling in a UDADataset over the two domains.
    pipeline = LOAD + [dict(type='RandomCrop', crop_size=(32, 32)),
                       dict(type='RandomFlip', prob=0.5),
                       dict(type='DefaultFormatBundle'),
                       dict(type='Collect', keys=['img', 'gt_semantic_seg'])]
    uda = UDADataset(
        build_dataset(dict(type='GTADataset', data_root=str(out / 'gta'), img_dir='images',
                           ann_dir='labels', pipeline=pipeline)),
        build_dataset(dict(type='CityscapesDataset', data_root=str(out / 'cityscapes'),
                           img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                           pipeline=pipeline)),
        dict(rare_class_sampling=dict(min_pixels=4, class_temp=0.1, min_crop_ratio=0.5)))
    assert set(uda.rcs_classes) <= set(synthshift.SCENE_CLASSES)
    item = uda[0]
    assert item['img'].data.shape == item['target_img'].data.shape == (3, 32, 32)


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    out, _ = tiny
    again = tmp_path / 'again'
    synthshift.generate(str(again), seed=0, **TINY)
    first, second = all_files(out), all_files(again)
    assert first.keys() == second.keys()
    assert all(first[name] == second[name] for name in first)  # statistics JSON included
    other = tmp_path / 'other'
    synthshift.generate(str(other), seed=1, **TINY)
    for name in ('gta/images/00001.png',
                 'cityscapes/leftImg8bit/val/frankfurt/frankfurt_000000_000019_leftImg8bit.png'):
        assert (other / name).read_bytes() != first[name]


def colour_and_grain(images, labels, cls):
    """Mean BGR colour of class ``cls`` and the median absolute Laplacian inside it (texture
    and noise; the median ignores the edges of lane marks and windows)."""
    pixels, grain = [], []
    for img, label in zip(images, labels):
        inside = cv2.erode((label == cls).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        lap = np.abs(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_32F))
        pixels.append(img[inside])
        grain.append(lap[inside])
    return np.concatenate(pixels).mean(0), np.median(np.concatenate(grain))


def test_domains_differ_in_appearance_and_class_frequencies(tmp_path):
    out = tmp_path / 'shift'
    manifest = synthshift.generate(str(out), seed=0, num_source=12, num_target_train=1,
                                   num_target_val=12, size=(64, 128))
    src = [(cv2.imread(str(p)), cv2.imread(str(p).replace('images', 'labels').replace(
        '.png', '_labelTrainIds.png'), cv2.IMREAD_UNCHANGED))
        for p in sorted((out / 'gta' / 'images').glob('*.png'))]
    tgt = [(cv2.imread(str(p)), cv2.imread(
        str(p).replace('leftImg8bit', 'gtFine', 1).replace('_leftImg8bit.png',
                                                           '_gtFine_labelTrainIds.png'),
        cv2.IMREAD_UNCHANGED))
        for p in sorted((out / 'cityscapes' / 'leftImg8bit' / 'val').rglob('*.png'))]
    for cls in (0, 2, 8, 10):  # road, building, vegetation, sky
        src_colour, src_grain = colour_and_grain(*zip(*src), cls)
        tgt_colour, tgt_grain = colour_and_grain(*zip(*tgt), cls)
        if cls != 0:  # palette, white balance, saturation (the road is grey in both)
            assert np.abs(src_colour - tgt_colour).max() > 20, cls
        if cls != 8:  # texture and sensor noise on surfaces the source paints flat
            assert tgt_grain > 2 * src_grain, cls
    shares = manifest['class_shares']
    assert shares['target_val']['person'] > 1.5 * shares['source']['person']
    assert shares['target_val']['vegetation'] > 1.5 * shares['source']['vegetation']
    assert shares['target_val']['car'] < shares['source']['car'] / 1.5


def test_refuses_foreign_folder_unless_overwrite(tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not empty'):
        synthshift.generate(str(foreign), **TINY)
    assert sorted(p.name for p in foreign.iterdir()) == ['notes.txt']
    synthshift.generate(str(foreign), overwrite=True, **TINY)
    assert (foreign / 'notes.txt').read_text() == 'mine'  # only gta/ and cityscapes/ replaced
    assert (foreign / 'synthshift.json').is_file()


def test_up_to_date_output_is_kept_and_interrupted_one_regenerated(tiny, tmp_path):
    out = tmp_path / 'out'
    synthshift.generate(str(out), **TINY)
    image = out / 'gta' / 'images' / '00001.png'
    image.write_bytes(b'touched')
    synthshift.generate(str(out), **TINY)  # same parameters: nothing written
    assert image.read_bytes() == b'touched'
    # An interrupted run: the manifest is missing and the marker is there.
    (out / 'synthshift.json').unlink()
    (out / 'synthshift.partial').write_text('{}')
    synthshift.generate(str(out), **TINY)
    assert image.read_bytes() == tiny[0].joinpath('gta/images/00001.png').read_bytes()
    assert not (out / 'synthshift.partial').exists()
    # Other parameters replace the previous output, leaving no stale files.
    synthshift.generate(str(out), **dict(TINY, num_source=2))
    assert sorted(p.name for p in (out / 'gta' / 'images').iterdir()) == \
        ['00001.png', '00002.png']


def test_command_line(tmp_path):
    foreign = tmp_path / 'foreign'
    foreign.mkdir()
    (foreign / 'x').write_text('')
    proc = subprocess.run([sys.executable, str(TOOL), '--out', str(foreign), '--size', '64x128',
                           '--num-source', '2', '--num-target-train', '1',
                           '--num-target-val', '1'], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and '--overwrite' in proc.stderr
    out = tmp_path / 'cli'
    args = [sys.executable, str(TOOL), '--out', str(out), '--size', '64x128',
            '--num-source', '2', '--num-target-train', '1', '--num-target-val', '1']
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'generated in' in proc.stdout and 'person' in proc.stdout
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert 'up to date' in proc.stdout
    with pytest.raises(SystemExit):
        synthshift.parse_args(['--size', '64by128'])
    with pytest.raises(ValueError, match='num_source'):
        synthshift.generate(str(tmp_path / 'bad'), num_source=0)
