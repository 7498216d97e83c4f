"""Write and train the configs of a paper experiment (see ``experiments.py``).

    python run_experiments.py --list                      # IDs, descriptions, config counts
    python run_experiments.py --exp 0                     # SynthShift on a CPU, ~10 min
    python run_experiments.py --exp 7                     # DAFormer on Synthia->Cityscapes
    python run_experiments.py --exp 7 --startup-test      # each config for 2 iterations
    python run_experiments.py --exp 7 --dry-run           # write configs, print commands
    python run_experiments.py --config configs/hrda/gtaHR2csHR_hrda.py

For ``--exp ID`` every generated config is written to
``configs/generated/<ID>/<name>.py`` and trained in turn with
``tools/train.py <that file> --work-dir work_dirs/<ID>/<name>``; the first failing run
stops the loop. The console shows one line per run (a progress bar on a terminal, then
time, iterations and target mIoU); each run's whole output is in its
``work_dirs/<ID>/<name>/console.log``. ``--startup-test`` and ``--debug`` do not change the written configs: their
settings go to ``tools/train.py --cfg-options``. When all runs are done,
``work_dirs/<ID>/summary.md`` tabulates their target mIoU, per-class IoU and train time
(with ``miou.png``; experiment 0 also draws ``predictions.png``). Experiment 0 first
generates its data (``data/synthshift``) unless a copy by the current generator is there.
"""
import argparse
import importlib.util
import json
import keyword
import math
import os
import os.path as osp
import shlex
import subprocess
import sys
import time

from experiments import (CONFIGS_DIR, EXPERIMENTS, describe_experiments,
                         generate_experiment_cfgs, method_names)

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
    parser.add_argument('--seed', type=int, default=None,
                        help='experiments 0 and 9 only: train with this seed instead of 0')
    parser.add_argument('--methods', type=lambda text: tuple(text.split(',')), default=None,
                        help="experiments 0 and 9 only: the comma-separated methods to train "
                             "(e.g. 'daformer,mic'; 'dacs' and 'hrda' are extras of experiment 0), "
                             'after the source model they start from')
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
    """Write ``cfg`` (``_base_`` paths relative to ``configs/``, or absolute) to ``path``,
    with the ``_base_`` paths made relative to the file's folder so that
    ``mmcv.Config.fromfile`` finds them."""
    out_dir = osp.dirname(osp.abspath(path))
    cfg = dict(cfg)
    if '_base_' in cfg:
        cfg['_base_'] = [osp.relpath(osp.join(CONFIGS_DIR, base), out_dir)
                         for base in cfg['_base_']]
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


class Run:
    """One training run: its name, config file, work dir and generated config dict."""

    def __init__(self, name, config_path, work_dir, cfg=None):
        self.name, self.config_path, self.work_dir = name, config_path, work_dir
        self.cfg = cfg or {}
        self.train_time = None


def planned_runs(args):
    """The :class:`Run` of each config; writes the generated configs."""
    if args.config is not None:
        if not osp.isfile(args.config):
            raise SystemExit(f'run_experiments.py: config file not found: {args.config}')
        name = osp.splitext(osp.basename(args.config))[0]
        return [Run(name, repo_path(args.config), osp.join('work_dirs', name))]
    try:
        cfgs = generate_experiment_cfgs(args.exp, args.seed, args.methods)
    except ValueError as error:
        raise SystemExit(f'run_experiments.py: {error}')
    runs = []
    for i, cfg in enumerate(cfgs):
        path = osp.join(args.out_dir, str(args.exp), f"{cfg['name']}.py")
        write_config(cfg, path, header=(
            f'Experiment {args.exp}, config {i + 1} of {len(cfgs)}: '
            f'{EXPERIMENTS[args.exp].description}\n'
            f'Generated by run_experiments.py from experiments.py; regenerate instead of '
            'editing.'))
        runs.append(Run(cfg['name'], repo_path(path),
                        cfg.get('work_dir', osp.join('work_dirs', str(args.exp), cfg['name'])),
                        cfg))
    return runs


