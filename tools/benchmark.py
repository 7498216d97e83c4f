"""Time one full UDA training iteration and inference: reference path vs fast path; or,
with ``--memory``, the peak memory of one training step per memory switch.

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

Memory (``--memory``): one full training step of a config (``--config``) or of the DAFormer
/ HRDA / MIC preset (``--method``, ``--encoder``, ``--size``, ``--hr-crop``; batch 2) for
each memory variant (default, each switch of ``cfg.optimization``, ``low_memory``), peak
split into weights, optimizer state, gradients and activations: on CUDA from the
allocator's peak, on CPU from an exact count of live tensor bytes. ``--gpu-memory N``
answers whether it fits an N GiB GPU and which switches make it fit:
    python tools/benchmark.py --memory --encoder mit_b5 --size 512 --gpu-memory 10
    python tools/benchmark.py --memory --method mic --encoder mit_b5 --size 1024 --hr-crop 512
    python tools/benchmark.py --memory --config configs/mic/gtaHR2csHR_mic_hrda.py --gpu-memory 24
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

from mmseg.apis.step_memory import (CUDA_ALLOCATOR_OVERHEAD, CUDA_CONTEXT_GIB,  # noqa: E402
                                    GIB, MEMORY_VARIANTS, fitting_variants,
                                    measure_variants, predicted_gpu_gib,
                                    random_batch)
from mmseg.models import UDA, build_segmentor  # noqa: E402
from mmseg.models.utils.optimization import (REFERENCE_OPTIMIZATION,  # noqa: E402
                                             apply_optimization)
from mmseg.models.utils.precision import compute_environment  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENCODER_CHANNELS = {'mit_b0': [32, 64, 160, 256]}


PRESET_CONFIGS = {
    'daformer': 'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py',
    'hrda': 'hrda/gtaHR2csHR_hrda.py', 'mic': 'mic/gtaHR2csHR_mic_hrda.py'}


def preset_config(method, encoder, size, hr_crop):
    """The paper config of ``method`` with the encoder, the square training crop ``size``
    (HRDA: context crop) and the HRDA detail crop replaced."""
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', PRESET_CONFIGS[method]))
    cfg.model.backbone.type = encoder
    cfg.model.decode_head.in_channels = ENCODER_CHANNELS.get(encoder, [64, 128, 320, 512])
    if method in ('hrda', 'mic'):
        cfg.model.hr_crop_size = (hr_crop, hr_crop)
    for domain in ('source', 'target'):
        for step in cfg.data.train[domain].pipeline:
            if step['type'] == 'RandomCrop':
                step['crop_size'] = (size, size)
    return cfg


def model_config(encoder, method, hr_crop):
    """The paper's DAFormer (or HRDA) network with the chosen encoder, no pretraining."""
    base = PRESET_CONFIGS['hrda' if method in ('hrda', 'mic') else 'daformer']
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


def memory_report(args):
    """--memory: measure the variants, print the table and the fit answer."""
    cfg = Config.fromfile(args.config) if args.config else preset_config(
        args.method, args.encoder, args.size, args.hr_crop)
    variants = args.variants.split(',') if args.variants else list(MEMORY_VARIANTS)
    unknown = [v for v in variants if v not in MEMORY_VARIANTS]
    if unknown:
        raise SystemExit(f'benchmark.py: unknown --variants {unknown}; choose from '
                         f'{list(MEMORY_VARIANTS)}')
    results = measure_variants(cfg, variants, args.device, args.amp)
    what = args.config or (f'{args.method} {args.encoder}, crop {args.size}²'
                           + (f', detail {args.hr_crop}²' if args.method != 'daformer' else ''))
    method = next(iter(results.values()))['method']
    print(f'{what}, batch {cfg.data.samples_per_gpu}, {args.device}, '
          f"{'fp32' if args.amp is None else args.amp + ' autocast'}; memory: {method}")
    print(f'{"variant":21s}{"weights":>9s}{"optim.":>8s}{"grads":>8s}{"activ.":>8s}'
          f'{"peak GiB":>10s}{"vs default":>12s}{"step s":>8s}{"GPU need":>10s}')
    default = results.get('default')
    for name, r in results.items():
        ratio = f"{r['peak'] / default['peak']:.0%}" if default else '-'
        print(f"{name:21s}{r['weights'] / GIB:9.2f}{r['optimizer_state'] / GIB:8.2f}"
              f"{r['gradients'] / GIB:8.2f}{r['activations'] / GIB:8.2f}{r['peak'] / GIB:10.2f}"
              f"{ratio:>12s}{r['step_s']:8.1f}{predicted_gpu_gib(r['peak']):10.1f}")
    print(f'GPU need = peak x {CUDA_ALLOCATOR_OVERHEAD} (allocator) + {CUDA_CONTEXT_GIB} GiB '
          '(CUDA context, workspaces)')
    if args.gpu_memory is not None:
        fits = fitting_variants(results, args.gpu_memory)
        gpu = f'a {args.gpu_memory:g} GiB GPU'
        if 'default' in fits:
            print(f'fits on {gpu} as it is')
        elif fits:
            status = f'does not fit on {gpu} as it is; fits' if 'default' in results \
                else f'fits on {gpu}'
            print(f'{status} with ' + ' or '.join(
                f"optimization: {MEMORY_VARIANTS[name]} ({name})" for name in fits))
        elif 'low_memory' in results:
            print(f'does not fit on {gpu} even with every memory switch; try mixed '
                  'precision (--amp bfloat16) or a smaller crop')
        else:
            print(f'does not fit on {gpu} with the measured variants {list(results)}; '
                  'measure low_memory too')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(setting=dict(vars(args)), machine=compute_environment(),
                           memory=results), f, indent=2)
    return results


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
    parser.add_argument('--memory', action='store_true',
                        help='peak memory of one training step per memory variant')
    parser.add_argument('--config', help='--memory: the training config to measure '
                                         '(default: the --method preset)')
    parser.add_argument('--variants', help='--memory: comma-separated variants (default '
                                           f"all: {', '.join(MEMORY_VARIANTS)})")
    parser.add_argument('--gpu-memory', type=float, help='--memory: GiB of the GPU to fit')
    args = parser.parse_args(argv)
    if args.memory:
        return memory_report(args)
    if args.config or args.variants or args.gpu_memory is not None:
        parser.error('--config, --variants and --gpu-memory need --memory')
    if args.quick:
        args.iters, args.warmup = 2, 1

    reference, fast, _ = build_pair(args)
    batch = random_batch(2, (args.size, args.size), 19, args.device, ignored_rows=0)
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
