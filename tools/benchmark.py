"""Time one full UDA training iteration and inference: reference path vs fast path.

Both paths run in the same process on identical weights, alternating iteration by
iteration so machine noise hits both alike; the report gives median seconds per iteration,
peak memory and the fast/reference ratio.

- reference: plain fp32 eager (explicit attention, Python-loop EMA) — what the parity
  fixtures check;
- fast: the default ``optimization`` settings (SDPA attention, foreach EMA, …), optionally
  with ``--amp bfloat16|float16``, ``--channels-last`` and ``--compile``.

Examples:
    python tools/benchmark.py                          # DAFormer, MiT-B0, 256², CPU
    python tools/benchmark.py --method hrda --size 512 --hr-crop 256
    python tools/benchmark.py --encoder mit_b5 --size 512 --amp bfloat16 --device cuda
    python tools/benchmark.py --quick                  # a few iterations (CI smoke run)
"""
import argparse
import copy
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from mmcv import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmseg.models import UDA, build_segmentor  # noqa: E402
from mmseg.models.utils.optimization import (REFERENCE_OPTIMIZATION,  # noqa: E402
                                             apply_optimization)
from mmseg.models.utils.precision import compute_environment  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENCODER_CHANNELS = {'mit_b0': [32, 64, 160, 256]}
IMG_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def model_config(encoder, method, hr_crop):
    """The paper's DAFormer (or HRDA) network with the chosen encoder, no pretraining."""
    base = 'hrda/gtaHR2csHR_hrda.py' if method in ('hrda', 'mic') \
        else 'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', base))
    model = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, 'to_dict')
                          else dict(cfg.model))
    model['pretrained'] = None
    model['backbone']['type'] = encoder
    model['decode_head']['in_channels'] = ENCODER_CHANNELS.get(encoder, [64, 128, 320, 512])
    if method in ('hrda', 'mic'):
        model['hr_crop_size'] = (hr_crop, hr_crop)
    uda = copy.deepcopy(dict(cfg.uda))
    if method == 'mic':
        uda.update(mask_mode='separatetrgaug', mask_alpha='same', mask_pseudo_threshold='same',
                   mask_lambda=1, mask_generator=dict(type='block', mask_ratio=0.7,
                                                      mask_block_size=64))
    uda['model'] = model
    return uda, model


def make_batch(size, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    metas = [dict(img_shape=(size, size, 3), ori_shape=(size, size, 3),
                  pad_shape=(size, size, 3), flip=False, scale_factor=1.0,
                  img_norm_cfg=IMG_NORM) for _ in range(2)]
    gt = torch.randint(0, 19, (2, 1, size, size), generator=g)
    return dict(img=torch.randn(2, 3, size, size, generator=g).to(device), img_metas=metas,
                gt_semantic_seg=gt.to(device),
                target_img=torch.randn(2, 3, size, size, generator=g).to(device),
                target_img_metas=metas)


def sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def peak_memory_mb(device):
    if device.startswith('cuda'):
        return torch.cuda.max_memory_allocated() / 2**20
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def alternate(runs, iters, warmup, device):
    """Time each callable in ``runs`` alternately; returns name → list of seconds."""
    times = {name: [] for name in runs}
    for i in range(warmup + iters):
        for name, fn in runs.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return times


def build_pair(args):
    uda_cfg, model_cfg = model_config(args.encoder, args.method, args.hr_crop)
    torch.manual_seed(0)
    reference = UDA.build(copy.deepcopy(uda_cfg)).to(args.device)
    fast = UDA.build(copy.deepcopy(uda_cfg)).to(args.device)
    fast.load_state_dict(reference.state_dict())
    apply_optimization(reference, REFERENCE_OPTIMIZATION)
    apply_optimization(fast, dict(
        channels_last=args.channels_last, compile=args.compile,
        mixed_precision=dict(enabled=args.amp is not None, dtype=args.amp or 'bfloat16')))
    return reference, fast, model_cfg


def train_step_fn(model, batch, seed):
    optimizer = torch.optim.AdamW(model.parameters(), lr=6e-5, weight_decay=0.01,
                                  fused=next(model.parameters()).is_cuda or None)
    model.train()

    def step():
        np.random.seed(seed)
        torch.manual_seed(seed)
        model.train_step(batch, optimizer)
    return step


def inference_fn(model, img, metas, mode, size):
    segmentor = model.get_model()
    segmentor.test_cfg = dict(mode=mode, crop_size=(size // 2, size // 2),
                              stride=(size // 4, size // 4), batched_slide=True)

    def infer():
        segmentor.eval()
        with torch.no_grad(), model.autocast():
            segmentor.inference(img, metas, rescale=True)
    return infer


def summarize(times, device):
    ref, fast = statistics.median(times['reference']), statistics.median(times['fast'])
    return dict(reference_s=round(ref, 4), fast_s=round(fast, 4), ratio=round(fast / ref, 3))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--method', choices=['daformer', 'hrda', 'mic'], default='daformer')
    parser.add_argument('--encoder', default='mit_b0', help='mit_b0 … mit_b5')
    parser.add_argument('--size', type=int, default=256, help='square crop size')
    parser.add_argument('--hr-crop', type=int, default=128, help='HRDA detail crop')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', choices=['bfloat16', 'float16'], default=None)
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--quick', action='store_true', help='2 iterations, 1 warm-up')
    parser.add_argument('--json', help='also write the results to this file')
    args = parser.parse_args(argv)
    if args.quick:
        args.iters, args.warmup = 2, 1

    reference, fast, _ = build_pair(args)
    batch = make_batch(args.size, args.device)
    if args.device.startswith('cuda'):
        torch.cuda.reset_peak_memory_stats()
    train = alternate({'reference': train_step_fn(reference, batch, 0),
                       'fast': train_step_fn(fast, batch, 0)},
                      args.iters, args.warmup, args.device)
    results = dict(setting=dict(vars(args)), machine=compute_environment(),
                   train_step=summarize(train, args.device))
    img, metas = batch['img'][:1], batch['img_metas'][:1]
    for mode in ('whole', 'slide'):
        times = alternate({'reference': inference_fn(reference, img, metas, mode, args.size),
                           'fast': inference_fn(fast, img, metas, mode, args.size)},
                          args.iters, args.warmup, args.device)
        results[f'inference_{mode}'] = summarize(times, args.device)
    results['peak_memory_mb'] = round(peak_memory_mb(args.device), 1)

    machine = results['machine']
    print(f'{args.method} {args.encoder} {args.size}² on {args.device} '
          f'(amp={args.amp}, median of {args.iters} iterations)')
    print(f"CPU capability {machine['cpu_capability']}, native bfloat16: "
          f"{'yes' if machine['cpu_native_bf16'] else 'no'}, {machine['threads']} threads, "
          f"torch {machine['torch']}")
    print(f'{"":18s}{"reference s/it":>16s}{"fast s/it":>12s}{"ratio":>8s}')
    for key in ('train_step', 'inference_whole', 'inference_slide'):
        r = results[key]
        print(f'{key:18s}{r["reference_s"]:16.4f}{r["fast_s"]:12.4f}{r["ratio"]:8.3f}')
    print(f'peak memory (process): {results["peak_memory_mb"]:.0f} MB')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == '__main__':
    main()