SYNTHSHIFT_DATA = osp.join('data', 'synthshift')
SYNTHSHIFT_GENERATOR = osp.join('tools', 'convert_datasets', 'synthshift.py')
METHOD_LABELS = {'source_only': 'source-only', 'dacs': 'DACS', 'daformer': 'DAFormer',
                 'hrda': 'HRDA', 'mic': 'MIC', 'labelshift_cda': 'alignment',
                 'labelshift_cr': 'alignment+CR'}
# RIPU rows of experiment 9 (DAFormer + actively labelled target pixels).
METHOD_LABELS.update(ripu_ra='DAFormer+RIPU RA 2.2%', ripu_pa='DAFormer+RIPU PA 40px',
                     random_ra='DAFormer+random RA 2.2%')
METHOD_LABELS.update(advseg='AdvSeg', cpsl='CPSL')
SYNTHSHIFT_EXPERIMENT_IDS = (0, 9)


def ensure_synthshift_data():
    """Generate ``data/synthshift`` for experiment 0 unless a complete copy made by the
    current generator version is there (of any size: users may generate a custom one)."""
    manifest_file = osp.join(REPO_ROOT, SYNTHSHIFT_DATA, 'synthshift.json')
    if osp.isfile(manifest_file):
        with open(manifest_file) as f:
            params = json.load(f).get('params', {})
        if params.get('version') == synthshift_generator_version():
            print(f"using the SynthShift data in {SYNTHSHIFT_DATA} (generator version "
                  f"{params['version']}, seed {params.get('seed')})", flush=True)
            return
    cmd = [sys.executable, SYNTHSHIFT_GENERATOR, '--out', SYNTHSHIFT_DATA]
    print(f'generating the SynthShift data in {SYNTHSHIFT_DATA} ...', end=' ', flush=True)
    start = time.time()
    result = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f'\nrun_experiments.py: {shlex.join(cmd)} failed (exit code '
                         f'{result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}')
    print(f'done in {time.time() - start:.0f} s', flush=True)


def synthshift_generator_version():
    spec = importlib.util.spec_from_file_location(
        'synthshift', osp.join(REPO_ROOT, SYNTHSHIFT_GENERATOR))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VERSION


# HRDA's shared head is the single-scale decoder: the source model's decoder goes there.
SINGLE_SCALE_TO_HRDA_HEAD_KEYS = ((r'^model\.decode_head\.', 'model.decode_head.head.'),)


def export_hrda_init(run):
    """Write ``<work dir>/<cfg['export_hrda_init']['file']>``: ``run``'s trained student as
    the start of an HRDA student (config ``cfg['export_hrda_init']['config']``) — encoder
    as it is, decoder as HRDA's shared head, the scale attention freshly initialised
    (seeded). A ``load_from`` checkpoint (``state_dict`` with ``model.*`` keys)."""
    import torch
    from mmcv import Config

    from mmseg.models import build_segmentor
    from mmseg.utils.checkpoint import (atomic_save, extract_state_dict, load_weights_file,
                                        revise_keys, shape_mismatches)
    spec = run.cfg['export_hrda_init']
    work_dir = osp.join(REPO_ROOT, run.work_dir)
    source = osp.join(work_dir, 'latest.pth')
    trained = revise_keys(extract_state_dict(load_weights_file(source, 'checkpoint')),
                          SINGLE_SCALE_TO_HRDA_HEAD_KEYS)
    hrda_model = Config.fromfile(osp.join(CONFIGS_DIR, spec['config'])).model
    hrda_model.pretrained = None
    torch.manual_seed(run.cfg.get('seed', 0))
    fresh = {f'model.{k}': v for k, v in build_segmentor(hrda_model).state_dict().items()}
    mismatches = shape_mismatches(fresh, trained)
    if mismatches:
        raise SystemExit(f'run_experiments.py: {source} does not fit {spec["config"]}: '
                         f'shape mismatches {mismatches[:5]}')
    state = {k: trained.get(k, v) for k, v in fresh.items()}
    out = osp.join(work_dir, spec['file'])
    atomic_save({'state_dict': state, 'meta': dict(source=repo_path(source))}, out)


