"""Resuming a UDA run is the run that would have happened.

Tiny DAFormer UDA runs (DACS with the thing-class feature distance; MIC with its own
teacher) on synthetic data, through ``tools/train.py``: 6 iterations straight against 3,
an interruption, and 3 more after ``--resume-from`` / ``--auto-resume`` give bit-identical
weights (student, teachers, ImageNet copy) and identical logged losses, without and with
data-loader workers (which draw the same samples as the main process). A process killed
with SIGKILL in the middle of a save leaves the previous checkpoint loadable and
``--auto-resume`` finishes the run, again identically. Bad inputs (missing, truncated,
foreign checkpoints) stop with an error naming the file and write nothing.

The runs call ``tools/train.py``'s ``main`` in this process (the import cost is paid once),
except the killed one, a subprocess.
"""
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import torch
from mmcv.runner import HOOKS, Hook, iter_based_runner

from test_e2e_supervised import REPO, TINY_CONFIG, run
from test_tools_train_uda import UDA_CONFIG

MAX_ITERS = 6
# The UDA run of test_tools_train_uda with DAFormer's self-training (EMA teacher 0.999,
# thing-class feature distance, hence an ImageNet copy), evaluation and checkpoints every
# 3 iterations.
DAFORMER_UDA_CONFIG = UDA_CONFIG.replace('uda/dacs.py', 'uda/dacs_a999_fdthings.py') + f"""
runner = dict(max_iters={MAX_ITERS})
checkpoint_config = dict(interval=3, max_keep_ckpts=-1)
evaluation = dict(interval=3)
log_config = dict(interval=1, img_interval=0)
"""
# MIC with its own EMA teacher (mask_alpha differs from alpha=0.999), block masks sized
# for the 64x64 crops; without the feature distance, to save time.
MIC = """
uda = dict(mask_mode='separate', mask_alpha=0.99, mask_pseudo_threshold='same',
           mask_lambda=1, imnet_feature_dist_lambda=0,
           mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7,
                               mask_block_size=16))
"""
WITH_WORKERS = """
_base_ = ['{config}']
data = dict(workers_per_gpu=2)
"""
INTERRUPT = """
_base_ = ['{config}']
custom_hooks = [dict(type='InterruptBeforeIteration', iteration={iteration})]
"""
# Log fields that legitimately differ between runs: timings, and mmcv's epoch counter
# (its IterLoader counts epochs from 0 again in every process).
UNSTABLE_LOG_KEYS = ('time', 'data_time', 'memory', 'eta', 'epoch')


class Interrupted(Exception):
    pass


@HOOKS.register_module(force=True)
class InterruptBeforeIteration(Hook):
    """Stops the run (like a kill) before 0-based ``iteration``, after the previous
    iteration's checkpoint was written."""

    def __init__(self, iteration):
        self.iteration = iteration

    def before_train_iter(self, runner):
        if runner.iter == self.iteration:
            raise Interrupted(f'interrupted before iteration {self.iteration + 1}')


def load_train_tool():
    spec = importlib.util.spec_from_file_location('tools_train', REPO / 'tools' / 'train.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_tool = load_train_tool()


def train(config, work_dir, *args):
    """``tools/train.py config --work-dir work_dir args`` in this process."""
    train_tool.main([str(config), '--work-dir', str(work_dir), *map(str, args)])


def train_until_interrupted(config, work_dir, iteration, *args):
    interrupted = config.with_name(config.stem + f'_stop{iteration}.py')
    interrupted.write_text(INTERRUPT.format(config=config, iteration=iteration))
    with pytest.raises(Interrupted):
        train(interrupted, work_dir, *args)


def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)


def assert_same_weights(path_a, path_b):
    a, b = load(path_a)['state_dict'], load(path_b)['state_dict']
    assert a.keys() == b.keys()
    differing = [k for k in a if not torch.equal(a[k], b[k])]
    assert not differing, f'{len(differing)} tensors differ, e.g. {differing[:5]}'


def train_logs(work_dir):
    """Per ``.log.json`` of the run (oldest first), its 'train' entries without the fields
    that vary between runs."""
    logs = []
    for path in sorted(work_dir.glob('*.log.json')):
        entries = [json.loads(line) for line in path.read_text().splitlines()[1:]]
        logs.append([{k: v for k, v in e.items() if k not in UNSTABLE_LOG_KEYS}
                     for e in entries if e.get('mode') == 'train'])
    return logs


def train_log(work_dir):
    """The 'train' entries of all the run's ``.log.json`` files, oldest first."""
    return [entry for log in train_logs(work_dir) for entry in log]


