"""tools/convert_datasets/custom.py (your own data): converted labels, Rare Class Sampling
statistics and configs; every bad input stops the tool before anything is written, with a
message naming the file at fault."""
import importlib.util
import json

import cv2
import mmcv
import numpy as np
import pytest
from mmcv import Config

from fake_datasets import OWN_CLASSES, REPO, write, write_own_data
from mmseg.datasets import build_dataset

spec = importlib.util.spec_from_file_location(
    'custom_converter', REPO / 'tools' / 'convert_datasets' / 'custom.py')
custom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(custom)

NAMES = OWN_CLASSES['classes']
RAW_TO_TRAIN_ID = {0: 255, 10: 0, 20: 1, 30: 2, 40: 3, 50: 4}


def convert(tmp_path, argv):
    custom.main(argv + ['--out-dir', str(tmp_path / 'out'),
                        '--config-dir', str(tmp_path / 'configs')])
    return tmp_path / 'out', tmp_path / 'configs'


def conversion_error(tmp_path, argv):
    """The tool's error message; checks that it wrote nothing."""
    with pytest.raises(SystemExit) as info:
        convert(tmp_path, argv)
    assert not (tmp_path / 'out').exists() and not (tmp_path / 'configs').exists()
    return str(info.value.code)


@pytest.fixture
def small_data(tmp_path):
    """Tiny own data (2 source, 1 target, 1 val image of 16x32); returns (root, argv)."""
    root = tmp_path / 'own'
    return root, write_own_data(root, size=(16, 32), num_source=2, num_target=1, num_val=1)


def test_labels_statistics_and_paper_configs(tmp_path):
    argv = write_own_data(tmp_path / 'own', size=(16, 32))
    out, configs = convert(tmp_path, argv)

    stats = json.loads((out / 'source' / 'sample_class_stats.json').read_text())
    masks = sorted((tmp_path / 'own' / 'sim' / 'masks').glob('*_mask.png'))
    assert len(stats) == len(masks) == 4
    for mask, file_stats in zip(masks, stats):
        raw = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)
        expected = np.vectorize(RAW_TO_TRAIN_ID.get)(raw).astype(np.uint8)
        train_ids = out / 'source' / 'labels' / mask.name.replace('_mask.png',
                                                                   '_labelTrainIds.png')
        assert file_stats['file'] == str(train_ids)
        assert np.array_equal(cv2.imread(str(train_ids), cv2.IMREAD_UNCHANGED), expected)
        assert {int(c): n for c, n in file_stats.items() if c != 'file'} == {
            c: int((expected == c).sum()) for c in range(5) if (expected == c).any()}
    assert (out / 'val' / 'labels' / 'img_100_labelTrainIds.png').is_file()

    daformer = Config.fromfile(str(configs / 'farm_daformer.py'))
    mic = Config.fromfile(str(configs / 'farm_mic.py'))
    for cfg in (daformer, mic):
        assert cfg.model.decode_head.num_classes == 5
        assert cfg.model.pretrained == 'pretrained/mit_b5.pth'
        assert cfg.model.backbone.type == 'mit_b5'
        assert cfg.uda.imnet_feature_dist_classes == [NAMES.index('tractor')]
        assert cfg.uda.imnet_feature_dist_lambda == 0.005 and cfg.uda.alpha == 0.999
        assert cfg.runner.max_iters == 40000
        assert list(cfg.data.test.classes) == NAMES and cfg.data.test.palette == \
            OWN_CLASSES['palette']
        # 3000 pixels of GTA's label maps scaled to 16x32, as DAFormer's.
        assert cfg.data.train.rare_class_sampling.min_pixels == 1
    assert daformer.crop_size == (512, 512)
    assert mic.crop_size == (1024, 1024) and mic.model.hr_crop_size == (512, 512)
    assert mic.model.test_cfg.crop_size == [1024, 1024]
    assert mic.uda.mask_generator.mask_block_size == 64
    assert Config.fromfile(str(configs / 'farm_hrda.py')).uda.mask_mode is None

    uda = build_dataset(daformer.data.train)  # RCS finds the statistics' files
    assert list(uda.CLASSES) == NAMES and uda.rcs_enabled
    assert len(build_dataset(daformer.data.val)) == 2