def label_shift_file(run):
    from experiments import LABEL_SHIFT_FILE
    return osp.join(run.work_dir, LABEL_SHIFT_FILE)


def estimate_label_shift(run):
    """``<work dir>/label_shift.json`` of ``run``'s checkpoint (tools/estimate_label_shift.py
    with ``cfg['estimate_label_shift']``'s ``min_pixels`` as n_s and its ``weights``,
    student by default), output in its console.log."""
    config = osp.join(run.work_dir, osp.basename(run.config_path))
    run_tool(run, [osp.join('tools', 'estimate_label_shift.py'), config,
                   osp.join(run.work_dir, 'latest.pth'), '--out', label_shift_file(run),
                   '--min-pixels', str(run.cfg['estimate_label_shift']['min_pixels']),
                   '--weights', run.cfg['estimate_label_shift'].get('weights', 'student')],
             'label-shift estimate')


def cpsl_prepare(run):
    """``<work dir>/cpsl_prepare`` (tools/cpsl_prepare.py: P_ST, class prior, prototypes)
    from ``run``'s checkpoint, for the CPSL run that starts from it; output in its
    console.log."""
    from experiments import CPSL_PREPARE_DIR
    config = osp.join(run.work_dir, osp.basename(run.config_path))
    run_tool(run, [osp.join('tools', 'cpsl_prepare.py'), config,
                   osp.join(run.work_dir, 'latest.pth'), '--out',
                   osp.join(run.work_dir, CPSL_PREPARE_DIR)], 'CPSL prepare step')


# ---------------------------------------------------------------------------------------
# ProCST: the translator and the translated source a run trains on (cfg key
# ``translate_source``, see experiments.procst_translation)
# ---------------------------------------------------------------------------------------

TRANSLATOR_SCRIPT = osp.join('tools', 'procst', 'train.py')
TRANSLATE_SCRIPT = osp.join('tools', 'procst', 'translate.py')
TRANSLATION_STATS_FILE = 'translation_stats.json'
# --startup-test: 2 steps per translator level.
TRANSLATOR_STARTUP_OPTIONS = {
    'max_steps_per_scale': 2,
    'data.workers_per_gpu': 0,
    'log_interval': 1,
    'image_interval': 2,
}
METHOD_LABELS.update(procst='ProCST translator', procst_daformer='DAFormer on ProCST SiT')


def translation_row(run):
    """A row that only translates (``translate_source`` and nothing else to train)."""
    return 'translate_source' in run.cfg and '_base_' not in run.cfg


