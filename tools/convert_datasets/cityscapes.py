"""Convert Cityscapes polygon annotations to trainId label maps, write the split files
and the Rare Class Sampling statistics (train split only).

For every ``<gt-dir>/<split>/<city>/<stem>_gtFine_polygons.json`` writes
``<stem>_gtFine_labelTrainIds.png`` beside it (official ``cityscapesscripts``
rasterisation); ``train.txt`` / ``val.txt`` / ``test.txt`` (one ``<city>/<stem>`` per
line; a missing split folder is skipped) and the statistics JSON files go into the
output folder (default: the data root).

Usage: python tools/convert_datasets/cityscapes.py data/cityscapes [--nproc 8]
"""
import os.path as osp
from functools import partial

import numpy as np
from cityscapesscripts.preparation.json2labelImg import json2labelImg
from PIL import Image

from _common import class_counts, parse_args, run_parallel, save_class_stats, scan

POLYGON_SUFFIX = '_gtFine_polygons.json'
SPLITS = ('train', 'val', 'test')


def convert_json_to_label(json_file, with_stats=False):
    """Rasterise one polygon file to trainIds; returns its class statistics when
    ``with_stats`` (else None)."""
    label_file = json_file.replace('_polygons.json', '_labelTrainIds.png')
    json2labelImg(json_file, label_file, 'trainIds')
    if not with_stats:
        return None
    with Image.open(label_file) as img:
        return class_counts(np.asarray(img), label_file)


def main():
    args = parse_args('Convert Cityscapes annotations to trainIds', 'cityscapes', 'gtFine')
    split_files = {}
    for split in SPLITS:
        split_dir = osp.join(args.gt_dir, split)
        if not osp.isdir(split_dir):
            print(f'{split_dir} does not exist: split {split} skipped')
            continue
        split_files[split] = scan(split_dir, POLYGON_SUFFIX)

    for split, files in split_files.items():
        stats = run_parallel(partial(convert_json_to_label, with_stats=split == 'train'),
                             files, args.nproc, f'cityscapes {split}')
        if split == 'train':
            save_class_stats(args.out_dir, stats)
        with open(osp.join(args.out_dir, f'{split}.txt'), 'w') as f:
            for json_file in files:
                rel = osp.relpath(json_file, osp.join(args.gt_dir, split))
                f.write(rel[:-len(POLYGON_SUFFIX)] + '\n')


if __name__ == '__main__':
    main()
