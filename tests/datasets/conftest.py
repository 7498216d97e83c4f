"""Tiny on-disk datasets for the dataset / pipeline tests."""
import shutil

import cv2
import numpy as np
import pytest


def write_image(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


def write_label(path, label):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), label.astype(np.uint8))


def random_sample(rng, height, width, num_classes=19):
    img = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    label = rng.integers(0, num_classes, size=(height, width), dtype=np.uint8)
    label[0, 0] = 255
    return img, label


@pytest.fixture
def make_cityscapes(tmp_path):
    """``make_cityscapes(split='train', n=2, size=(32, 64))`` writes a tiny Cityscapes
    layout under ``tmp_path/cityscapes`` and returns ``(data_root, {stem: label})``."""

    def make(split='train', n=2, size=(32, 64), city='aachen', seed=0):
        rng = np.random.default_rng(seed)
        root = tmp_path / 'cityscapes'
        labels = {}
        for i in range(n):
            stem = f'{city}_{i:06d}_000019'
            img, label = random_sample(rng, *size)
            write_image(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png', img)
            write_label(root / 'gtFine' / split / city / f'{stem}_gtFine_labelTrainIds.png',
                        label)
            labels[stem] = label
        return root, labels

    return make


@pytest.fixture
def fixture_data(tmp_path, fixtures_dir):
    """``tmp_path/data`` holding the fixture inputs plus the expected converter outputs
    (trainId labels and class statistics); returns ``tmp_path`` (run from there, since
    the configs use ``data/<name>/`` paths)."""
    data = tmp_path / 'data'
    shutil.copytree(fixtures_dir / 'datasets' / 'inputs', data)
    for name in ('gta', 'synthia', 'cityscapes'):
        shutil.copytree(fixtures_dir / 'datasets' / 'expected' / name, data / name,
                        dirs_exist_ok=True)
    return tmp_path
