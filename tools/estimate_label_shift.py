"""Estimate the source and target label priors of a trained UDA model (label shift, Liu et
al. CVPR 2022) and write them for Inference Adjustment / Classifier Rectification.

    python tools/estimate_label_shift.py CONFIG CHECKPOINT --out label_shift.json \
        [--min-pixels N] [--pseudo-count 1] [--weights student|teacher] [--device cpu|cuda]

P_s: image-level presence counts of the source classes (more than --min-pixels pixels,
n_s) from ``<source data_root>/sample_class_stats.json``; P_t: a class is present in a
target-train image when log(mean exp(softmax probability)) exceeds its source pixel
frequency, with the checkpoint's student or (``--weights teacher``) the EMA teacher of a
DACS-family run (DAFormer, HRDA, MIC), which makes fewer false-positive presences. Then: ``tools/test.py CONFIG CHECKPOINT --eval mIoU --label-shift FILE`` (IA) or
a ``LabelShiftCR`` run with ``uda.label_shift.file=FILE`` (CR).
"""
import argparse

from mmcv import DictAction

from mmseg.apis import load_config
from mmseg.apis.label_shift import estimate_label_shift
from mmseg.utils.label_shift_file import write_label_shift


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Estimate P_s and P_t (label shift)')
    parser.add_argument('config', help='the UDA config of the trained model')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('--out', required=True, help='the label_shift.json to write')
    parser.add_argument('--min-pixels', type=int, default=0,
                        help='n_s: a source class counts in an image with more pixels than '
                             'this (default 0: any pixel)')
    parser.add_argument('--pseudo-count', type=float, default=1.0,
                        help='added to every class count so that classes seen in no image '
                             'keep a positive prior (default 1)')
    parser.add_argument('--weights', choices=['student', 'teacher'], default='student',
                        help="the checkpoint's network that predicts the target: the "
                             "student (default) or the EMA teacher (ema_model.*) of a "
                             'DAFormer/HRDA/MIC run')
    parser.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda "
                                                       'when available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.min_pixels < 0 or args.pseudo_count < 0:
        parser.error('--min-pixels and --pseudo-count must be >= 0')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    record = estimate_label_shift(cfg, args.checkpoint, args.min_pixels, args.pseudo_count,
                                  args.device, args.weights)
    write_label_shift(args.out, dict(record, config=args.config))
    print(f'\nwrote {args.out}: P_s and P_t of {record["num_classes"]} classes from '
          f'{record["source_images"]} source and {record["target_images"]} target images')
    return record


if __name__ == '__main__':
    main()
