"""Tiny stand-ins for the real datasets, written in their on-disk formats (test-only data).

Labels are coarse blocks of random classes, so every class present covers thousands of
pixels (Rare Class Sampling keeps only samples with more than ``min_pixels`` of a class).
"""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Synthia ids of the 16 classes shared with Cityscapes (tools/convert_datasets/_common.py).
SYNTHIA_IDS = (3, 4, 2, 21, 5, 7, 15, 9, 6, 1, 10, 17, 8, 19, 12, 11)


def block_label(rng, height, width, ids, grid=(4, 4)):
    """H×W label of ``grid`` blocks, each one random id of ``ids``."""
    blocks = rng.choice(np.asarray(ids), size=grid)
    return np.kron(blocks, np.ones((height // grid[0], width // grid[1]), blocks.dtype))


def noisy_image(rng, label):
    """A BGR image whose colour follows the label (so a model can learn something)."""
    colours = np.random.RandomState(7).randint(0, 255, size=(256, 3))
    img = colours[label.astype(np.int64) % 256] + rng.normal(0, 20, size=(*label.shape, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def write_synthia(root, num=4, size=(256, 512), seed=0):
    """``root/RGB/*.png`` + 16-bit ``root/GT/LABELS/*.png`` (class id in the channel
    OpenCV reads last), then the Synthia converter (trainIds + RCS statistics)."""
    rng = np.random.default_rng(seed)
    for i in range(num):
        ids = block_label(rng, *size, SYNTHIA_IDS).astype(np.uint16)
        label = np.zeros((*size, 3), np.uint16)
        label[..., 2] = ids
        write(Path(root) / 'RGB' / f'{i:07d}.png', noisy_image(rng, ids))
        write(Path(root) / 'GT' / 'LABELS' / f'{i:07d}.png', label)
    convert('synthia.py', root)


def write_cityscapes(root, num_train=2, num_val=1, size=(256, 512), seed=1):
    """``leftImg8bit/{train,val}/<city>/*`` + ``gtFine/.../*_gtFine_labelTrainIds.png``."""
    rng = np.random.default_rng(seed)
    for split, num, city in (('train', num_train, 'aachen'), ('val', num_val, 'frankfurt')):
        for i in range(num):
            stem = f'{city}_{i:06d}_000019'
            label = block_label(rng, *size, range(19)).astype(np.uint8)
            write(Path(root) / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png',
                  noisy_image(rng, label))
            write(Path(root) / 'gtFine' / split / city / f'{stem}_gtFine_labelTrainIds.png',
                  label)


def write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), array):
        raise OSError(f'could not write {path}')


def convert(script, root):
    subprocess.run([sys.executable, str(REPO / 'tools' / 'convert_datasets' / script),
                    str(root), '--nproc', '1'], check=True, capture_output=True)


# Own data (tools/convert_datasets/custom.py): 5 classes, label files holding raw values
# 10..50 (0 = unlabelled) that the class file maps to train ids.
OWN_CLASSES = dict(
    classes=['soil', 'crop', 'weed', 'sky', 'tractor'],
    palette=[[120, 80, 40], [40, 200, 40], [200, 200, 0], [80, 160, 255], [230, 30, 30]],
    id_mapping={10: 'soil', 20: 'crop', 30: 'weed', 40: 'sky', 50: 'tractor'},
    ignore_index=0,
    thing_classes=['tractor'])
OWN_RAW_VALUES = (0, 10, 20, 30, 40, 50)


def write_own_data(root, class_file='farm.yaml', size=(64, 128), num_source=4, num_target=3,
                   num_val=2, seed=0):
    """A source (``sim/rgb/*.jpg`` + ``sim/masks/*_mask.png``), an unlabelled target
    (``real/train/field_a/*.png``), a labelled target val set (``real/val/{images,masks}``)
    and the class file ``root/<class_file>``. Returns the arguments of
    tools/convert_datasets/custom.py for them."""
    import mmcv
    root = Path(root)
    rng = np.random.default_rng(seed)
    for i in range(num_source):
        label = block_label(rng, *size, OWN_RAW_VALUES).astype(np.uint8)
        write(root / 'sim' / 'rgb' / f'frame_{i:03d}.jpg', noisy_image(rng, label))
        write(root / 'sim' / 'masks' / f'frame_{i:03d}_mask.png', label)
    for i in range(num_target):
        label = block_label(rng, *size, OWN_RAW_VALUES)
        write(root / 'real' / 'train' / 'field_a' / f'img_{i:03d}.png', noisy_image(rng, label))
    for i in range(num_val):
        label = block_label(rng, *size, OWN_RAW_VALUES).astype(np.uint8)
        write(root / 'real' / 'val' / 'images' / f'img_{100 + i:03d}.png',
              noisy_image(rng, label))
        write(root / 'real' / 'val' / 'masks' / f'img_{100 + i:03d}_mask.png', label)
    mmcv.dump(OWN_CLASSES, str(root / class_file))
    return [str(root / class_file),
            '--source-images', str(root / 'sim' / 'rgb'),
            '--source-labels', str(root / 'sim' / 'masks'),
            '--target-images', str(root / 'real' / 'train'),
            '--val-images', str(root / 'real' / 'val' / 'images'),
            '--val-labels', str(root / 'real' / 'val' / 'masks'),
            '--source-img-suffix', '.jpg', '--label-suffix', '_mask.png']
