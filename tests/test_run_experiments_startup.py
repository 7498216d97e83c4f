"""``python run_experiments.py --exp 7 --startup-test`` end to end: DAFormer (MiT-B5,
512² crops, FD, RCS) on tiny Synthia → Cityscapes stand-ins laid out under ``data/``.

The run happens in a scratch copy of the repository layout (``data/``, ``pretrained/`` and
``work_dirs/`` are real folders there; code and configs are links to this checkout), so
no real dataset or checkpoint of the user is touched. MiT-B5 at 512² on a CPU takes
several minutes: marked slow (``pytest -m slow``)."""
import json
import os
import subprocess
import sys

import pytest
import torch
from mmcv import Config

from fake_datasets import REPO, write_cityscapes, write_synthia

LINKED = ('configs', 'tools', 'mmseg', 'experiments.py', 'run_experiments.py', 'test.sh')


def linked_repository(root):
    """``root`` with links to this checkout's code and configs (real data/ and work_dirs/
    folders get created there)."""
    root.mkdir()
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    return root


def scratch_repository(root):
    linked_repository(root)
    write_synthia(root / 'data' / 'synthia', num=4)
    write_cityscapes(root / 'data' / 'cityscapes', num_train=2, num_val=1)
    from mmseg.models.backbones.mix_transformer import mit_b5
    (root / 'pretrained').mkdir()
    torch.save(mit_b5().state_dict(), root / 'pretrained' / 'mit_b5.pth')
    return root


@pytest.mark.slow
def test_exp7_startup_test_end_to_end(tmp_path):
    repo = scratch_repository(tmp_path / 'repo')
    out_dir = tmp_path / 'generated'
    env = dict(os.environ, OMP_NUM_THREADS=str(min(os.cpu_count() or 1, 4)))
    proc = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '7', '--startup-test', '--out-dir',
         str(out_dir)], cwd=repo, env=env, capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    configs = sorted((out_dir / '7').glob('*.py'))
    assert len(configs) == 3
    for config in configs:
        run_dir = repo / 'work_dirs' / '7' / config.stem
        assert (run_dir / 'iter_2.pth').is_file() and (run_dir / 'latest.pth').is_file()
        log = next(run_dir.glob('*.log')).read_text()
        assert 'mix.decode.loss_seg' in log and 'src.loss_imnet_feat_dist' in log
        assert 'mIoU' in log
        cfg = Config.fromfile(str(config))
        assert cfg.model.backbone.type == 'mit_b5' and cfg.uda.type == 'DACS'


def synthshift_repository(tmp_path):
    """A linked copy of the repository with tiny SynthShift data (40 source, 4 + 3 target
    images) and the environment to run it in: (repo, env)."""
    repo = linked_repository(tmp_path / 'repo')
    env = dict(os.environ, OMP_NUM_THREADS='2',
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    subprocess.run([sys.executable, 'tools/convert_datasets/synthshift.py', '--out',
                    'data/synthshift', '--num-source', '40', '--num-target-train', '4',
                    '--num-target-val', '3'], cwd=repo, env=env, check=True,
                   capture_output=True)
    return repo, env


def test_exp0_startup_test_end_to_end(tmp_path):
    """Experiment 0 (the embedded SynthShift benchmark) as CI runs it, with the optional
    HRDA run selected too: every config for 2 iterations, the pretrain run's weights loaded
    by the methods (HRDA from its export), one console line per run, and the summary table,
    bar chart and prediction overlays written."""
    repo, env = synthshift_repository(tmp_path)
    proc = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '0', '--startup-test', '--methods',
         'source_only,dacs,daformer,mic,hrda', '--out-dir', str(tmp_path / 'generated')],
        cwd=repo, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    exp_dir = repo / 'work_dirs' / '0'
    assert (exp_dir / 'synthshift_pretrain_mitb0_s0' / 'hrda_init.pth').is_file()
    for name in ('source_only', 'hrda'):
        log = next((exp_dir / f'synthshift_{name}_mitb0_s0').glob('*.log')).read_text()
        assert 'Loaded the weights of work_dirs/0/synthshift_pretrain_mitb0_s0/' in log
    run_lines = [line for line in proc.stdout.splitlines() if line.startswith('[')]
    assert len(run_lines) == 6 and all('2 it, target mIoU' in line for line in run_lines)
    assert 'mmcv' not in proc.stdout and 'Environment info' not in proc.stdout
    summary = (exp_dir / 'summary.md').read_text()
    assert 'precision: float32' in summary and 'ATen capability' in summary
    for method in ('source-only', 'DACS', 'DAFormer', 'HRDA', 'MIC'):
        assert f'| {method} |' in summary, summary
    assert 'Δ vs source-only' in summary
    assert (exp_dir / 'miou.png').is_file() and (exp_dir / 'predictions.png').is_file()
    mic_log = next((exp_dir / 'synthshift_mic_mitb0_s0').glob('*.log')).read_text()
    assert 'masked.decode.loss_seg' in mic_log


