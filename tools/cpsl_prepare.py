"""CPSL pre-computation from the warm-up model (SPEC-more-uda.md §2.2 (a)-(c)):

    python tools/cpsl_prepare.py WARMUP_CONFIG WARMUP_CHECKPOINT --out DIR [--min-pixels 10]

writes DIR/soft_labels/*.npy (P_ST per target-train image), DIR/prototypes.pth and, last,
DIR/class_prior.json (r); a CPSL run then sets ``uda.prepare_dir=DIR`` and
``load_from=WARMUP_CHECKPOINT``.
"""
import argparse

from mmcv import DictAction

from mmseg.apis import load_config
from mmseg.apis.cpsl_prepare import cpsl_prepare


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='CPSL: P_ST, class prior and prototypes '
                                                 'from the warm-up model')
    parser.add_argument('config', help='the warm-up config (its data.train.target is read '
                                       'through data.test.pipeline)')
    parser.add_argument('checkpoint', help='the warm-up checkpoint')
    parser.add_argument('--out', required=True, help='the folder to write')
    parser.add_argument('--min-pixels', type=int, default=10,
                        help='a class enters the prototype mean of an image with at least this '
                             'many predicted pixels (default 10, official)')
    parser.add_argument('--device', default=None, help="'cpu' or 'cuda' (default: cuda "
                                                       'when available)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    if args.min_pixels < 1:
        parser.error('--min-pixels must be >= 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    record = cpsl_prepare(cfg, args.checkpoint, args.out, args.min_pixels, args.device)
    print(f'\nwrote {args.out}: P_ST of {record["num_images"]} target images, class prior '
          f'and {record["num_classes"]} prototypes (missing: {record["missing_classes"]})')
    return record


if __name__ == '__main__':
    main()
