"""Train a segmentor (supervised) or a UDA model (DACS / MIC / ...) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--seed 0] [--cfg-options k=v ...]
        [--load-from CKPT | --resume-from CKPT | --auto-resume] [--trust-checkpoint]

Writes to the work dir (default ``work_dirs/<config stem>``): the merged config
(``<stem>.py``), ``<timestamp>.log`` / ``.log.json``, TensorBoard logs, checkpoints
(``iter_N.pth``, ``latest.pth``) and, for UDA runs, ``debug/`` images.

A killed run continues with ``--auto-resume`` (the newest readable checkpoint of the work
dir) or ``--resume-from iter_N.pth``, exactly as it would have run on. Checkpoints, the
model and the data are checked before anything is written: a bad input stops the run with
an error naming it and leaves the work dir as it was.
"""
import argparse
import copy
import io
import logging
import os
import os.path as osp
import time

import mmcv
import torch
from mmcv import Config, DictAction
from mmcv.runner import get_dist_info

from mmseg import __version__
from mmseg.apis import init_random_seed, set_random_seed, train_segmentor
from mmseg.apis.active_selection_hook import configure_active_labels
from mmseg.apis.parallel import init_distributed
from mmseg.apis.resume import check_weights_match, select_start_checkpoint
from mmseg.datasets import build_dataset
from mmseg.models import build_train_model
from mmseg.utils import get_root_logger
from mmseg.utils.collect_env import collect_env

LOG_FORMAT = '%(asctime)s - %(name)s - %(levelname)s - %(message)s'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--load-from', help='the checkpoint file to load weights from')
    parser.add_argument('--resume-from', help='the checkpoint file to resume from')
    parser.add_argument('--auto-resume', action='store_true',
                        help='resume from the newest readable checkpoint of the work dir '
                             '(start from scratch when there is none)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow full unpickling of --resume-from / --load-from files '
                             '(legacy checkpoints holding Python objects); only for trusted '
                             'files')
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
    if args.resume_from and args.auto_resume:
        parser.error('--resume-from and --auto-resume exclude each other')
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