def prepare_translated_source(run, args):
    """Train ``run``'s translator unless its work dir has ``latest.pth`` (``retrain``: the
    translator and its images made afresh), translate the source images (finished ones are
    skipped) and, with a ``target_dir``, write the colour statistics of source, translated
    source and target (``translation_stats.json``). Output: the translator's console.log. Returns the
    seconds it took."""
    import shutil
    spec = run.cfg['translate_source']
    work_dir = osp.join(REPO_ROOT, spec['work_dir'])
    checkpoint = osp.join(spec['work_dir'], 'latest.pth')
    if spec.get('retrain'):
        shutil.rmtree(work_dir, ignore_errors=True)
        shutil.rmtree(osp.join(REPO_ROOT, spec['out_dir']), ignore_errors=True)
    os.makedirs(work_dir, exist_ok=True)
    console_log = osp.join(work_dir, 'console.log')
    start = time.time()
    if not osp.isfile(osp.join(REPO_ROOT, checkpoint)):
        options = dict(spec.get('cfg_options', {}))
        if args.startup_test:
            options.update(TRANSLATOR_STARTUP_OPTIONS)
        cmd = [TRANSLATOR_SCRIPT, spec['config'], '--work-dir', spec['work_dir']]
        if options:
            cmd += ['--cfg-options', *[f'{k}={v}' for k, v in options.items()]]
        run_logged(cmd, console_log, f'translator training for {run.name}')
        write_train_time(work_dir, time.time() - start)
    run_logged([TRANSLATE_SCRIPT, checkpoint, spec['source_dir'], spec['out_dir']], console_log,
               f'source translation for {run.name}')
    if spec.get('target_dir'):
        from mmseg.utils.image_statistics import channel_statistics, statistics_distance
        stats = {name: channel_statistics(osp.join(REPO_ROOT, spec[key])) for name, key in
                 (('source', 'source_dir'), ('translated', 'out_dir'), ('target', 'target_dir'))}
        for name in ('source', 'translated'):
            stats[name]['distance_to_target'] = statistics_distance(stats[name], stats['target'])
        from mmcv import Config
        stats['feature_extractor'] = Config.fromfile(osp.join(
            REPO_ROOT, spec['config'])).style_loss.feature_extractor.type
        with open(osp.join(work_dir, TRANSLATION_STATS_FILE), 'w') as f:
            json.dump(stats, f, indent=1)
    return time.time() - start


