"""Shared by the dataset converters: raw id → trainId remapping, per-file class
statistics for Rare Class Sampling, the process pool and the command line."""
import argparse
import json
import os
import os.path as osp
from multiprocessing import Pool

import numpy as np
from PIL import Image
from tqdm import tqdm

NUM_CLASSES = 19
IGNORE_INDEX = 255

# Cityscapes label ids (also what GTA label files hold) → trainIds; others → 255.
CITYSCAPES_ID_TO_TRAINID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11,
    25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}
# SYNTHIA-RAND-CITYSCAPES class ids → trainIds; others (void, parking-slot, road-work,
# lane marking) → 255.
SYNTHIA_ID_TO_TRAINID = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9, 1: 10, 10: 11, 17: 12,
    8: 13, 18: 14, 19: 15, 20: 16, 12: 17, 11: 18
}

TRAIN_ID_SUFFIX = '_labelTrainIds.png'


def remap_ids(label, id_to_train_id, source):
    """H×W integer label ids → H×W uint8 trainIds (unmapped ids → 255).

    ``source`` (the file name) is named when ``label`` is not a single-channel map.
    """
    if label.ndim != 2:
        raise ValueError(f'label file {source} has shape {label.shape}; expected a '
                         'single-channel map of label ids (not colours)')
    lut = np.full(max(int(label.max()) + 1, 256), IGNORE_INDEX, dtype=np.uint8)
    for raw_id, train_id in id_to_train_id.items():
        lut[raw_id] = train_id
    return lut[label]


def class_counts(train_ids, file, num_classes=NUM_CLASSES):
    """``{trainId: pixel count, ..., 'file': file}`` for the classes present (ascending
    trainId; 255 not counted)."""
    counts = np.bincount(train_ids.ravel(), minlength=256)[:num_classes]
    stats = {int(c): int(n) for c, n in enumerate(counts) if n > 0}
    stats['file'] = file
    return stats


def write_train_ids(train_ids, path):
    """Write an 8-bit greyscale trainId PNG."""
    Image.fromarray(train_ids.astype(np.uint8), mode='L').save(path)


def train_id_path(label_file):
    """``<dir>/<name>.png`` → ``<dir>/<name>_labelTrainIds.png``."""
    if not label_file.endswith('.png'):
        raise ValueError(f'label file {label_file} is not a .png file')
    return label_file[:-len('.png')] + TRAIN_ID_SUFFIX


def scan(root, suffix, exclude_suffix=None):
    """Sorted paths (``root`` joined, as given) of the files under ``root`` ending with
    ``suffix`` (and not with ``exclude_suffix``)."""
    found = []
    for dirpath, _, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            if name.endswith(suffix) and not (exclude_suffix and name.endswith(exclude_suffix)):
                found.append(osp.join(dirpath, name))
    return sorted(found)


def run_parallel(func, items, nproc, desc):
    """``[func(item) for item in items]`` over ``nproc`` processes (in order), with a
    progress bar."""
    items = list(items)
    with tqdm(total=len(items), desc=desc, unit='file') as bar:
        if nproc <= 1:
            results = []
            for item in items:
                results.append(func(item))
                bar.update()
            return results
        with Pool(nproc) as pool:
            results = []
            for result in pool.imap(func, items):
                results.append(result)
                bar.update()
            return results


def save_class_stats(out_dir, sample_class_stats):
    """Write the Rare Class Sampling statistics into ``out_dir``.

    - ``sample_class_stats.json``: the list as given (one dict per label file);
    - ``sample_class_stats_dict.json``: ``{file: {trainId: count}}``;
    - ``samples_with_class.json``: ``{trainId: [[file, count], ...]}`` (file order).
    """
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'sample_class_stats.json'), 'w') as f:
        json.dump(sample_class_stats, f, indent=2)
    stats_dict = {}
    samples_with_class = {}
    for stats in sample_class_stats:
        counts = {c: n for c, n in stats.items() if c != 'file'}
        stats_dict[stats['file']] = counts
        for c, n in counts.items():
            samples_with_class.setdefault(c, []).append([stats['file'], n])
    with open(osp.join(out_dir, 'sample_class_stats_dict.json'), 'w') as f:
        json.dump(stats_dict, f, indent=2)
    with open(osp.join(out_dir, 'samples_with_class.json'), 'w') as f:
        json.dump(samples_with_class, f, indent=2)


def parse_args(description, data_name, default_gt_dir):
    """Command line shared by the converters: ``DATA_ROOT [--gt-dir] [-o] [--nproc]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('data_root', help=f'{data_name} data root, e.g. data/{data_name}')
    parser.add_argument('--gt-dir', default=default_gt_dir,
                        help=f'label folder relative to data_root (default: {default_gt_dir})')
    parser.add_argument('-o', '--out-dir',
                        help='where the statistics (and split files) go (default: data_root)')
    parser.add_argument('--nproc', default=1, type=int, help='number of processes')
    args = parser.parse_args()
    if not osp.isdir(args.data_root):
        parser.error(f'data root {args.data_root} does not exist')
    gt_dir = osp.join(args.data_root, args.gt_dir)
    if not osp.isdir(gt_dir):
        parser.error(f'label folder {gt_dir} does not exist (see --gt-dir)')
    args.gt_dir = gt_dir
    args.out_dir = args.out_dir or args.data_root
    return args
