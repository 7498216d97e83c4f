"""Train a segmentor (supervised) or a UDA model (DACS / MIC / ...) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--seed 0] [--cfg-options k=v ...]

Writes to the work dir (default ``work_dirs/<config stem>``): the merged config
(``<stem>.py``), ``<timestamp>.log`` / ``.log.json``, TensorBoard logs, checkpoints
(``iter_N.pth``, ``latest.pth``) and, for UDA runs, ``debug/`` images.
"""
import argparse
import copy
import os
import os.path as osp
import time

import mmcv
import torch
from mmcv import Config, DictAction
from mmcv.runner import get_dist_info, init_dist

from mmseg import __version__
from mmseg.apis import init_random_seed, set_random_seed, train_segmentor
from mmseg.datasets import build_dataset
from mmseg.models import build_train_model
from mmseg.utils import get_root_logger
from mmseg.utils.collect_env import collect_env


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--load-from', help='the checkpoint file to load weights from')
    parser.add_argument('--resume-from', help='the checkpoint file to resume from')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate the checkpoint during training')
    parser.add_argument('--gpu-id', type=int, default=0,
                        help='id of the GPU to use (non-distributed training)')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='whether to set deterministic options for the cuDNN backend')
    parser.add_argument('--cfg-options', '--options', nargs='+', action=DictAction,
                        help='override config settings, key=value (e.g. '
                             'runner.max_iters=100 data.samples_per_gpu=1)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def default_work_dir(config_path):
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def add_uda_train_cfg(cfg):
    """UDA wrappers read ``work_dir`` (debug images) and ``log_config`` (``img_interval``)
    from the model's ``train_cfg`` (SPEC-uda.md, the wrapper)."""
    if cfg.get('uda') is None:
        return
    train_cfg = dict(cfg.model.get('train_cfg') or {})
    train_cfg.update(work_dir=cfg.work_dir, log_config=copy.deepcopy(cfg.log_config))
    cfg.model.train_cfg = train_cfg


def config_text(cfg):
    """The merged config as Python source (falls back to the raw text when it cannot be
    pretty-printed)."""
    try:
        return cfg.pretty_text
    except Exception:  # yapf may choke on unusual values; the raw text still documents it
        return cfg.text


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('cudnn_benchmark', False):
        torch.backends.cudnn.benchmark = True
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    cfg.gpu_ids = [args.gpu_id]
    add_uda_train_cfg(cfg)

    distributed = args.launcher != 'none'
    if distributed:
        init_dist(args.launcher, **cfg.get('dist_params', {}))
        _, world_size = get_dist_info()
        cfg.gpu_ids = list(range(world_size))

    mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
    cfg.dump(osp.join(cfg.work_dir, osp.basename(args.config)))
    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    log_file = osp.join(cfg.work_dir, f'{timestamp}.log')
    logger = get_root_logger(log_file=log_file, log_level=cfg.get('log_level', 'INFO'))

    meta = dict()
    env_info = '\n'.join(f'{k}: {v}' for k, v in collect_env().items())
    dash_line = '-' * 60 + '\n'
    logger.info('Environment info:\n' + dash_line + env_info + '\n' + dash_line)
    meta['env_info'] = env_info
    logger.info(f'Distributed training: {distributed}')
    text = config_text(cfg)
    logger.info(f'Config:\n{text}')

    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    seed = init_random_seed(args.seed if args.seed is not None else cfg.get('seed'), device)
    deterministic = args.deterministic or cfg.get('deterministic', False)
    logger.info(f'Set random seed to {seed}, deterministic: {deterministic}')
    set_random_seed(seed, deterministic=deterministic)
    cfg.seed = seed
    meta['seed'] = seed
    meta['exp_name'] = osp.basename(args.config)

    model = build_train_model(cfg, train_cfg=cfg.get('train_cfg'),
                              test_cfg=cfg.get('test_cfg'))
    model.init_weights()
    num_params = sum(p.numel() for p in model.parameters())
    logger.info(f'Model {type(model).__name__}: {num_params / 1e6:.2f} M parameters')

    datasets = [build_dataset(cfg.data.train)]
    if len(cfg.get('workflow', [])) == 2:
        val_dataset = copy.deepcopy(cfg.data.val)
        val_dataset.pipeline = cfg.data.train.pipeline
        datasets.append(build_dataset(val_dataset))
    classes, palette = datasets[0].CLASSES, datasets[0].PALETTE
    if cfg.get('checkpoint_config') is not None:
        # Saved in every checkpoint so that test / demo know the classes and colours.
        cfg.checkpoint_config.meta = dict(
            mmseg_version=__version__, config=text, CLASSES=tuple(classes),
            PALETTE=[list(map(int, c)) for c in palette] if palette is not None else None)
    model.CLASSES = classes
    model.PALETTE = palette
    train_segmentor(model, datasets, cfg, distributed=distributed,
                    validate=not args.no_validate, timestamp=timestamp, meta=meta)


if __name__ == '__main__':
    main()
