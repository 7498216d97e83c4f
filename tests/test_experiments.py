"""The experiment generator (``experiments.py``) and launcher (``run_experiments.py``)
against the authors' configs in ``fixtures/experiments`` (416 configs, 22 IDs)."""
import json
import math
import os.path as osp
import runpy
import subprocess
import sys

import pytest

from config_utils import assert_contains, config_to_plain, decode_fixture

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:  # experiments.py and run_experiments.py live at the root
    sys.path.insert(0, REPO_ROOT)
import run_experiments  # noqa: E402
from experiments import EXPERIMENTS, PAPER_EXPERIMENTS, generate_experiment_cfgs  # noqa: E402

EXP_IDS = sorted(PAPER_EXPERIMENTS)


@pytest.fixture(scope='module')
def experiment_fixtures(fixtures_dir):
    """``{exp_id: (INDEX entry, [config entries])}``."""
    root = fixtures_dir / 'experiments'
    index = json.loads((root / 'INDEX.json').read_text())
    return {entry['exp_id']: (entry, json.loads((root / entry['file']).read_text())['configs'])
            for entry in index['experiments']}


def first_difference(expected, actual, path=''):
    """Dotted path and description of the first difference (exact: same keys, same
    container and value types), or None."""
    where = path or '<root>'
    if type(expected) is not type(actual):
        return f'{where}: expected {type(expected).__name__} {expected!r}, ' \
               f'got {type(actual).__name__} {actual!r}'
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                return f'{path}.{key}: missing (expected {expected[key]!r})'.lstrip('.')
            if key not in expected:
                return f'{path}.{key}: unexpected key ({actual[key]!r})'.lstrip('.')
            diff = first_difference(expected[key], actual[key], f'{path}.{key}'.lstrip('.'))
            if diff:
                return diff
        return None
    if isinstance(expected, (list, tuple)):
        if len(expected) != len(actual):
            return f'{where}: expected {len(expected)} items {expected!r}, got {actual!r}'
        for i, (e, a) in enumerate(zip(expected, actual)):
            diff = first_difference(e, a, f'{path}[{i}]')
            if diff:
                return diff
        return None
    same = expected == actual or (isinstance(expected, float) and math.isnan(expected)
                                  and math.isnan(actual))
    return None if same else f'{where}: expected {expected!r}, got {actual!r}'


def load_python_config(path):
    """Top-level variables of a Python config file, ``_base_`` left unresolved."""
    return {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith('__')}


def resolved_bases(bases, config_dir):
    return [osp.normpath(osp.join(config_dir, base)) for base in bases]


def test_ids_and_counts_match_index(experiment_fixtures):
    assert sorted(experiment_fixtures) == EXP_IDS
    for exp_id, (entry, _) in experiment_fixtures.items():
        assert len(EXPERIMENTS[exp_id].grid) == entry['n_configs'], exp_id
    assert sum(len(e.grid) for e in PAPER_EXPERIMENTS.values()) == 416


@pytest.mark.parametrize('exp_id', EXP_IDS)
def test_generated_configs_equal_fixtures(exp_id, experiment_fixtures):
    entry, configs = experiment_fixtures[exp_id]
    ours = generate_experiment_cfgs(exp_id)
    assert [c['name'] for c in ours] == entry['names']
    assert len(ours) == len(configs)
    for i, (cfg, fixture) in enumerate(zip(ours, configs)):
        diff = first_difference(decode_fixture(fixture['generated']), cfg)
        assert diff is None, f'exp {exp_id} config {i} ({cfg["name"]}): {diff}'


@pytest.fixture(scope='module')
def base_configs_present():
    runtime = osp.join(REPO_ROOT, 'configs', '_base_', 'default_runtime.py')
    if not osp.isfile(runtime):
        pytest.skip(f'{runtime} not found: the _base_ config tree is needed to merge the '
                    'generated configs')


