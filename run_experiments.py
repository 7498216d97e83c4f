"""Write and train the configs of a paper experiment (see ``experiments.py``).

    python run_experiments.py --list                      # IDs, descriptions, config counts
    python run_experiments.py --exp 7                     # DAFormer on Synthia->Cityscapes
    python run_experiments.py --exp 7 --startup-test      # each config for 2 iterations
    python run_experiments.py --exp 7 --dry-run           # write configs, print commands
    python run_experiments.py --config configs/hrda/gtaHR2csHR_hrda.py

For ``--exp ID`` every generated config is written to
``configs/generated/<ID>/<name>.py`` and trained in turn with
``tools/train.py <that file> --work-dir work_dirs/<ID>/<name>``; the first failing run
stops the loop. ``--startup-test`` and ``--debug`` do not change the written configs: their
settings go to ``tools/train.py --cfg-options``.
"""
import argparse
import keyword
import math
import os
import os.path as osp
import shlex
import subprocess
import sys

from experiments import CONFIGS_DIR, EXPERIMENTS, describe_experiments, generate_experiment_cfgs

REPO_ROOT = osp.dirname(osp.abspath(__file__))
TRAIN_SCRIPT = osp.join('tools', 'train.py')

# Each config runs 2 iterations: a check that all configs build, load data and train.
STARTUP_TEST_OPTIONS = {
    'runner.max_iters': 2,
    'evaluation.interval': 2,
    'checkpoint_config.interval': 2,
    'data.workers_per_gpu': 0,
    'log_config.interval': 1,
}
# Frequent logs and UDA debug images, for looking into a run.
DEBUG_OPTIONS = {
    'log_config.interval': 10,
    'log_config.img_interval': 10,
    'evaluation.interval': 200,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write and train the configs of a DAFormer/HRDA/MIC experiment.')
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument('--exp', type=int, help='experiment ID (see --list)')
    what.add_argument('--config', help='train a single config file instead')
    what.add_argument('--list', action='store_true',
                      help='print the experiment IDs with description and config count')
    parser.add_argument('--machine', choices=['local'], default='local',
                        help='where to train (runs one after the other on this machine)')
    parser.add_argument('--debug', action='store_true',
                        help='log every 10 iterations, debug images every 10, '
                             'evaluation every 200')
    parser.add_argument('--startup-test', action='store_true',
                        help='run each config for 2 iterations only (evaluation and '
                             'checkpoint at iteration 2, no data workers, log every iteration)')
    parser.add_argument('--dry-run', action='store_true',
                        help='write the configs and print the training commands, '
                             'without running them')
    parser.add_argument('--out-dir', default=osp.join(CONFIGS_DIR, 'generated'),
                        help='where the generated configs go (default: configs/generated); '
                             'files are written to <out-dir>/<exp>/<name>.py')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------------------
# Writing a config dict as a Python config file
# ---------------------------------------------------------------------------------------
# mmcv's Config.dump writes `inf` for float('inf') (the class_temp of the `rcsinf`
# configs), which does not load again; this writer keeps every value, tuples included.

LINE_WIDTH = 88


def _format_inline(value):
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_format_inline(v)}' for k, v in value.items()) + ')' \
            if all(_is_keyword_name(k) for k in value) else \
            '{' + ', '.join(f'{k!r}: {_format_inline(v)}' for k, v in value.items()) + '}'
    if isinstance(value, list):
        return '[' + ', '.join(_format_inline(v) for v in value) + ']'
    if isinstance(value, tuple):
        items = [_format_inline(v) for v in value]
        return '(' + ', '.join(items) + (',)' if len(items) == 1 else ')')
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    return repr(value)


