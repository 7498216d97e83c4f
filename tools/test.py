"""Evaluate a checkpoint (plain segmentor or UDA run) on the config's test set.

    python tools/test.py CONFIG CHECKPOINT --eval mIoU [--show-dir DIR --opacity 1]
        [--aug-test] [--hrda-out LR|HR|ATT] [--label-shift label_shift.json]
        [--cfg-options k=v ...]

UDA checkpoints load their student (``model.*``) weights only; a checkpoint without any
key matching the model fails loudly.
"""
import argparse
import os
import os.path as osp
import time
import warnings

import mmcv
import torch
from mmcv import DictAction
from mmcv.parallel import MMDataParallel
from mmcv.runner import get_dist_info

from mmseg.apis import (build_test_segmentor, load_config, load_segmentor_checkpoint,
                        multi_gpu_test, single_gpu_test)
from mmseg.apis.parallel import init_distributed, wrap_model
from mmseg.datasets import build_dataloader, build_dataset

# Image ratios of multi-scale testing when the config names none (mmseg 0.x --aug-test).
DEFAULT_AUG_RATIOS = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path (.py, or legacy .json)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--aug-test', action='store_true',
                        help='flip + multi-scale test (the config\'s img_ratios)')
    parser.add_argument('--out', help='dump the results (pre_eval statistics, or the '
                                      'predictions without --eval) to this pickle file')
    parser.add_argument('--format-only', action='store_true',
                        help='only format the results (dataset.format_results)')
    parser.add_argument('--eval', type=str, nargs='+', help='metrics, e.g. mIoU')
    parser.add_argument('--show', action='store_true', help='show the predictions')
    parser.add_argument('--show-dir', help='write coloured predictions to this folder')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='opacity of the painted prediction, in (0, 1]')
    parser.add_argument('--hrda-out', choices=['', 'LR', 'HR', 'ATT'], default='',
                        help='HRDA: output the low-resolution or high-resolution '
                             'prediction, or the scale attention, instead of the fusion')
    parser.add_argument('--label-shift', metavar='FILE',
                        help='Inference Adjustment: add log P_t - log P_s of this '
                             'label_shift.json (tools/estimate_label_shift.py) to the '
                             'logits before the argmax (model.test_cfg.label_shift)')
    parser.add_argument('--work-dir', help='write the metrics as JSON into this folder')
    parser.add_argument('--device', default=None,
                        help="'cpu' or 'cuda' (default: cuda when available)")
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow checkpoints holding arbitrary Python objects')
    parser.add_argument('--gpu-collect', action='store_true', help='(ignored, kept for '
                        'compatibility)')
    parser.add_argument('--tmpdir', help='(ignored, kept for compatibility)')
    parser.add_argument('--cfg-options', '--options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    parser.add_argument('--eval-options', nargs='+', action=DictAction,
                        help='extra arguments of dataset.evaluate, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if not (args.eval or args.out or args.format_only or args.show or args.show_dir):
        parser.error('nothing to do: give at least one of --eval, --out, --format-only, '
                     '--show, --show-dir')
    if args.eval and args.format_only:
        parser.error('--eval and --format-only cannot be both specified')
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def find_multiscale_flip_aug(pipeline):
    for step in pipeline:
        if step.get('type') == 'MultiScaleFlipAug':
            return step
    raise KeyError('--aug-test needs a MultiScaleFlipAug step in data.test.pipeline')


def configure_aug_test(cfg):
    """Flip + multi-scale testing: the config's ``img_ratios``, else the mmseg 0.x set."""
    step = find_multiscale_flip_aug(cfg.data.test.pipeline)
    if not step.get('img_ratios'):
        step.img_ratios = DEFAULT_AUG_RATIOS
    step.flip = True


def configure_hrda_out(cfg, hrda_out):
    """``--hrda-out``: LR = attention fixed to 0, HR = fixed to 1, ATT = output the
    attention map (HRDA's test options)."""
    head = cfg.model.decode_head
    if head.get('type') != 'HRDAHead':
        raise ValueError(f'--hrda-out {hrda_out} needs an HRDA model, but '
                         f'model.decode_head.type is {head.get("type")!r}')
    if hrda_out == 'LR':
        head.fixed_attention = 0.0
    elif hrda_out == 'HR':
        head.fixed_attention = 1.0
    elif hrda_out == 'ATT':
        head.debug_output_attention = True


def configure_label_shift(cfg, label_shift_file):
    """``--label-shift FILE``: ``model.test_cfg.label_shift=dict(file=FILE)``."""
    cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {},
                              label_shift=dict(file=label_shift_file))


def configure(cfg, args):
    """Apply the command-line test options to the config (one function per option)."""
    if args.aug_test:
        configure_aug_test(cfg)
    if args.hrda_out:
        configure_hrda_out(cfg, args.hrda_out)
    if args.label_shift:
        configure_label_shift(cfg, args.label_shift)
    cfg.data.test.test_mode = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get('cudnn_benchmark', False):
        torch.backends.cudnn.benchmark = True
    configure(cfg, args)
    if args.hrda_out == 'ATT' and args.eval:
        warnings.warn('--hrda-out ATT writes attention maps; --eval is skipped')
        args.eval = None

    distributed = args.launcher != 'none'
    if distributed:
        init_distributed(args.launcher, cfg.get('dist_params', {}).get('backend'))
    cfg.gpu_ids = [0]
    use_cuda = args.device != 'cpu' and torch.cuda.is_available()

    dataset = build_dataset(cfg.data.test)
    data_loader = build_dataloader(dataset, samples_per_gpu=1,
                                   workers_per_gpu=cfg.data.workers_per_gpu,
                                   dist=distributed, shuffle=False)

    model = build_test_segmentor(cfg)
    load_segmentor_checkpoint(model, args.checkpoint, dataset_classes=dataset.CLASSES,
                              dataset_palette=dataset.PALETTE,
                              trusted=args.trust_checkpoint)
    pre_eval = bool(args.eval) and not args.format_only
    # With --format-only, --eval-options go to dataset.format_results (e.g. imgfile_prefix).
    format_args = args.eval_options if args.format_only else None
    if distributed:
        model = wrap_model(model, cfg, distributed=True)
        results = multi_gpu_test(model, data_loader, pre_eval=pre_eval,
                                 format_only=args.format_only, format_args=format_args)
    else:
        model = wrap_model(model, cfg) if use_cuda else MMDataParallel(model, device_ids=None)
        results = single_gpu_test(model, data_loader, args.show, args.show_dir,
                                  opacity=args.opacity, pre_eval=pre_eval,
                                  format_only=args.format_only, format_args=format_args)

    rank, _ = get_dist_info()
    if rank != 0:
        return None
    print()
    if args.out:
        print(f'writing results to {args.out}')
        mmcv.dump(results, args.out)
    metric = None
    if args.eval:
        metric = dataset.evaluate(results, args.eval, **(args.eval_options or {}))
        if args.work_dir:
            mmcv.mkdir_or_exist(osp.abspath(args.work_dir))
            timestamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
            mmcv.dump(dict(config=args.config, checkpoint=args.checkpoint, metric=metric),
                      osp.join(args.work_dir, f'eval_single_scale_{timestamp}.json'),
                      indent=4)
    if args.show_dir:
        print(f'coloured predictions written to {args.show_dir}')
    return metric


if __name__ == '__main__':
    main()