def merge_check_subset(cfgs):
    """Indices of the configs to merge: the first of each distinct config apart from the
    seed (seeds change only ``seed`` and the names) and the last one. Merging all 416
    takes 15-40 s; the exact ``generated`` check above covers all of them."""
    seen, chosen = set(), []
    for i, cfg in enumerate(cfgs):
        content = repr({k: v for k, v in cfg.items() if k != 'seed' and not k.startswith('name')})
        if content not in seen or i == len(cfgs) - 1:
            chosen.append(i)
        seen.add(content)
    return chosen


@pytest.mark.parametrize('exp_id', EXP_IDS)
def test_merged_configs_contain_fixtures(exp_id, experiment_fixtures, base_configs_present,
                                         tmp_path):
    """The generated configs, written as Python files and merged with their ``_base_``
    files by mmcv, hold every key of the authors' merged configs."""
    from mmcv import Config
    _, configs = experiment_fixtures[exp_id]
    cfgs = generate_experiment_cfgs(exp_id)
    for i in merge_check_subset(cfgs):
        cfg, fixture = cfgs[i], configs[i]
        path = tmp_path / f'{i}.py'
        run_experiments.write_config(cfg, str(path))
        merged = config_to_plain(Config.fromfile(str(path)))
        assert_contains(decode_fixture(fixture['merged']), merged, path=cfg['name'])


def test_unknown_id_lists_valid_ids():
    with pytest.raises(ValueError) as info:
        generate_experiment_cfgs(99)
    message = str(info.value)
    assert 'unknown experiment ID 99' in message
    for exp_id, experiment in EXPERIMENTS.items():
        assert f'{exp_id:>4}  ' in message and experiment.description in message