def test_train_id_labels_without_mapping_are_used_as_they_are(tmp_path):
    """No id_mapping, ignore 255: the label files themselves are trained on; no target
    val set: the configs do not evaluate and test on the target images."""
    root = tmp_path / 'own'
    rng = np.random.default_rng(0)
    for i in range(2):
        label = rng.integers(0, 5, size=(16, 32)).astype(np.uint8)
        label[0] = 255
        write(root / 'src' / 'img' / f'{i}.png', label * 40)
        write(root / 'src' / 'lbl' / f'{i}.png', label)
        write(root / 'trg' / f'{i}.png', label * 30)
    mmcv.dump(dict(classes=NAMES), str(root / 'mine.json'))
    out, configs = convert(tmp_path, [
        str(root / 'mine.json'), '--source-images', str(root / 'src' / 'img'),
        '--source-labels', str(root / 'src' / 'lbl'), '--target-images', str(root / 'trg')])

    assert not (out / 'source' / 'labels').exists()
    cfg = Config.fromfile(str(configs / 'mine_daformer.py'))
    assert cfg.data.train.source.ann_dir == str(root / 'src' / 'lbl')
    assert cfg.evaluation is None
    assert cfg.data.test.img_dir == str(root / 'trg') and 'ann_dir' not in cfg.data.test
    assert cfg.uda.imnet_feature_dist_lambda == 0 and cfg.uda.alpha == 0.999
    assert len(cfg.data.test.palette) == 5  # fixed random colours
    assert build_dataset(cfg.data.train).rcs_enabled


def test_image_without_label_is_named(small_data, tmp_path):
    root, argv = small_data
    (root / 'sim' / 'masks' / 'frame_001_mask.png').unlink()
    message = conversion_error(tmp_path, argv)
    assert 'images without a label (1)' in message
    assert str(root / 'sim' / 'rgb' / 'frame_001.jpg') in message


def test_label_without_image_is_named(small_data, tmp_path):
    root, argv = small_data
    (root / 'real' / 'val' / 'images' / 'img_100.png').rename(
        root / 'real' / 'val' / 'images' / 'other.png')
    message = conversion_error(tmp_path, argv)
    assert 'labels without an image (1)' in message
    assert str(root / 'real' / 'val' / 'masks' / 'img_100_mask.png') in message


def test_size_mismatch_is_named(small_data, tmp_path):
    root, argv = small_data
    mask = root / 'sim' / 'masks' / 'frame_000_mask.png'
    cv2.imwrite(str(mask), np.full((8, 32), 10, np.uint8))
    message = conversion_error(tmp_path, argv)
    assert 'size differs' in message
    assert f'{mask} is 32x8 but its image {root / "sim" / "rgb" / "frame_000.jpg"} is ' \
           '32x16' in message


def test_values_outside_the_class_list_are_counted_per_file(small_data, tmp_path):
    root, argv = small_data
    label = np.full((16, 32), 10, np.uint8)
    label[:3, :4] = 7
    label[5, 5] = 99
    for name in ('frame_000_mask.png', 'frame_001_mask.png'):
        cv2.imwrite(str(root / 'sim' / 'masks' / name), label)
    message = conversion_error(tmp_path, argv)
    assert 'source: 2 label files with values outside the class list' in message
    assert 'id_mapping keys 10, 20, 30, 40, 50 and the ignore value 0' in message
    for name in ('frame_000_mask.png', 'frame_001_mask.png'):
        assert f'{root / "sim" / "masks" / name}: 7 (12 px), 99 (1 px)' in message


def test_unreadable_file_is_named(small_data, tmp_path):
    root, argv = small_data
    broken = root / 'real' / 'train' / 'field_a' / 'img_000.png'
    broken.write_bytes(b'not a png')
    message = conversion_error(tmp_path, argv)
    assert 'target: 1 unreadable files' in message and str(broken) in message


def test_empty_target_folder_is_named(small_data, tmp_path):
    root, argv = small_data
    target = root / 'real' / 'train' / 'field_a'
    for image in target.iterdir():
        image.rename(image.with_suffix('.jpg'))
    message = conversion_error(tmp_path, argv)
    assert f'target image folder {root / "real" / "train"} holds no *.png files' in message
    assert "'.jpg'" in message  # what is there instead


def test_class_file_errors_name_the_file_and_key(small_data, tmp_path):
    root, argv = small_data
    mmcv.dump(dict(OWN_CLASSES, thing_classes=['tractor', 'car']), str(root / 'farm.yaml'))
    message = conversion_error(tmp_path, argv)
    assert str(root / 'farm.yaml') in message and "'thing_classes'" in message
    assert "['car']" in message


def test_output_folder_overlapping_an_input_is_refused(small_data, tmp_path):
    root, argv = small_data
    with pytest.raises(SystemExit) as info:
        custom.main(argv + ['--out-dir', str(root / 'sim' / 'rgb' / 'converted')])
    assert f'output folder {root / "sim" / "rgb" / "converted" / "source"} overlaps the ' \
           f'input folder {root / "sim" / "rgb"}' in str(info.value.code)
    assert not (root / 'sim' / 'rgb' / 'converted').exists()