@pytest.fixture(scope='module', autouse=True)
def no_runner_pauses():
    """mmcv's IterBasedRunner sleeps 2 s at every epoch end and 1 s after the run (for
    loader worker processes); these in-process runs need not wait."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(iter_based_runner, 'time', SimpleNamespace(sleep=lambda seconds: None))
        yield


@pytest.fixture(scope='module')
def configs(tmp_path_factory):
    """Demo data (4 source x 2 target images: 4 batches of 2 per epoch, so 6 iterations
    cross an epoch boundary) and the DACS / MIC configs."""
    tmp = tmp_path_factory.mktemp('resume')
    for name, seed, num in (('source', 0, 4), ('target', 1, 2)):
        run([sys.executable, 'tools/make_demo_data.py', '--out', str(tmp / name),
             '--num-train', str(num), '--num-val', '1', '--size', '64x128', '--seed', str(seed)])
    supervised = tmp / 'tiny_supervised.py'
    supervised.write_text(TINY_CONFIG.format(repo=REPO, data=tmp / 'source'))
    dacs = tmp / 'tiny_dacs.py'
    dacs.write_text(DAFORMER_UDA_CONFIG.format(supervised=supervised, repo=REPO,
                                               source=tmp / 'source', target=tmp / 'target'))
    mic = tmp / 'tiny_mic.py'
    mic.write_text(dacs.read_text() + MIC)
    configs = dict(dir=tmp, dacs=dacs, mic=mic, supervised=supervised)
    for name in ('dacs', 'mic'):
        with_workers = tmp / f'tiny_{name}_workers.py'
        with_workers.write_text(WITH_WORKERS.format(config=configs[name]))
        configs[f'{name}_workers'] = with_workers
    return configs


@pytest.fixture(scope='module')
def dacs_straight(configs):
    """The uninterrupted DACS run (evaluation and checkpoints every 3 iterations)."""
    work_dir = configs['dir'] / 'dacs_straight'
    train(configs['dacs'], work_dir)
    return work_dir


@pytest.fixture(scope='module')
def dacs_resumed(configs, dacs_straight):
    """3 iterations, interrupted, then ``--resume-from iter_3.pth`` to the end."""
    work_dir = configs['dir'] / 'dacs_resumed'
    train_until_interrupted(configs['dacs'], work_dir, 3)
    train(configs['dacs'], work_dir, '--resume-from', work_dir / 'iter_3.pth')
    return work_dir


def test_dacs_resume_is_bit_identical(dacs_straight, dacs_resumed):
    final = load(dacs_resumed / 'iter_6.pth')
    assert any(k.startswith('ema_model.') for k in final['state_dict'])
    assert any(k.startswith('imnet_model.') for k in final['state_dict'])
    assert final['meta']['iter'] == MAX_ITERS
    assert final['training_state']['local_iter'] == MAX_ITERS
    assert_same_weights(dacs_straight / 'iter_6.pth', dacs_resumed / 'iter_6.pth')
    straight, resumed = train_log(dacs_straight), train_log(dacs_resumed)
    assert [e['iter'] for e in resumed] == list(range(1, MAX_ITERS + 1))  # no repeat, no gap
    assert straight == resumed
    assert 'mix.decode.loss_seg' in resumed[-1] and 'src.loss_imnet_feat_dist' in resumed[-1]


@pytest.fixture(scope='module')
def mic_straight(configs):
    """The uninterrupted MIC run (no evaluation)."""
    work_dir = configs['dir'] / 'mic_straight'
    train(configs['mic'], work_dir, '--no-validate')
    return work_dir


def test_mic_with_own_teacher_auto_resume_is_bit_identical(configs, mic_straight):
    straight, resumed = mic_straight, configs['dir'] / 'mic_resumed'
    train_until_interrupted(configs['mic'], resumed, 3, '--no-validate', '--auto-resume')
    assert 'starting from scratch' in next(resumed.glob('*.log')).read_text()
    train(configs['mic'], resumed, '--no-validate', '--auto-resume')
    assert any(k.startswith('mic.teacher.ema_model.')
               for k in load(resumed / 'iter_6.pth')['state_dict'])
    assert_same_weights(straight / 'iter_6.pth', resumed / 'iter_6.pth')
    logs = train_log(resumed)
    assert [e['iter'] for e in logs] == list(range(1, MAX_ITERS + 1))
    assert logs == train_log(straight)
    assert 'masked.decode.loss_seg' in logs[-1]


@pytest.mark.parametrize('name', ['dacs', 'mic'])
def test_resume_with_loader_workers_is_bit_identical(configs, dacs_straight, mic_straight,
                                                     name):
    """workers_per_gpu=2: straight, and interrupted then resumed, both train exactly like
    the run without workers."""
    without_workers = dict(dacs=dacs_straight, mic=mic_straight)[name]
    options = () if name == 'dacs' else ('--no-validate',)
    config = configs[f'{name}_workers']
    straight, resumed = (configs['dir'] / f'{name}_workers_{run}'
                         for run in ('straight', 'resumed'))
    train(config, straight, *options)
    train_until_interrupted(config, resumed, 3, *options)
    train(config, resumed, '--resume-from', resumed / 'iter_3.pth', *options)
    assert 'workers_per_gpu=2' in next(straight.glob('*.log')).read_text()
    for work_dir in (straight, resumed):
        assert_same_weights(without_workers / 'iter_6.pth', work_dir / 'iter_6.pth')
        assert train_log(work_dir) == train_log(without_workers)


KILLED_SAVE = """
import os, runpy, sys, time
# Pause forever between writing the temporary file of {name} and renaming it.
real_replace = os.replace
def replace(src, dst):
    if os.path.basename(dst) == {name!r}:
        open({marker!r}, 'w').close()
        time.sleep(3600)
    return real_replace(src, dst)