def test_list_prints_ids_descriptions_counts():
    out = subprocess.run([sys.executable, 'run_experiments.py', '--list'], cwd=REPO_ROOT,
                         capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert len(lines) == len(EXPERIMENTS)
    for line, (exp_id, experiment) in zip(lines, EXPERIMENTS.items()):
        assert line.split()[0] == str(exp_id)
        assert f'({len(experiment.grid):>2} configs)' in line
        assert line.endswith(experiment.description)


def test_startup_test_dry_run_writes_configs_and_commands(tmp_path):
    out = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '7', '--startup-test', '--dry-run',
         '--out-dir', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    cfgs = generate_experiment_cfgs(7)
    commands = [line.strip() for line in out.splitlines() if 'tools/train.py' in line]
    assert len(commands) == len(cfgs) == 3
    for cfg, command in zip(cfgs, commands):
        path = tmp_path / '7' / f"{cfg['name']}.py"
        assert f"tools/train.py {path} --work-dir work_dirs/7/{cfg['name']}" in command
        assert command.startswith(sys.executable)
        assert command.endswith('--cfg-options runner.max_iters=2 evaluation.interval=2 '
                                'checkpoint_config.interval=2 data.workers_per_gpu=0 '
                                'log_config.interval=1')
        written = load_python_config(path)
        assert resolved_bases(written.pop('_base_'), path.parent) == \
            resolved_bases(cfg['_base_'], osp.join(REPO_ROOT, 'configs'))
        assert first_difference({k: v for k, v in cfg.items() if k != '_base_'},
                                written) is None


@pytest.mark.parametrize('exp_id,index', [(5, 0), (44, 0), (44, 16), (83, 9)])
def test_written_config_keeps_tuples_inf_none(exp_id, index, tmp_path):
    """rcsinf (float inf), sync/HR crop sizes (tuples), mask_pseudo_threshold=None."""
    cfg = generate_experiment_cfgs(exp_id)[index]
    path = tmp_path / 'cfg.py'
    run_experiments.write_config(cfg, str(path))
    written = load_python_config(path)
    written['_base_'] = cfg['_base_']
    assert first_difference(cfg, written) is None


FAKE_TRAINING = """
import json, os, sys
work_dir = sys.argv[1]
for i in range(300):
    print('mmcv listing line', i)
with open(os.environ['MMSEG_PROGRESS_FILE'], 'w') as f:
    f.write('[###] 2/2 it')
if 'fail' in work_dir:
    print('Traceback: boom', file=sys.stderr)
    sys.exit(3)
with open(os.path.join(work_dir, 'run.log.json'), 'w') as f:
    f.write(json.dumps(dict(mode='val', iter=2, mIoU=0.42)) + '\\n')
"""


def fake_train_command(config_path, work_dir, options):
    return [sys.executable, '-c', FAKE_TRAINING, work_dir]


def test_console_shows_one_line_per_run_and_logs_the_rest(tmp_path, monkeypatch, capsys):
    """Each run's whole output goes to <work dir>/console.log; the console gets one line
    with the run's name, iterations and target mIoU."""
    monkeypatch.setattr(run_experiments, 'REPO_ROOT', str(tmp_path))
    monkeypatch.setattr(run_experiments, 'train_command', fake_train_command)
    monkeypatch.setattr(run_experiments, 'summarize', lambda *args: 'SUMMARY')
    run_experiments.main(['--exp', '7', '--out-dir', str(tmp_path / 'generated')])
    lines = capsys.readouterr().out.strip().splitlines()
    names = [cfg['name'] for cfg in generate_experiment_cfgs(7)]
    assert len(lines) == len(names) + 1 and lines[-1] == 'SUMMARY'
    for i, (line, name) in enumerate(zip(lines, names)):
        assert line.startswith(f'[{i + 1}/{len(names)}] {name} ')
        assert line.endswith('2 it, target mIoU 42.0')
        console_log = (tmp_path / 'work_dirs' / '7' / name / 'console.log').read_text()
        assert 'mmcv listing line 299' in console_log


def test_failed_training_stops_and_names_config(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run_experiments, 'REPO_ROOT', str(tmp_path))
    monkeypatch.setattr(run_experiments, 'train_command', fake_train_command)
    monkeypatch.setattr(run_experiments, 'planned_runs', lambda args: [
        run_experiments.Run('ok', 'ok.py', 'work_dirs/7/ok'),
        run_experiments.Run('fail', 'configs/fail.py', 'work_dirs/7/fail'),
        run_experiments.Run('never', 'never.py', 'work_dirs/7/never')])
    with pytest.raises(SystemExit) as info:
        run_experiments.main(['--exp', '7'])
    message = str(info.value)
    assert 'training of fail failed (exit code 3)' in message
    assert 'config: configs/fail.py' in message and 'work_dirs/7/fail/console.log' in message
    assert 'Traceback: boom' in message  # the end of the output is shown
    assert not (tmp_path / 'work_dirs' / '7' / 'never').exists()
def test_synthshift_experiment_zero(monkeypatch):
    """Experiment 0: a shared source-only pretrain run, then the three methods, which start
    from all of its weights; DACS and HRDA (from the HRDA-layout export) only when asked
    for; ImageNet
    weights, when present, start the pretrain run and enable DAFormer's feature distance."""
    import experiments
    cfgs = generate_experiment_cfgs(0)
    assert [c['name'] for c in cfgs] == [
        'synthshift_pretrain_mitb0_s0', 'synthshift_source_only_mitb0_s0',
        'synthshift_daformer_mitb0_s0', 'synthshift_mic_mitb0_s0']
    assert cfgs[0]['export_hrda_init'] == dict(config='synthshift/hrda.py',
                                               file='hrda_init.pth')
    pretrain_dir = 'work_dirs/0/synthshift_pretrain_mitb0_s0'
    for cfg in cfgs[1:]:
        assert cfg['model']['pretrained'] is None
        assert cfg['load_from'] == f'{pretrain_dir}/latest.pth'
    hrda = generate_experiment_cfgs(0, methods=('hrda',))
    assert [c['method'] for c in hrda] == ['pretrain', 'hrda']
    assert hrda[1]['load_from'] == f'{pretrain_dir}/hrda_init.pth'
    assert generate_experiment_cfgs(0, seed=1)[2]['name'] == 'synthshift_daformer_mitb0_s1'
    monkeypatch.setattr(experiments, 'imagenet_weights_present', lambda: True)
    with_imagenet = generate_experiment_cfgs(0)
    assert with_imagenet[0]['model']['pretrained'] == 'pretrained/mit_b0.pth'
    daformer = next(c for c in with_imagenet if c.get('method') == 'daformer')
    assert daformer['_base_'] == ['synthshift/daformer_fd.py']
    assert daformer['model']['pretrained'] == 'pretrained/mit_b0.pth'


def test_synthshift_runs_in_float32():
    from mmcv import Config

    from mmseg.models.utils.optimization import resolve_optimization
    for method in ('pretrain', 'source_only', 'dacs', 'daformer', 'hrda', 'mic'):
        cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'synthshift', f'{method}.py'))
        assert resolve_optimization(cfg.get('optimization'))['mixed_precision'][
            'enabled'] is False, method