def test_exp9_startup_test_end_to_end(tmp_path):
    """Experiment 9 (label shift and RIPU on SynthShift) as CI runs it: the experiment-0
    source model trained (no earlier run to reuse), DAFormer and the alignment with their
    label-shift estimates and IA evaluations, CR from the alignment run, the RIPU rows with
    their selection rounds, and the summary with the estimated and true priors."""
    repo, env = synthshift_repository(tmp_path)
    proc = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '9', '--startup-test', '--methods',
         'source_only,daformer,labelshift_cda,labelshift_cr,ripu_ra,random_ra,ripu_pa',
         '--out-dir', str(tmp_path / 'generated')], cwd=repo, env=env, capture_output=True,
        text=True, timeout=1200)  # CPSL and ProCST: their own startup tests below
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    exp_dir = repo / 'work_dirs' / '9'
    for name in ('daformer', 'labelshift_cda'):
        record = json.loads((exp_dir / f'synthshift_{name}_mitb0_s0' /
                             'label_shift.json').read_text())
        assert record['target_images'] == 4 and record['min_pixels'] == 16
        assert record['weights'] == {'daformer': 'teacher', 'labelshift_cda': 'student'}[name]
        assert sum(record['target_prior']) == pytest.approx(1)
    cr_log = next((exp_dir / 'synthshift_labelshift_cr_mitb0_s0').glob('*.log')).read_text()
    assert 'Loaded the weights of work_dirs/9/synthshift_labelshift_cda_mitb0_s0/' in cr_log
    cda_log = next((exp_dir / 'synthshift_labelshift_cda_mitb0_s0').glob('*.log')).read_text()
    assert 'trg.loss_adv' in cda_log and 'D.loss_d' in cda_log
    summary = (exp_dir / 'summary.md').read_text()
    for method in ('source-only', 'DAFormer', 'DAFormer+IA', 'alignment', 'alignment+IA',
                   'alignment+CR'):
        assert f'| {method} |' in summary, summary
    assert 'P_t true (target-train labels)' in summary and 'L1 to true P_t' in summary
    # RIPU rows: all 5 rounds after iteration 1 of 2 (rescaled), oracle labels trained on.
    for name in ('ripu_ra', 'ripu_pa', 'random_ra'):
        run_dir = exp_dir / f'synthshift_{name}_mitb0_s0'
        rounds = sorted((run_dir / 'active_labels').glob('round_*/meta.json'))
        assert len(rounds) == 5, name
        assert all(json.loads(p.read_text())['iteration'] == 1 for p in rounds)
        log = next(run_dir.glob('*.log')).read_text()
        assert 'Loaded the weights of work_dirs/0/synthshift_pretrain_mitb0_s0/' in log
        assert 'trg.decode.loss_seg' in log and 'active.labelled_pct' in log
    for method in ('DAFormer+RIPU RA 2.2%', 'DAFormer+RIPU PA 40px', 'DAFormer+random RA 2.2%'):
        assert f'| {method} |' in summary, summary


