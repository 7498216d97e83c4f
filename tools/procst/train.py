"""Train a ProCST source<->target translator (SPEC-more-uda.md §4), level after level.

    python tools/procst/train.py CONFIG [--work-dir DIR] [--cfg-options k=v ...]

Writes ``<work dir>/scale_<n>.pth`` per finished level (``latest.pth``: the last one),
``scale_<n>_resume.pth`` every ``checkpoint_interval`` steps, TensorBoard scalars and
image grids (S, S->T, S->T->S; T, T->S, T->S->T) in ``<work dir>/tf_logs`` and the log in
``<work dir>/translator.log``. Run it again with the same work dir to continue an
interrupted training: finished levels are loaded, an unfinished one resumes.
"""
import argparse
import os
import os.path as osp

from mmcv import Config, DictAction

from mmseg.apis.train_translator import train_translator
from mmseg.utils import get_root_logger


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a ProCST translator')
    parser.add_argument('config', help='translator config, e.g. configs/procst/gta2cs_procst.py')
    parser.add_argument('--work-dir', help='default: work_dirs/procst/<config name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. max_steps_per_scale=2')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'tools/procst/train.py: config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    work_dir = args.work_dir or osp.join('work_dirs', 'procst',
                                         osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(osp.join(work_dir, osp.basename(args.config)))
    logger = get_root_logger(osp.join(work_dir, 'translator.log'))
    final = train_translator(cfg, work_dir, args.config, logger)
    logger.info(f'translator: {final}')


if __name__ == '__main__':
    main()
