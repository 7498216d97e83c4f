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
