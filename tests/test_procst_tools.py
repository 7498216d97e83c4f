"""ProCST translator training (per-level checkpoints, exact resume) and translation of a
source folder (skips finished images, never leaves a half-written one)."""
import copy
import os

import mmcv
import pytest
import torch
from mmcv import Config

import mmseg.apis.translate_images as translate_images
from fake_datasets import REPO, write_cityscapes
from mmseg.apis.train_translator import LevelTrainer, train_translator
from mmseg.apis.translate_images import translate_folder
from mmseg.models.builder import build_segmentor
from mmseg.utils.checkpoint import replaced_atomically

SEGMENTOR_CONFIG = str(REPO / 'configs' / 'synthshift' / 'pretrain.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A translator config on 32x64 fake images, 3 steps per level, both label losses."""
    root = tmp_path_factory.mktemp('procst')
    write_cityscapes(root / 'src', num_train=4, num_val=0, size=(32, 64), seed=3)
    write_cityscapes(root / 'trg', num_train=3, num_val=0, size=(32, 64), seed=4)
    torch.manual_seed(0)
    model_cfg = Config.fromfile(SEGMENTOR_CONFIG).model
    torch.save({'state_dict': build_segmentor(model_cfg).state_dict()}, root / 'seg_s.pth')
    cfg = Config.fromfile(str(REPO / 'configs' / 'synthshift' / 'procst_translator.py'))
    cfg.merge_from_dict({
        'max_steps_per_scale': 3, 'checkpoint_interval': 1, 'log_interval': 1,
        'image_interval': 2, 'data.samples_per_gpu': [2, 2, 2],
        'label_losses.source_segmentor.checkpoint': str(root / 'seg_s.pth'),
        'label_losses.source_segmentor.config': SEGMENTOR_CONFIG,
        # level 0 is 8x16: below the 32 px a MiT encoder needs
        'style_loss.feature_extractor': dict(_delete_=True, type='RandomConvFeatures',
                                             channels=[4, 4, 4, 4]),
        'label_losses.sit_segmentor': dict(
            _delete_=True, type='SiTSegmentor', config=SEGMENTOR_CONFIG)})
    for key, folder in (('source', 'src'), ('target', 'trg')):
        cfg.data[key] = dict(type='CityscapesDataset', data_root=str(root / folder),
                             img_dir='leftImg8bit/train', ann_dir='gtFine/train',
                             pipeline=cfg[f'{key}_pipeline'])
    return root, cfg


def tensors(path, key):
    return torch.load(path, map_location='cpu', weights_only=False)[key]


def test_training_resumes_per_level_exactly(tiny, tmp_path, monkeypatch):
    root, cfg = tiny
    full = tmp_path / 'full'
    final = train_translator(copy.deepcopy(cfg), str(full))
    assert sorted(p.name for p in full.glob('*.pth')) == [
        'latest.pth', 'scale_0.pth', 'scale_1.pth', 'scale_2.pth']
    assert any((full / 'tf_logs').iterdir())
    assert 'sit_segmentor' in torch.load(final, weights_only=False)

    # interrupted at the second step of level 1 (level 0 done, level 1 checkpointed at 1)
    calls = []
    original = LevelTrainer.train_step

    def interrupted(self, *args):
        calls.append(self.scale)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return original(self, *args)
    monkeypatch.setattr(LevelTrainer, 'train_step', interrupted)
    resumed = tmp_path / 'resumed'
    with pytest.raises(KeyboardInterrupt):
        train_translator(copy.deepcopy(cfg), str(resumed))
    assert sorted(p.name for p in resumed.glob('*.pth')) == ['scale_0.pth',
                                                             'scale_1_resume.pth']
    assert tensors(resumed / 'scale_1_resume.pth', 'step') == 1
    monkeypatch.setattr(LevelTrainer, 'train_step', original)
    calls.clear()
    train_translator(copy.deepcopy(cfg), str(resumed))
    assert not (resumed / 'scale_1_resume.pth').exists()
    for key in ('translator', 'sit_segmentor'):
        expected, got = tensors(full / 'scale_2.pth', key), tensors(resumed / 'scale_2.pth', key)
        assert expected.keys() == got.keys()
        different = [k for k in expected if not torch.equal(expected[k], got[k])]
        assert not different, different[:5]
    # and training changed the networks (the comparison is not between two initial states)
    init = tensors(full / 'scale_0.pth', 'translator')
    assert not torch.equal(init['generators.st.2.head.conv.weight'],
                           expected_weights(full)['generators.st.2.head.conv.weight'])


def expected_weights(work_dir):
    return tensors(work_dir / 'scale_2.pth', 'translator')


def test_translate_continues_and_leaves_no_half_written_image(tiny, tmp_path, monkeypatch):
    root, cfg = tiny
    checkpoint = train_translator(copy.deepcopy(cfg), str(tmp_path / 'translator'))
    src = root / 'src' / 'leftImg8bit' / 'train'
    names = sorted(str(p.relative_to(src)) for p in src.rglob('*.png'))
    assert len(names) == 4
    clean = tmp_path / 'clean'
    assert translate_folder(checkpoint, str(src), str(clean), progress=False) == (4, 0)

    out = tmp_path / 'out'
    written = []
    original = translate_images.write_image_atomically

    def crash_while_writing_the_third(image, path):
        written.append(path)
        if len(written) == 3:
            with replaced_atomically(path) as tmp:
                with open(tmp, 'wb') as f:
                    f.write(b'\x89PNG half an image')
                raise KeyboardInterrupt
        return original(image, path)
    monkeypatch.setattr(translate_images, 'write_image_atomically', crash_while_writing_the_third)
    with pytest.raises(KeyboardInterrupt):
        translate_folder(checkpoint, str(src), str(out), progress=False)
    present = sorted(str(p.relative_to(out)) for p in out.rglob('*') if p.is_file())
    assert present == names[:2]  # no temporary file, no third image
    folder = out / os.path.dirname(names[0])
    (folder / f'.{os.path.basename(names[2])}.tmp-99999').write_bytes(b'killed mid-write')
    before = {n: os.stat(out / n).st_mtime_ns for n in present}

    monkeypatch.setattr(translate_images, 'write_image_atomically', original)
    assert translate_folder(checkpoint, str(src), str(out), progress=False) == (2, 2)
    assert {n: os.stat(out / n).st_mtime_ns for n in present} == before
    assert sorted(str(p.relative_to(out)) for p in out.rglob('*') if p.is_file()) == names
    for name in names:
        assert (out / name).read_bytes() == (clean / name).read_bytes()
        translated, source = mmcv.imread(str(out / name)), mmcv.imread(str(src / name))
        assert translated.shape == source.shape  # full source resolution
    assert not (translated == source).all()


def test_translation_only_summary(tmp_path, monkeypatch):
    """``--methods procst`` alone: the summary holds the translation statistics (with the
    stand-in named) and no mIoU table."""
    import json

    import run_experiments
    from experiments import generate_experiment_cfgs
    monkeypatch.setattr(run_experiments, 'REPO_ROOT', str(tmp_path))
    cfg = generate_experiment_cfgs(9, methods=('procst',))[-1]
    assert cfg['method'] == 'procst' and '_base_' not in cfg
    work_dir = tmp_path / cfg['work_dir']
    work_dir.mkdir(parents=True)
    stats = {name: dict(mean=[m, m, m], std=[40.0, 40.0, 40.0], images=n)
             for name, m, n in (('source', 140.0, 400), ('translated', 120.0, 400),
                                ('target', 110.0, 200))}
    stats['source']['distance_to_target'] = 51.96
    stats['translated']['distance_to_target'] = 17.32
    stats['feature_extractor'] = 'SegmentorFeatures'
    (work_dir / 'translation_stats.json').write_text(json.dumps(stats))
    run = run_experiments.Run(cfg['name'], 'unused.py', cfg['work_dir'], cfg)
    markdown = run_experiments.summarize(9, [run])
    assert '| translated | 400 | 120.0, 120.0, 120.0 | 40.0, 40.0, 40.0 | 17.32 |' in markdown
    assert '| source | 400 |' in markdown
    assert ('Style/content features: SegmentorFeatures — the frozen encoder of a segmentor '
            'trained on the source, a stand-in for ImageNet VGG16') in markdown
    assert 'mIoU' not in markdown
    assert (tmp_path / 'work_dirs' / '9' / 'summary.md').read_text() == markdown


def test_synthshift_translator_of_a_seed_reads_that_seeds_source_model():
    """The label cycle and the style/content features both use the source model trained
    with the run's seed."""
    from experiments import synthshift_procst_translation
    options = synthshift_procst_translation(1)['cfg_options']
    expected = 'work_dirs/0/synthshift_pretrain_mitb0_s1/latest.pth'
    assert options['seed'] == 1
    assert options['label_losses.source_segmentor.checkpoint'] == expected
    assert options['style_loss.feature_extractor.checkpoint'] == expected