def test_hrda_init_export_keeps_the_source_model(tmp_path, monkeypatch):
    """The HRDA start holds the trained encoder, the trained decoder as HRDA's shared head
    and a fresh scale attention, and loads into the HRDA student without missing keys."""
    import torch
    from mmcv import Config

    from mmseg.models import build_segmentor, build_train_model
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'synthshift', 'pretrain.py'))
    torch.manual_seed(1)
    source = build_train_model(cfg)
    work_dir = tmp_path / 'work_dirs' / 'pretrain'
    work_dir.mkdir(parents=True)
    torch.save({'state_dict': source.state_dict(), 'meta': {}}, work_dir / 'latest.pth')
    monkeypatch.setattr(run_experiments, 'REPO_ROOT', str(tmp_path))
    run = run_experiments.Run('pretrain', 'p.py', 'work_dirs/pretrain', dict(
        seed=0, export_hrda_init=dict(config='synthshift/hrda.py', file='hrda_init.pth')))
    run_experiments.export_hrda_init(run)
    state = torch.load(work_dir / 'hrda_init.pth')['state_dict']
    hrda = build_segmentor(Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'synthshift', 'hrda.py')).model)
    assert sorted(state) == sorted(f'model.{k}' for k in hrda.state_dict())
    trained = source.state_dict()
    assert torch.equal(state['model.backbone.block1.0.attn.q.weight'],
                       trained['model.backbone.block1.0.attn.q.weight'])
    assert torch.equal(state['model.decode_head.head.conv_seg.weight'],
                       trained['model.decode_head.conv_seg.weight'])
    assert any(k.startswith('model.decode_head.scale_attention.') for k in state)


def test_seed_override_only_for_experiment_zero():
    with pytest.raises(ValueError, match='--seed is only for experiment 0'):
        generate_experiment_cfgs(7, seed=3)


def test_methods_select_synthshift_runs():
    """--methods keeps the source model and the named runs in grid order, optional runs
    included; unknown names and paper IDs are refused with the valid choices."""
    cfgs = generate_experiment_cfgs(0, methods=('mic', 'hrda', 'dacs'))
    assert [c['method'] for c in cfgs] == ['pretrain', 'mic', 'dacs', 'hrda']
    with pytest.raises(ValueError, match=r'unknown method\(s\) dafomer; .*mic, dacs, hrda'):
        generate_experiment_cfgs(0, methods=('dafomer',))
    with pytest.raises(ValueError, match='--methods is only for experiment 0'):
        generate_experiment_cfgs(7, methods=('dacs',))


