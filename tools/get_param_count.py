"""Print the number of parameters of a config's segmentor: encoder, decoder, total.

    python tools/get_param_count.py CONFIG
"""
import argparse

from mmcv import DictAction

from mmseg.apis.inference import build_test_segmentor, load_config


def count(module):
    return sum(p.numel() for p in module.parameters()) if module is not None else 0


def param_counts(model):
    """``{'encoder': n, 'neck': n, 'decoder': n, 'auxiliary': n, 'total': n}`` (parts a
    model lacks are left out)."""
    parts = dict(encoder=getattr(model, 'backbone', None), neck=getattr(model, 'neck', None),
                 decoder=getattr(model, 'decode_head', None),
                 auxiliary=getattr(model, 'auxiliary_head', None))
    counts = {name: count(module) for name, module in parts.items() if module is not None}
    counts['total'] = count(model)
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Count the parameters of a segmentor')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    counts = param_counts(build_test_segmentor(cfg))
    for name, n in counts.items():
        print(f'{name:<10} {n:>12,d}  ({n / 1e6:.2f} M)')
    return counts


if __name__ == '__main__':
    main()
