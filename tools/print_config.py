"""Print the fully merged config (all ``_base_`` files resolved).

    python tools/print_config.py CONFIG [--cfg-options k=v ...]
"""
import argparse

from mmcv import DictAction

from mmseg.apis.inference import load_config


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path (.py or .json)')
    parser.add_argument('--cfg-options', '--options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    try:
        text = cfg.pretty_text
    except Exception:  # yapf may fail on unusual values; show the plain dict then
        text = str(cfg._cfg_dict.to_dict())
    print(f'Config:\n{text}')
    return cfg


if __name__ == '__main__':
    main()
