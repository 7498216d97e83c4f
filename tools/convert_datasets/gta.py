"""Convert GTA5 labels (Cityscapes label ids) to trainIds and write the Rare Class
Sampling statistics.

Writes ``<name>_labelTrainIds.png`` next to each ``<gt-dir>/<name>.png`` and
``sample_class_stats.json``, ``sample_class_stats_dict.json``, ``samples_with_class.json``
into the output folder (default: the data root).

Usage: python tools/convert_datasets/gta.py data/gta [--gt-dir labels] [--nproc 8]
"""
import numpy as np
from PIL import Image

from _common import (CITYSCAPES_ID_TO_TRAINID, TRAIN_ID_SUFFIX, class_counts, parse_args,
                     remap_ids, run_parallel, save_class_stats, scan, train_id_path,
                     write_train_ids)


def convert_to_train_id(label_file):
    """Convert one label file; returns its class statistics."""
    # Pillow reads palette PNGs as indices, which are the label ids.
    with Image.open(label_file) as img:
        label = np.asarray(img)
    train_ids = remap_ids(label, CITYSCAPES_ID_TO_TRAINID, label_file)
    out_file = train_id_path(label_file)
    write_train_ids(train_ids, out_file)
    return class_counts(train_ids, out_file)


def main():
    args = parse_args('Convert GTA5 labels to trainIds', 'gta', 'labels')
    label_files = scan(args.gt_dir, '.png', exclude_suffix=TRAIN_ID_SUFFIX)
    stats = run_parallel(convert_to_train_id, label_files, args.nproc, 'gta')
    save_class_stats(args.out_dir, stats)


if __name__ == '__main__':
    main()
