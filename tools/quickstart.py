"""Quickstart: synthetic Cityscapes-style data → short DAFormer training → evaluation.

    .venv/bin/python tools/quickstart.py [--work-dir work_dirs/quickstart] [--max-iters N]

1. writes ``data/demo_cityscapes`` with ``tools/make_demo_data.py`` when it is missing,
2. trains ``configs/quickstart/daformer_mitb0_demo.py`` with ``tools/train.py``
   (MiT-B0 + DAFormer decoder from scratch, CPU friendly: a few minutes),
3. evaluates the run with ``test.sh`` (mIoU table; coloured predictions in
   ``<work dir>/preds``) and draws one overlay with ``demo/image_demo.py``.
"""
import argparse
import glob
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/quickstart/daformer_mitb0_demo.py'
DATA_DIR = 'data/demo_cityscapes'
DEMO_DATA_ARGS = ['--num-train', '32', '--num-val', '8', '--size', '128x256', '--seed', '0']


def run(cmd, **kwargs):
    print(f'\n$ {" ".join(cmd)}', flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/quickstart_daformer_mitb0_demo')
    parser.add_argument('--max-iters', type=int, default=None,
                        help='override the number of training iterations')
    parser.add_argument('--device', default='cpu', help="device of the demo ('cpu', "
                        "'cuda:0'); training uses CUDA when available")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    python = sys.executable
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(min(os.cpu_count() or 1, 4)))
    env['PYTHON'] = python  # test.sh evaluates with this interpreter too
    start = time.time()
    if not osp.isdir(osp.join(ROOT, DATA_DIR, 'leftImg8bit')):
        run([python, 'tools/make_demo_data.py', '--out', DATA_DIR] + DEMO_DATA_ARGS, env=env)
    else:
        print(f'using the existing demo data in {DATA_DIR}')

    train_cmd = [python, 'tools/train.py', CONFIG, '--work-dir', args.work_dir]
    if args.max_iters is not None:
        n = str(args.max_iters)
        train_cmd += ['--cfg-options', f'runner.max_iters={n}',
                      f'checkpoint_config.interval={n}', f'evaluation.interval={n}']
    run(train_cmd, env=env)
    run(['sh', 'test.sh', args.work_dir], env=env)

    image = sorted(glob.glob(osp.join(ROOT, DATA_DIR, 'leftImg8bit', 'val', '*', '*.png')))[0]
    overlay = osp.join(args.work_dir, 'demo_overlay.png')
    config = osp.join(args.work_dir, osp.basename(CONFIG))
    run([python, 'demo/image_demo.py', image, config, osp.join(args.work_dir, 'latest.pth'),
         '--device', args.device, '--out-file', overlay], env=env)
    print(f'\nquickstart finished in {time.time() - start:.0f} s: run folder {args.work_dir} '
          f'(log, checkpoint, preds/, demo_overlay.png)')


if __name__ == '__main__':
    main()