def test_methods_subset_summary_keeps_earlier_runs(tmp_path, monkeypatch):
    """A --methods call tabulates its own runs and the experiment's runs finished by earlier
    calls (with their recorded train time), in grid order; unfinished runs are left out."""
    monkeypatch.setattr(run_experiments, 'REPO_ROOT', str(tmp_path))
    for name, seconds in (('synthshift_daformer_mitb0_s0', 150.0),
                          ('synthshift_mic_mitb0_s0', None)):
        work_dir = tmp_path / 'work_dirs' / '0' / name
        work_dir.mkdir(parents=True)
        (work_dir / 'latest.pth').write_bytes(b'')
        if seconds is not None:
            run_experiments.write_train_time(str(work_dir), seconds)
    (tmp_path / 'work_dirs' / '0' / 'synthshift_source_only_mitb0_s0').mkdir()  # unfinished
    args = run_experiments.parse_args(['--exp', '0', '--methods', 'hrda', '--out-dir',
                                       str(tmp_path / 'generated')])
    runs = run_experiments.planned_runs(args)
    rows = run_experiments.summary_runs(args, runs)
    assert [r.cfg['method'] for r in rows] == ['pretrain', 'daformer', 'mic', 'hrda']
    assert rows[0] is runs[0] and rows[-1] is runs[-1]
    assert [r.train_time for r in rows[1:3]] == [150.0, None]
    full = run_experiments.parse_args(['--exp', '0', '--out-dir', str(tmp_path / 'generated')])
    assert run_experiments.summary_runs(full, runs) is runs


@pytest.mark.parametrize('method', ['pretrain', 'source_only', 'dacs', 'daformer',
                                    'daformer_fd', 'hrda', 'mic'])
def test_synthshift_configs_build(method):
    from mmcv import Config

    from mmseg.models import build_train_model
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'synthshift', f'{method}.py'))
    cfg.model.pretrained = None
    model = build_train_model(cfg)
    assert type(model.get_model().backbone).__name__ == 'mit_b0'
    assert model.source_only == (method in ('pretrain', 'source_only'))
    assert (model.mic is not None) == (method == 'mic')


@pytest.mark.parametrize('exp_id', [130, 131, 132, 133])
def test_ripu_experiment_configs(exp_id, tmp_path):
    """RIPU IDs: RA 2.2% and PA 40 px rows with the official selection; DeepLabV2 (full
    ASPP) on the full-image 1280x640 target bases for the paper, DACS underneath for
    DAFormer / HRDA+MIC (not from the paper)."""
    from mmcv import Config
    cfgs = generate_experiment_cfgs(exp_id)
    assert len(cfgs) == 2
    for cfg, mode in zip(cfgs, ('RA', 'PA')):
        path = tmp_path / f"{cfg['name']}.py"
        run_experiments.write_config(cfg, str(path))
        text = path.read_text().replace("'_base_/", f"'{REPO_ROOT}/configs/_base_/")
        path.write_text(text)
        merged = Config.fromfile(str(path))
        selection = merged.active_selection
        assert merged.uda.type == 'RIPU' and selection.mode == mode
        assert selection.select_iters == [10000, 12000, 14000, 16000, 18000]
        assert selection.schedule_iters == 40000 and selection.select_scale == (1280, 640)
        assert selection.ratio == 0.022 and (mode == 'RA' or selection.pixels == 40)
        assert selection.radius_k == (1 if mode == 'RA' else 32)
        if exp_id in (130, 131):
            assert merged.uda.source_only and merged.uda.lambda_cr == 0.1
            assert merged.uda.lambda_nl == 1.0 and merged.uda.nl_threshold == 0.05
            assert merged.model.decode_head.type == 'DLV2Head'
            assert merged.optimizer.type == 'SGD' and merged.optimizer.lr == 2.5e-4
            assert merged.runner.max_iters == 40000 and merged.data.samples_per_gpu == 2
            target = merged.data.train.target.pipeline
            assert [t['type'] for t in target] == [
                'LoadImageFromFile', 'LoadAnnotations', 'Resize', 'Normalize',
                'DefaultFormatBundle', 'Collect']
            assert target[2]['img_scale'] == (1280, 640)
        else:
            assert not merged.uda.source_only and merged.uda.lambda_cr == 0
            assert merged.uda.alpha == 0.999 and merged.uda.imnet_feature_dist_lambda > 0
            assert (merged.uda.mask_mode is not None) == (exp_id == 133)