os.replace = replace
# The mmseg of the checkout under test (the working directory), not an installed one.
sys.path.insert(0, os.getcwd())
sys.argv = ['tools/train.py'] + sys.argv[1:]
runpy.run_path('tools/train.py', run_name='__main__')
"""


def test_kill_during_save_keeps_previous_checkpoint_and_auto_resume_finishes(
        configs, dacs_straight, tmp_path):
    work_dir, marker = tmp_path / 'run', tmp_path / 'saving'
    launcher = tmp_path / 'killed_save.py'
    launcher.write_text(KILLED_SAVE.format(name='iter_4.pth', marker=str(marker)))
    overrides = ['--cfg-options', 'checkpoint_config.interval=2',
                 'checkpoint_config.max_keep_ckpts=2']
    env = dict(os.environ, OMP_NUM_THREADS='2')
    with open(tmp_path / 'killed.out', 'w') as out:  # a file: a full pipe would block it
        proc = subprocess.Popen(
            [sys.executable, str(launcher), str(configs['dacs']), '--work-dir', str(work_dir)]
            + overrides, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 300
        while not marker.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    output = (tmp_path / 'killed.out').read_text()
    assert marker.exists(), f'the run never reached the save of iteration 4:\n{output[-3000:]}'

    assert not (work_dir / 'iter_4.pth').exists()
    assert [p.name for p in work_dir.glob('.iter_4.pth.tmp-*')]  # the unpublished write
    for name in ('iter_2.pth', 'latest.pth'):
        checkpoint = load(work_dir / name)
        assert checkpoint['meta']['iter'] == 2 and checkpoint['training_state']['iter'] == 2

    train(configs['dacs'], work_dir, '--auto-resume', *overrides)
    log = sorted(work_dir.glob('*.log'))[-1].read_text()
    assert f'auto-resume: resuming from {work_dir / "iter_2.pth"}' in log
    assert 'left by a save that was interrupted' in log
    assert not list(work_dir.glob('.*.tmp-*'))
    assert sorted(p.name for p in work_dir.glob('iter_*.pth')) == ['iter_4.pth', 'iter_6.pth']
    assert load(work_dir / 'latest.pth')['meta']['iter'] == MAX_ITERS
    killed, resumed = train_logs(work_dir)
    # Iterations 3 and 4 were done (and logged) before the kill, then redone identically.
    assert [e['iter'] for e in killed] == [1, 2, 3, 4]
    assert [e['iter'] for e in resumed] == [3, 4, 5, 6]
    assert killed[2:] == resumed[:2]
    assert killed[:2] + resumed == train_log(dacs_straight)
    assert_same_weights(dacs_straight / 'iter_6.pth', work_dir / 'iter_6.pth')


def listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else None


def fails_cleanly(config, work_dir, *args):
    """Run tools/train.py expecting an error; returns its message. Nothing may be written:
    the work dir is as before (absent, or with the same files)."""
    before = listing(work_dir)
    with pytest.raises(SystemExit) as error:
        train(config, work_dir, *args)
    assert listing(work_dir) == before
    return str(error.value)


def test_resume_from_missing_file_names_it(configs, tmp_path):
    missing = tmp_path / 'nowhere' / 'iter_3.pth'
    message = fails_cleanly(configs['dacs'], tmp_path / 'run', '--resume-from', missing)
    assert 'not found' in message and str(missing) in message


def test_checkpoint_of_another_architecture_is_refused(configs, tmp_path):
    """A supervised segmentor's checkpoint (no 'model.' / teacher keys) for the UDA run."""
    from mmseg.models import build_segmentor
    spec = importlib.util.spec_from_file_location('tiny_cfgs',
                                                  REPO / 'tests' / 'models' / 'tiny_cfgs.py')
    tiny_cfgs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny_cfgs)
    foreign = tmp_path / 'segmentor.pth'
    segmentor = build_segmentor(tiny_cfgs.tiny_daformer(channels=16))
    torch.save(dict(meta=dict(iter=3), state_dict=segmentor.state_dict()), foreign)
    for option in ('--resume-from', '--load-from'):
        message = fails_cleanly(configs['dacs'], tmp_path / 'run', option, foreign)
        assert f'{option} {str(foreign)!r} does not fit the model (DACS' in message
        assert 'missing keys' in message and 'unexpected keys' in message
        assert 'model.backbone.*' in message and 'backbone.block1.*' in message