def test_exp9_cpsl_chain_startup_test_end_to_end(tmp_path):
    """CPSL in experiment 9 as CI runs it: the AdvSeg warm-up, tools/cpsl_prepare.py on its
    checkpoint (P_ST of every target-train image, prior, prototypes), CPSL from both, and
    the summary rows."""
    repo, env = synthshift_repository(tmp_path)
    proc = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '9', '--startup-test', '--methods',
         'advseg,cpsl', '--out-dir', str(tmp_path / 'generated')], cwd=repo, env=env,
        capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    exp_dir = repo / 'work_dirs' / '9'
    prepare = exp_dir / 'synthshift_advseg_mitb0_s0' / 'cpsl_prepare'
    record = json.loads((prepare / 'class_prior.json').read_text())
    assert record['num_images'] == 4 and record['soft_label_size'] == [32, 64]
    assert sum(record['prior']) == pytest.approx(1)
    assert len(list((prepare / 'soft_labels').rglob('*.npy'))) == 4
    cpsl_log = next((exp_dir / 'synthshift_cpsl_mitb0_s0').glob('*.log')).read_text()
    assert 'Loaded the weights of work_dirs/9/synthshift_advseg_mitb0_s0/' in cpsl_log
    assert 'trg.loss_sl' in cpsl_log and 'trg.loss_cons' in cpsl_log
    state = torch.load(exp_dir / 'synthshift_cpsl_mitb0_s0' / 'latest.pth',
                       map_location='cpu', weights_only=True)['state_dict']
    assert state['prototype_head.prototypes'].shape == (19, 64)  # the 64-d fused feature
    summary = (exp_dir / 'summary.md').read_text()
    for method in ('AdvSeg', 'CPSL'):
        assert f'| {method} |' in summary, summary


def test_exp9_procst_startup_test_end_to_end(tmp_path):
    """Experiment 9's ProCST chain as CI runs it: the experiment-0 source model, the
    SynthShift translator (2 steps per level, label cycle through that source model),
    the translated source written next to the source images, its colour statistics, and
    DAFormer trained on the translated images."""
    repo, env = synthshift_repository(tmp_path)
    proc = subprocess.run(
        [sys.executable, 'run_experiments.py', '--exp', '9', '--startup-test', '--methods',
         'procst,procst_daformer', '--out-dir', str(tmp_path / 'generated')], cwd=repo,
        env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    translator = repo / 'work_dirs' / '9' / 'synthshift_procst_s0'
    assert {p.name for p in translator.glob('*.pth')} == {
        'latest.pth', 'scale_0.pth', 'scale_1.pth', 'scale_2.pth'}
    log = (translator / 'translator.log').read_text()
    assert 'level 2 step 2/2' in log and 'st.G.loss_label_cycle' in log
    translated = sorted(p.name for p in (repo / 'data' / 'synthshift' / 'gta' /
                                         'sit_procst_s0').glob('*.png'))
    assert translated == sorted(p.name for p in (repo / 'data' / 'synthshift' / 'gta' /
                                                 'images').glob('*.png'))
    assert len(translated) == 40
    stats = json.loads((translator / 'translation_stats.json').read_text())
    assert stats['translated']['images'] == 40 and stats['target']['images'] == 4
    assert stats['feature_extractor'] == 'SegmentorFeatures'
    run_dir = repo / 'work_dirs' / '9' / 'synthshift_procst_daformer_mitb0_s0'
    run_log = next(run_dir.glob('*.log')).read_text()
    assert 'Loaded the weights of work_dirs/0/synthshift_pretrain_mitb0_s0/' in run_log
    assert 'Loaded 40 images from data/synthshift/gta/sit_procst_s0' in run_log
    summary = (repo / 'work_dirs' / '9' / 'summary.md').read_text()
    assert '| DAFormer on ProCST SiT |' in summary, summary
    assert '## ProCST translation (synthshift_procst_s0)' in summary
    assert ('the frozen encoder of a segmentor trained on the source, a stand-in for '
            'ImageNet VGG16') in summary
    assert '| translated | 40 |' in summary
