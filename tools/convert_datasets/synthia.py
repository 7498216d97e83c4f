"""Convert SYNTHIA-RAND-CITYSCAPES labels to Cityscapes trainIds and write the Rare Class
Sampling statistics.

The label files are 16-bit PNGs whose class id is the channel OpenCV returns last (an
8-bit read loses it). Writes ``<name>_labelTrainIds.png`` next to each
``<gt-dir>/<name>.png`` and the statistics JSON files into the output folder.

Usage: python tools/convert_datasets/synthia.py data/synthia [--gt-dir GT/LABELS] [--nproc 8]
"""
import cv2

from _common import (SYNTHIA_ID_TO_TRAINID, TRAIN_ID_SUFFIX, class_counts, parse_args,
                     remap_ids, run_parallel, save_class_stats, scan, train_id_path,
                     write_train_ids)


def read_class_ids(label_file):
    """H×W class ids of a Synthia label file (16-bit, class in the last channel)."""
    label = cv2.imread(label_file, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise OSError(f'cannot read label file {label_file} (missing or corrupt)')
    return label[..., -1] if label.ndim == 3 else label


def convert_to_train_id(label_file):
    """Convert one label file; returns its class statistics."""
    train_ids = remap_ids(read_class_ids(label_file), SYNTHIA_ID_TO_TRAINID, label_file)
    out_file = train_id_path(label_file)
    write_train_ids(train_ids, out_file)
    return class_counts(train_ids, out_file)


def main():
    args = parse_args('Convert Synthia labels to Cityscapes trainIds', 'synthia', 'GT/LABELS')
    label_files = scan(args.gt_dir, '.png', exclude_suffix=TRAIN_ID_SUFFIX)
    stats = run_parallel(convert_to_train_id, label_files, args.nproc, 'synthia')
    save_class_stats(args.out_dir, stats)


if __name__ == '__main__':
    main()