def load_config(args):
    """The config with the command-line overrides applied."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.load_from is not None:
        cfg.load_from = args.load_from
    if args.resume_from is not None:
        cfg.resume_from = args.resume_from
    if args.auto_resume:
        cfg.auto_resume = True
    cfg.gpu_ids = [args.gpu_id]
    add_uda_train_cfg(cfg)
    configure_active_labels(cfg)
    return cfg


class DeferredFileHandler(logging.FileHandler):
    """A log file handler that keeps the records in memory until :meth:`open_file`: the
    run folder is created only once the inputs are checked. It is a ``FileHandler`` so
    that mmcv writes the models' initialisation report into it, as into a log file, rather
    than onto the console."""

    def __init__(self, level):
        logging.StreamHandler.__init__(self, io.StringIO())
        self.baseFilename, self.mode, self.encoding, self.errors = None, 'w', None, None
        self.delay = False
        self.setFormatter(logging.Formatter(LOG_FORMAT))
        self.setLevel(level)

    def open_file(self, path):
        """Write what was logged so far to ``path`` and log there from now on."""
        with self.lock:
            kept = self.stream.getvalue()
            self.baseFilename = osp.abspath(path)
            self.stream = open(path, 'w')
            self.stream.write(kept)
            self.stream.flush()


def start_run_log(log_level):
    """The root logger, logging to a :class:`DeferredFileHandler` (rank 0, like mmcv)."""
    logger = get_root_logger(log_level=log_level)
    if get_dist_info()[0] != 0:
        return logger, None
    handler = DeferredFileHandler(logger.level)
    logger.addHandler(handler)
    return logger, handler


def read_start_checkpoint(cfg, trusted, logger):
    """The checkpoint to resume from / load (None: from scratch); a missing, unreadable or
    unsuitable file ends the program with an error naming it."""
    try:
        return select_start_checkpoint(cfg, trusted=trusted, logger=logger)
    except (OSError, RuntimeError, ValueError) as err:
        raise SystemExit(f'tools/train.py: error: {err}') from err


def check_start_fits_model(model, start):
    if start is None:
        return
    try:
        check_weights_match(model, start)
    except ValueError as err:
        raise SystemExit(f'tools/train.py: error: {err}') from err


def run_seed(args, cfg, start, logger):
    """``--seed``, else the seed of the resumed run, else the config's, else a random one.
    (A resumed run restores the random state of its checkpoint anyway.)"""
    seed = args.seed if args.seed is not None else cfg.get('seed')
    if seed is None and start is not None and start.resume:
        seed = start.checkpoint.get('meta', {}).get('seed')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    seed = init_random_seed(seed, device)
    if start is not None and start.resume:
        logger.info('Resuming: the random state continues from the checkpoint')
    return seed


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args)
    if cfg.get('cudnn_benchmark', False):
        torch.backends.cudnn.benchmark = True
    distributed = args.launcher != 'none'
    if distributed:
        init_distributed(args.launcher, cfg.get('dist_params', {}).get('backend'))
        _, world_size = get_dist_info()
        cfg.gpu_ids = list(range(world_size))

    timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    logger, log_file = start_run_log(cfg.get('log_level', 'INFO'))
    try:
        start = read_start_checkpoint(cfg, args.trust_checkpoint, logger)

        meta = dict()
        env_info = '\n'.join(f'{k}: {v}' for k, v in collect_env().items())
        dash_line = '-' * 60 + '\n'
        logger.info('Environment info:\n' + dash_line + env_info + '\n' + dash_line)
        meta['env_info'] = env_info
        logger.info(f'Distributed training: {distributed}')
        text = config_text(cfg)
        logger.info(f'Config:\n{text}')

        seed = run_seed(args, cfg, start, logger)
        deterministic = args.deterministic or cfg.get('deterministic', False)
        logger.info(f'Set random seed to {seed}, deterministic: {deterministic}')
        # Each rank draws its own model randomness (dropout, strong augmentation, masks);
        # data samples are seeded per sample and rank by the training loader. The
        # weights are broadcast from rank 0 when wrapped.
        set_random_seed(seed + get_dist_info()[0], deterministic=deterministic)
        cfg.seed = seed
        meta['seed'] = seed
        meta['exp_name'] = osp.basename(args.config)

        model = build_train_model(cfg, train_cfg=cfg.get('train_cfg'),
                                  test_cfg=cfg.get('test_cfg'))
        model.init_weights()
        num_params = sum(p.numel() for p in model.parameters())
        logger.info(f'Model {type(model).__name__}: {num_params / 1e6:.2f} M parameters')
        check_start_fits_model(model, start)

        datasets = [build_dataset(cfg.data.train)]
        if len(cfg.get('workflow', [])) == 2:
            val_dataset = copy.deepcopy(cfg.data.val)
            val_dataset.pipeline = cfg.data.train.pipeline
            datasets.append(build_dataset(val_dataset))
        classes, palette = datasets[0].CLASSES, datasets[0].PALETTE
        model.CLASSES = classes
        model.PALETTE = palette

        # Every input is checked: from here on the run folder is written.
        mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
        cfg.dump(osp.join(cfg.work_dir, osp.basename(args.config)))
        if log_file is not None:
            log_file.open_file(osp.join(cfg.work_dir, f'{timestamp}.log'))
        if cfg.get('checkpoint_config') is not None:
            # Saved in every checkpoint so that test / demo know the classes and colours.
            cfg.checkpoint_config.meta = dict(
                mmseg_version=__version__, config=text, CLASSES=tuple(classes),
                PALETTE=[list(map(int, c)) for c in palette] if palette is not None else None)
        train_segmentor(model, datasets, cfg, distributed=distributed,
                        validate=not args.no_validate, timestamp=timestamp, meta=meta,
                        start=start)
    finally:
        # Several runs in one process (tests, notebooks) must not log into each other's files.
        if log_file is not None:
            logger.removeHandler(log_file)
            log_file.close()


if __name__ == '__main__':
    main()