def test_truncated_checkpoint_is_refused_and_skipped_by_auto_resume(
        configs, dacs_straight, dacs_resumed, tmp_path):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    shutil.copy(dacs_resumed / 'iter_3.pth', work_dir / 'iter_3.pth')
    data = (dacs_straight / 'iter_6.pth').read_bytes()
    (work_dir / 'iter_6.pth').write_bytes(data[:len(data) // 2])

    message = fails_cleanly(configs['dacs'], work_dir, '--resume-from', work_dir / 'iter_6.pth')
    assert str(work_dir / 'iter_6.pth') in message and 'truncated or corrupt' in message

    train(configs['dacs'], work_dir, '--auto-resume', '--no-validate')
    log = next(work_dir.glob('*.log')).read_text()
    assert f'skipping {work_dir / "iter_6.pth"}' in log
    assert f'auto-resume: resuming from {work_dir / "iter_3.pth"}' in log
    assert load(work_dir / 'iter_6.pth')['meta']['iter'] == MAX_ITERS  # replaced atomically


COND_ADVSEG = """
uda = dict(_delete_=True, type='CondAdvSeg', temperature=1.8, soft_label_cap=0.9,
           lambda_adv=0.001, lr_D=1e-4, disc_mid=32, disc_feature=-1)
"""


def test_cond_advseg_resume_restores_the_discriminator_optimizer(configs):
    """Label-shift alignment: the discriminator's own Adam (optimizer_D) is checkpointed
    and restored, so 3 + 3 iterations equal 6."""
    config = configs['dir'] / 'tiny_cond_advseg.py'
    config.write_text(configs['dacs'].read_text() + COND_ADVSEG)
    straight, resumed = configs['dir'] / 'cda_straight', configs['dir'] / 'cda_resumed'
    train(config, straight, '--no-validate')
    train_until_interrupted(config, resumed, 3, '--no-validate')
    train(config, resumed, '--no-validate', '--resume-from', resumed / 'iter_3.pth')
    final = load(resumed / 'iter_6.pth')
    assert list(final['training_state']['extra_optimizers']) == ['optimizer_D']
    assert final['training_state']['extra_optimizers']['optimizer_D']['state'][0]['step'] == 6
    assert any(k.startswith('model_D.source_head.') for k in final['state_dict'])
    assert_same_weights(straight / 'iter_6.pth', resumed / 'iter_6.pth')
    logs = train_log(resumed)
    assert logs == train_log(straight) and 'D.loss_d' in logs[-1]


# RIPU (the paper's method: no teacher, L_cr and L_nl) with oracle region selection after
# iterations 2 and 4 on the 2 target images.
RIPU = """
uda = dict(_delete_=True, type='RIPU', source_only=True, lambda_cr=0.1, lambda_nl=1.0,
           nl_threshold=0.05, cr_region='boundary')
active_selection = dict(mode='RA', ratio=0.022, radius_k=1, select_iters=[2, 4],
                        schedule_iters=None, select_scale=None, label_source='oracle',
                        selection='ripu')
"""


def store_content(work_dir):
    """{relative path: bytes} of the run's active label store."""
    root = work_dir / 'active_labels'
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*'))
            if p.is_file()}


def test_ripu_resume_in_the_middle_of_the_selection_schedule(configs):
    """Interrupted after iteration 4 (round 2 already published), resumed from iter_3.pth:
    round 2 is kept, not selected again, iteration 4 is retrained on round 1's labels only,
    and labels, store and weights equal the uninterrupted run's."""
    config = configs['dir'] / 'tiny_ripu.py'
    config.write_text(configs['dacs'].read_text() + RIPU)
    straight, resumed = configs['dir'] / 'ripu_straight', configs['dir'] / 'ripu_resumed'
    train(config, straight, '--no-validate')
    train_until_interrupted(config, resumed, 4, '--no-validate')
    assert sorted(p.name for p in (resumed / 'active_labels').glob('round_*')) == [
        'round_1', 'round_2']
    train(config, resumed, '--no-validate', '--resume-from', resumed / 'iter_3.pth')
    log = sorted(resumed.glob('*.log'))[-1].read_text()
    assert '1 in use after iteration 3' in log
    assert 'round 2 is already in the store (resumed run); not selected again' in log
    assert store_content(straight) == store_content(resumed)
    meta = json.loads((straight / 'active_labels' / 'round_2' / 'meta.json').read_text())
    assert meta['iteration'] == 4 and meta['regions'] == 2 * 11  # ⌈64·128·0.022/2/9⌉ each
    assert_same_weights(straight / 'iter_6.pth', resumed / 'iter_6.pth')
    interrupted, logs = train_logs(resumed)
    assert [e['iter'] for e in interrupted] == [1, 2, 3, 4]
    assert [e['iter'] for e in logs] == [4, 5, 6]
    assert interrupted[3] == logs[0]  # iteration 4 again on round 1's labels only
    logs = interrupted[:3] + logs
    assert logs == train_log(straight)
    assert 'trg.loss_ce' not in logs[0] and 'trg.loss_ce' in logs[2]  # labels from round 1
    assert 'src.loss_cr' in logs[-1] and 'trg.loss_nl' in logs[-1]
    assert logs[1]['active.labelled_pct'] < logs[3]['active.labelled_pct'] == pytest.approx(
        logs[-1]['active.labelled_pct'])


CPSL = """
_base_ = ['{config}']
uda = dict(_delete_=True, type='CPSL', prepare_dir='{prepare}', alpha=0.99, num_samples=16,
           queue_len=32, cutmix_p=0.2, weak_view=dict(crop_size=(64, 64), ratio_range=(1.0, 1.5)))
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
data = dict(train=dict(target=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(128, 64)),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img'],
         meta_keys=('filename', 'ori_filename', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'img_norm_cfg'))])))
"""


def test_cpsl_prepare_then_resume_is_bit_identical(configs):
    """CPSL from a prepare folder (P_ST, prior, prototypes of an untrained model): 3 + 3
    iterations equal 6, with the prototypes, their EMA, both queues (and whether they are
    full) and the prior in the checkpoint."""
    from mmseg.apis import load_config
    from mmseg.apis.cpsl_prepare import cpsl_prepare
    from mmseg.apis.inference import build_test_segmentor
    tmp = configs['dir']
    prepare = tmp / 'cpsl_prepare'
    config = tmp / 'tiny_cpsl.py'
    config.write_text(CPSL.format(config=configs['dacs'], prepare=prepare))
    cfg = load_config(str(config))
    torch.manual_seed(0)
    warmup = tmp / 'warmup.pth'
    torch.save({'state_dict': build_test_segmentor(cfg).state_dict()}, warmup)
    record = cpsl_prepare(load_config(str(config)), str(warmup), str(prepare), device='cpu')
    assert record['num_images'] == 2 and record['soft_label_size'] == [16, 32]
    assert sum(record['prior']) == pytest.approx(1)
    straight, resumed = tmp / 'cpsl_straight', tmp / 'cpsl_resumed'
    train(config, straight, '--no-validate')
    train_until_interrupted(config, resumed, 3, '--no-validate')
    train(config, resumed, '--no-validate', '--resume-from', resumed / 'iter_3.pth')
    state = load(resumed / 'iter_6.pth')['state_dict']
    for key in ('prototype_head.prototypes', 'prototype_head.prototypes_ema', 'class_prior',
                'feat_queue.items', 'feat_queue.labels', 'logit_queue.items',
                'feat_queue.filled'):
        assert key in state, key
    assert int(state['feat_queue.filled']) == 32  # full after one iteration (2 x 16)
    assert not torch.equal(state['prototype_head.prototypes'],
                           state['prototype_head.prototypes_ema'])
    assert_same_weights(straight / 'iter_6.pth', resumed / 'iter_6.pth')
    logs = train_log(resumed)
    assert logs == train_log(straight)
    assert all(k in logs[-1] for k in ('trg.loss_sl', 'trg.loss_cts', 'trg.loss_cons'))
    # The contrastive term: in the iterations without CutMix once the queue is full.
    assert any('trg.loss_con' in entry for entry in logs)