def _is_keyword_name(key):
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def format_value(value, indent=0, column=0):
    """Python source of ``value`` starting at ``column`` of a line indented by ``indent``;
    containers that do not fit on the line are split one item per line."""
    inline = _format_inline(value)
    if column + len(inline) <= LINE_WIDTH or not isinstance(value, (dict, list, tuple)) \
            or not value:
        return inline
    inner = indent + 4
    if isinstance(value, dict) and all(_is_keyword_name(k) for k in value):
        items = [f'{k}={format_value(v, inner, inner + len(k) + 1)}' for k, v in value.items()]
        opening, closing = 'dict(', ')'
    elif isinstance(value, dict):
        items = [f'{k!r}: {format_value(v, inner, inner + len(repr(k)) + 2)}'
                 for k, v in value.items()]
        opening, closing = '{', '}'
    else:
        items = [format_value(v, inner, inner) for v in value]
        opening, closing = ('[', ']') if isinstance(value, list) else ('(', ')')
    body = ''.join(f"\n{' ' * inner}{item}," for item in items)
    return f"{opening}{body}\n{' ' * indent}{closing}"


def config_source(cfg, header=''):
    """A Python config file defining each key of ``cfg`` at top level."""
    lines = [f'# {line}' for line in header.splitlines()]
    lines += [f'{key} = {format_value(value, 0, len(key) + 3)}' for key, value in cfg.items()]
    return '\n'.join(lines) + '\n'


def write_config(cfg, path, header=''):
    """Write ``cfg`` (``_base_`` paths relative to ``configs/``) to ``path``, with the
    ``_base_`` paths made relative to the file's folder so that ``mmcv.Config.fromfile``
    finds them."""
    out_dir = osp.dirname(osp.abspath(path))
    to_configs = osp.relpath(CONFIGS_DIR, out_dir)
    cfg = dict(cfg)
    if '_base_' in cfg:
        cfg['_base_'] = [osp.join(to_configs, base) for base in cfg['_base_']]
    os.makedirs(out_dir, exist_ok=True)
    with open(path, 'w') as f:
        f.write(config_source(cfg, header))


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------

def cfg_options(args):
    options = {}
    if args.debug:
        options.update(DEBUG_OPTIONS)
    if args.startup_test:
        options.update(STARTUP_TEST_OPTIONS)
    return [f'{key}={value}' for key, value in options.items()]


def train_command(config_path, work_dir, options):
    cmd = [sys.executable, TRAIN_SCRIPT, config_path, '--work-dir', work_dir]
    if options:
        cmd += ['--cfg-options', *options]
    return cmd


def repo_path(path):
    """``path`` relative to the repository root (training runs there) when inside it."""
    path = osp.abspath(path)
    relative = osp.relpath(path, REPO_ROOT)
    return path if relative.startswith(os.pardir) else relative


def planned_runs(args):
    """``(name, config path, work dir)`` of each run; writes the generated configs."""
    if args.config is not None:
        if not osp.isfile(args.config):
            raise SystemExit(f'run_experiments.py: config file not found: {args.config}')
        name = osp.splitext(osp.basename(args.config))[0]
        return [(name, repo_path(args.config), osp.join('work_dirs', name))]
    cfgs = generate_experiment_cfgs(args.exp)
    runs = []
    for i, cfg in enumerate(cfgs):
        path = osp.join(args.out_dir, str(args.exp), f"{cfg['name']}.py")
        write_config(cfg, path, header=(
            f'Experiment {args.exp}, config {i + 1} of {len(cfgs)}: '
            f'{EXPERIMENTS[args.exp].description}\n'
            f'Generated by run_experiments.py from experiments.py; regenerate instead of '
            'editing.'))
        runs.append((cfg['name'], repo_path(path), osp.join('work_dirs', str(args.exp), cfg['name'])))
    return runs


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        print(describe_experiments())
        return
    if args.exp is not None and args.exp not in EXPERIMENTS:
        raise SystemExit(f'run_experiments.py: unknown experiment ID {args.exp}; valid IDs:\n'
                         + describe_experiments())
    runs = planned_runs(args)
    options = cfg_options(args)
    for i, (name, config_path, work_dir) in enumerate(runs):
        cmd = train_command(config_path, work_dir, options)
        print(f'[{i + 1}/{len(runs)}] {name}\n  {shlex.join(cmd)}', flush=True)
        if args.dry_run:
            continue
        result = subprocess.run(cmd, cwd=REPO_ROOT)
        if result.returncode != 0:
            raise SystemExit(f'run_experiments.py: training of {name} failed (exit code '
                             f'{result.returncode}); config: {config_path}, work dir: '
                             f'{work_dir}. Runs not started: {len(runs) - i - 1}.')


if __name__ == '__main__':
    main()