def run_logged(args, console_log, what):
    """``python args...`` in the repository, appended to ``console_log``."""
    cmd = [sys.executable, *args]
    with open(console_log, 'a') as log:
        log.write(shlex.join(cmd) + '\n')
        log.flush()
        code = subprocess.call(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        with open(console_log) as f:
            tail = ''.join(f.readlines()[-30:])
        raise SystemExit(f'{tail}\nrun_experiments.py: the {what} failed (exit code {code}); '
                         f'output: {repo_path(console_log)}')


def stand_in_note(extractor_type):
    """What a VGG16 stand-in of the style/content loss is (its ``STAND_IN``); None for
    VGG16 itself."""
    from mmseg.models.translation import TRANSLATION
    return getattr(TRANSLATION.get(extractor_type), 'STAND_IN', None)


def translation_section(runs):
    """Markdown: per-channel colour mean/std of the source, the translated source and the
    target, with the distance of each to the target."""
    lines = []
    for r in runs:
        path = osp.join(REPO_ROOT, r.cfg['translate_source']['work_dir'], TRANSLATION_STATS_FILE)
        with open(path) as f:
            stats = json.load(f)
        extractor = stats['feature_extractor']
        stand_in = stand_in_note(extractor)
        lines += [f"## ProCST translation ({r.name})", '',
                  f'Style/content features: {extractor}' + (
                      f' — {stand_in}, a stand-in for ImageNet VGG16, which cannot be '
                      'downloaded here' if stand_in else ''), '',
                  '| image set | images | mean R, G, B | std R, G, B | distance to target |',
                  '|---|---|---|---|---|']
        for name in ('source', 'translated', 'target'):
            s = stats[name]
            distance = f"{s['distance_to_target']:.2f}" if name != 'target' else '-'
            lines.append(f"| {name} | {s['images']} | "
                         + ', '.join(f'{v:.1f}' for v in s['mean']) + ' | '
                         + ', '.join(f'{v:.1f}' for v in s['std']) + f' | {distance} |')
        lines.append('')
    return '\n'.join(lines)


def run_tool(run, args, what):
    """``python args...`` in the repository, appended to ``run``'s console.log."""
    cmd = [sys.executable, *args]
    console_log = osp.join(REPO_ROOT, run.work_dir, 'console.log')
    with open(console_log, 'a') as log:
        log.write(shlex.join(cmd) + '\n')
        log.flush()
        code = subprocess.call(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        raise SystemExit(f'run_experiments.py: the {what} of {run.name} failed (exit code '
                         f'{code}); output: {repo_path(console_log)}')


def inference_adjusted_result(run, label):
    """``run`` evaluated with Inference Adjustment (tools/test.py --label-shift) →
    RunResult; the metrics go to ``<work dir>/ia/``."""
    import glob

    from mmseg.utils.experiment_summary import RunResult
    out_dir = osp.join(run.work_dir, 'ia')
    config = osp.join(run.work_dir, osp.basename(run.config_path))
    run_tool(run, [osp.join('tools', 'test.py'), config, osp.join(run.work_dir, 'latest.pth'),
                   '--eval', 'mIoU', '--label-shift', label_shift_file(run), '--work-dir',
                   out_dir, '--device', 'cpu'], 'IA evaluation')
    newest = sorted(glob.glob(osp.join(REPO_ROOT, out_dir, 'eval_single_scale_*.json')))[-1]
    with open(newest) as f:
        metric = json.load(f)['metric']
    class_iou = {k[len('IoU.'):]: v for k, v in metric.items() if k.startswith('IoU.')}
    return RunResult(label, osp.join(REPO_ROOT, run.work_dir), None, metric['mIoU'], class_iou)


def true_target_prior(record):
    """The image-level prior of the target-train labels (``sample_class_stats.json`` of
    the target), with the estimate's n_s and pseudo-count."""
    from mmseg.models.uda.label_shift import source_label_prior
    stats = osp.join(REPO_ROOT, SYNTHSHIFT_DATA, 'cityscapes', 'sample_class_stats.json')
    with open(stats) as f:
        return source_label_prior(json.load(f), record['num_classes'], record['min_pixels'],
                                  record['pseudo_count']).tolist()


def label_prior_section(runs):
    """Markdown: P_s, each run's estimated P_t and the true target-train prior per class,
    with the L1 distances to the true prior."""
    records = {}
    for r in runs:
        with open(osp.join(REPO_ROOT, label_shift_file(r))) as f:
            records[METHOD_LABELS.get(r.cfg['method'], r.name)] = json.load(f)
    first = next(iter(records.values()))
    true = true_target_prior(first)
    columns = [('P_s (source labels)', first['source_prior'])] + [
        (f'P_t est. ({name})', rec['target_prior']) for name, rec in records.items()] + [
        ('P_t true (target-train labels)', true)]
    lines = ['## Label distributions (image-level priors, n_s = '
             f"{first['min_pixels']} px, pseudo-count {first['pseudo_count']})", '',
             '| class | ' + ' | '.join(name for name, _ in columns) + ' |',
             '|---|' + '---|' * len(columns)]
    for k, cls in enumerate(first['classes']):
        lines.append(f'| {cls} | ' + ' | '.join(f'{prior[k]:.3f}' for _, prior in columns)
                     + ' |')
    lines.append('| **L1 to true P_t** | ' + ' | '.join(
        f'{sum(abs(a - b) for a, b in zip(prior, true)):.3f}' for _, prior in columns) + ' |')
    return '\n'.join(lines) + '\n'


def summarize(exp, runs, seed=None):
    """``work_dirs/<exp>/summary.md`` (``work_dirs/<exp>/seed<N>/`` with ``--seed N``), plus
    its plots, for the finished runs; returns the Markdown."""
    from mmseg.utils.experiment_summary import read_run, write_summary
    translations = [r for r in runs if translation_row(r)]
    methods = [r for r in runs if r.cfg.get('method') != 'pretrain' and not translation_row(r)]
    trained = [read_run(METHOD_LABELS.get(r.cfg.get('method'), r.name),
                        osp.join(REPO_ROOT, r.work_dir), r.train_time) for r in methods]
    results, sections = [], []
    estimated = [r for r in methods if 'estimate_label_shift' in r.cfg]
    for res, r in zip(trained, methods):  # each estimated run followed by its IA row
        results.append(res)
        if r in estimated:
            results.append(inference_adjusted_result(r, f'{res.label}+IA'))
    if estimated:
        sections.append(label_prior_section(estimated))
    if translations:
        sections.append(translation_section(translations))
    baseline = next((res for res, r in zip(trained, methods)
                     if r.cfg.get('method') == 'source_only'), None)
    overlays = None
    if exp in SYNTHSHIFT_EXPERIMENT_IDS:  # the config as tools/train.py saved it
        configs = {res.work_dir: osp.join(res.work_dir, osp.basename(r.config_path))
                   for res, r in zip(trained, methods)}
        overlays = dict(config_of=lambda res: configs[res.work_dir], results=trained,
                        **synthshift_val_samples(3))
    environment = compute_environment_lines(osp.join(  # the copy in the work dir
        methods[0].work_dir, osp.basename(methods[0].config_path))) if methods else []
    title = f'Experiment {exp}: {EXPERIMENTS[exp].description}'
    if seed is not None:
        title += f' (seed {seed})'
    out_dir = osp.join(REPO_ROOT, 'work_dirs', str(exp), *([f'seed{seed}'] if seed is not None
                                                             else []))
    if not results:  # translation rows only: their sections, no mIoU table
        os.makedirs(out_dir, exist_ok=True)
        markdown = '\n'.join([f'# {title}', '', *sections])
        with open(osp.join(out_dir, 'summary.md'), 'w') as f:
            f.write(markdown)
        return markdown
    return write_summary(out_dir, title, results, baseline, overlays, environment, sections)


def compute_environment_lines(config_path):
    """Precision, CPU kind, threads and torch version of this machine for the runs of
    ``config_path`` — float results and times depend on them."""
    from mmcv import Config

    from mmseg.models.utils.optimization import resolve_optimization
    from mmseg.models.utils.precision import compute_environment, precision_name
    cfg = Config.fromfile(osp.join(REPO_ROOT, config_path))
    mixed = resolve_optimization(cfg.get('optimization'))['mixed_precision']
    env = compute_environment()
    return [f"precision: {precision_name(mixed['enabled'], mixed['dtype'])} "
            f"(optimization.mixed_precision.enabled={mixed['enabled']!r}; numbers in "
            'another precision differ)',
            f"CPU: ATen capability {env['cpu_capability']}, native bfloat16 "
            f"{'yes' if env['cpu_native_bf16'] else 'no'}, {env['threads']} threads; "
            f"GPU: {env['gpu'] or 'none'}",
            f"torch {env['torch']}"]


def synthshift_val_samples(count):
    import glob
    images = sorted(glob.glob(osp.join(REPO_ROOT, SYNTHSHIFT_DATA, 'cityscapes', 'leftImg8bit',
                                       'val', '*', '*_leftImg8bit.png')))[:count]
    labels = [img.replace('leftImg8bit', 'gtFine', 1).replace(
        '_leftImg8bit.png', '_gtFine_labelTrainIds.png') for img in images]
    return dict(images=images, labels=labels)


def train(run, cmd, label):
    """Run ``cmd`` (tools/train.py) for ``run`` with its whole output in
    ``<work dir>/console.log``; the console gets one line: a progress bar while it trains
    (on a terminal), then iterations, time and target mIoU."""
    from mmseg.core.progress_bar_hook import PROGRESS_FILE_ENV
    work_dir = osp.join(REPO_ROOT, run.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    console_log = osp.join(work_dir, 'console.log')
    progress_file = osp.join(work_dir, 'progress.txt')
    interactive = sys.stdout.isatty()
    print(label, end=' ' if not interactive else '', flush=True)
    start = time.time()
    with open(console_log, 'w') as log:
        log.write(shlex.join(cmd) + '\n')
        log.flush()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, **{PROGRESS_FILE_ENV: progress_file}))
        while proc.poll() is None:
            time.sleep(0.5)
            if interactive and osp.isfile(progress_file):
                with open(progress_file) as f:
                    print(f'\r{label} {f.read()}', end='', flush=True)
    run.train_time = time.time() - start
    write_train_time(work_dir, run.train_time)
    if interactive:
        print(f'\r\033[K{label}', end=' ')
    if proc.returncode != 0:
        with open(console_log) as f:
            tail = ''.join(f.readlines()[-40:])
        raise SystemExit(f'failed\n{tail}\nrun_experiments.py: training of {run.name} failed '
                         f'(exit code {proc.returncode}); config: {run.config_path}, full '
                         f'output: {repo_path(console_log)}')
    print(f'{run.train_time / 60:.1f} min, {final_validation_text(work_dir)}', flush=True)


TRAIN_TIME_FILE = 'train_time.json'


def write_train_time(work_dir, seconds):
    """``<work dir>/train_time.json``: the wall time of the run's training, for summaries
    written by later calls."""
    with open(osp.join(work_dir, TRAIN_TIME_FILE), 'w') as f:
        json.dump({'seconds': seconds}, f)


def read_train_time(work_dir):
    """The seconds in ``<work dir>/train_time.json``, None when it is missing."""
    path = osp.join(REPO_ROOT, work_dir, TRAIN_TIME_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)['seconds']


def summary_runs(args, runs):
    """The runs that ``work_dirs/<exp>/summary.md`` tabulates: ``runs``, and with
    ``--methods`` also every other run of the experiment (same seed) that an earlier call
    finished, in grid order, so that training a subset adds rows to the table instead of
    replacing it."""
    if args.methods is None:
        return runs
    this_call = {run.name: run for run in runs}
    every = []
    for cfg in generate_experiment_cfgs(args.exp, args.seed, method_names(EXPERIMENTS[args.exp])):
        work_dir = cfg.get('work_dir', osp.join('work_dirs', str(args.exp), cfg['name']))
        if cfg['name'] in this_call:
            every.append(this_call[cfg['name']])
        elif osp.isfile(osp.join(REPO_ROOT, work_dir, 'latest.pth')):
            earlier = Run(cfg['name'], repo_path(osp.join(args.out_dir, str(args.exp),
                                                          f"{cfg['name']}.py")), work_dir, cfg)
            earlier.train_time = read_train_time(work_dir)
            every.append(earlier)
    return every


def final_validation_text(work_dir):
    from mmseg.utils.experiment_summary import last_validation
    try:
        val = last_validation(work_dir)
    except (FileNotFoundError, ValueError):
        return 'no evaluation'
    return f"{val.get('iter', '?')} it, target mIoU {100 * val['mIoU']:.1f}"


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
    if args.exp in SYNTHSHIFT_EXPERIMENT_IDS and not args.dry_run:
        ensure_synthshift_data()
    for i, run in enumerate(runs):
        cmd = train_command(run.config_path, run.work_dir, options)
        label = f'[{i + 1}/{len(runs)}] {run.name}'
        if args.dry_run:
            print(f'{label}\n  {shlex.join(cmd)}', flush=True)
            continue
        if 'translate_source' in run.cfg:
            seconds = prepare_translated_source(run, args)
            if translation_row(run):
                run.train_time = seconds
                print(f'{label} {run.train_time / 60:.1f} min, translated source in '
                      f"{run.cfg['translate_source']['out_dir']}", flush=True)
                continue
        if run.cfg.get('reuse_trained') and osp.isfile(
                osp.join(REPO_ROOT, run.work_dir, 'latest.pth')):
            print(f'{label} reused ({run.work_dir}), '
                  f'{final_validation_text(osp.join(REPO_ROOT, run.work_dir))}', flush=True)
            continue
        train(run, cmd, label)
        if 'export_hrda_init' in run.cfg:
            export_hrda_init(run)
        if 'estimate_label_shift' in run.cfg:
            estimate_label_shift(run)
        if 'cpsl_prepare' in run.cfg:
            cpsl_prepare(run)
    if args.exp is not None and not args.dry_run:
        print(summarize(args.exp, summary_runs(args, runs), args.seed), flush=True)


if __name__ == '__main__':
    main()
