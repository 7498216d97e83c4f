"""``mmseg.apis.inference``: loading plain and UDA checkpoints, single-image inference,
drawing; the demo case of the fixtures (inference_segmentor on a real Cityscapes frame)."""
import json
import warnings
from pathlib import Path

import mmcv
import numpy as np
import pytest
import torch

from mmseg.apis import inference_segmentor, init_segmentor, show_result_pyplot
from mmseg.apis.inference import load_config, load_segmentor_checkpoint, update_legacy_cfg
from mmseg.core.evaluation import get_classes, get_palette
from mmseg.models import build_segmentor

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / 'configs/quickstart/daformer_mitb0_demo.py'


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    """The quickstart config with a 32-dim decoder (fast)."""
    path = tmp_path_factory.mktemp('cfg') / 'tiny.py'
    path.write_text(f"_base_ = ['{QUICKSTART}']\n"
                    "model = dict(decode_head=dict(channels=32, "
                    "decoder_params=dict(embed_dims=32)))\n")
    return str(path)


def random_state_dict(config, seed):
    torch.manual_seed(seed)
    cfg = load_config(config)
    return build_segmentor(cfg.model).state_dict()


def assert_state_equal(model, expected):
    state = model.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_init_segmentor_loads_only_student_of_uda_checkpoint(tiny_config, tmp_path):
    student = random_state_dict(tiny_config, 1)
    teacher = random_state_dict(tiny_config, 2)
    state = {}
    state.update({f'model.{k}': v for k, v in student.items()})
    state.update({f'ema_model.{k}': v for k, v in teacher.items()})
    state.update({f'imnet_model.{k}': v for k, v in teacher.items()})
    classes = tuple(f'class{i}' for i in range(19))
    palette = [[i, 2 * i, 3 * i] for i in range(19)]
    ckpt = tmp_path / 'uda.pth'
    torch.save(dict(state_dict=state, meta=dict(CLASSES=classes, PALETTE=palette)), ckpt)

    model = init_segmentor(tiny_config, str(ckpt), device='cpu')
    assert_state_equal(model, student)  # ema_model.x became ema_x and was ignored
    assert model.CLASSES == classes and model.PALETTE == palette
    assert not model.training
    assert model.cfg.model.decode_head.channels == 32


def test_init_segmentor_loads_ddp_prefixed_plain_checkpoint(tiny_config, tmp_path):
    weights = random_state_dict(tiny_config, 3)
    ckpt = tmp_path / 'ddp.pth'
    torch.save(dict(state_dict={f'module.{k}': v for k, v in weights.items()}), ckpt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model = init_segmentor(tiny_config, str(ckpt), device='cpu')
    assert_state_equal(model, weights)
    # No meta: Cityscapes classes and palette, with a warning.
    assert tuple(model.CLASSES) == tuple(get_classes('cityscapes'))
    assert [list(c) for c in model.PALETTE] == [list(c) for c in get_palette('cityscapes')]
    assert any('no class names' in str(w.message) for w in caught)


def test_init_segmentor_takes_classes_from_the_config_without_meta(tiny_config, tmp_path):
    """Configs of tools/convert_datasets/custom.py name classes / palette in data.test."""
    classes, palette = ('soil', 'crop'), [[1, 2, 3], [4, 5, 6]]
    options = {'data.test.classes': classes, 'data.test.palette': palette}
    ckpt = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=random_state_dict(tiny_config, 4)), ckpt)
    for checkpoint in (None, str(ckpt)):
        model = init_segmentor(tiny_config, checkpoint, device='cpu', cfg_options=options)
        assert tuple(model.CLASSES) == classes and model.PALETTE == palette


def test_segmentor_loads_the_ema_teacher_on_request(tiny_config, tmp_path):
    """weights='teacher' takes the ema_model.* part of a UDA checkpoint; a checkpoint
    without a teacher is refused with a message saying so."""
    student = random_state_dict(tiny_config, 1)
    teacher = random_state_dict(tiny_config, 2)
    state = {f'model.{k}': v for k, v in student.items()}
    ckpt = tmp_path / 'uda.pth'
    torch.save(dict(state_dict=dict(state, **{f'ema_model.{k}': v
                                              for k, v in teacher.items()})), ckpt)
    model = build_segmentor(load_config(tiny_config).model)
    load_segmentor_checkpoint(model, str(ckpt), weights='teacher')
    assert_state_equal(model, teacher)
    no_teacher = tmp_path / 'source_only.pth'
    torch.save(dict(state_dict=state), no_teacher)
    with pytest.raises(RuntimeError, match=r"source_only.pth' has no EMA teacher"):
        load_segmentor_checkpoint(model, str(no_teacher), weights='teacher')
    with pytest.raises(ValueError, match="weights must be one of"):
        load_segmentor_checkpoint(model, str(ckpt), weights='ema')


def test_checkpoint_without_matching_keys_fails_loudly(tiny_config, tmp_path):
    ckpt = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'encoder.layer1.weight': torch.zeros(2)}), ckpt)
    with pytest.raises(RuntimeError, match='No key'):
        init_segmentor(tiny_config, str(ckpt), device='cpu')


def test_missing_checkpoint_file_names_the_path(tiny_config, tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth'):
        init_segmentor(tiny_config, str(tmp_path / 'nothere.pth'), device='cpu')


def test_inference_segmentor_on_array_and_path(tiny_config, tmp_path):
    model = init_segmentor(tiny_config, None, device='cpu')
    rng = np.random.RandomState(0)
    img = rng.randint(0, 255, (50, 90, 3), dtype=np.uint8)
    result = inference_segmentor(model, img)
    assert len(result) == 1 and result[0].shape == (50, 90)
    assert result[0].min() >= 0 and result[0].max() < 19
    path = tmp_path / 'img.png'
    mmcv.imwrite(img, str(path))
    assert np.array_equal(inference_segmentor(model, str(path))[0], result[0])

    out_file = tmp_path / 'shown.png'
    drawn = show_result_pyplot(model, img, result, opacity=1.0, out_file=str(out_file))
    expected = np.asarray(model.PALETTE, np.uint8)[result[0]][..., ::-1]
    assert np.array_equal(drawn, expected)
    assert mmcv.imread(str(out_file)).shape == (50, 90, 3)


def test_update_legacy_cfg_restores_tuples_and_renames_unihead():
    cfg = mmcv.Config(dict(
        model=dict(backbone=dict(type='mit_b5', ema_drop_path_rate=0.1),
                   decode_head=dict(type='UniHead', decoder_params=dict(
                       fusion_cfg=dict(type='aspp', fusion='x')))),
        data=dict(test=dict(pipeline=[dict(type='LoadImageFromFile'),
                                      dict(type='MultiScaleFlipAug',
                                           img_scale=[2048, 1024])]))))
    cfg = update_legacy_cfg(cfg)
    assert cfg.data.test.pipeline[1].img_scale == (2048, 1024)
    assert cfg.model.decode_head.type == 'DAFormerHead'
    assert 'fusion' not in cfg.model.decode_head.decoder_params.fusion_cfg
    assert 'ema_drop_path_rate' not in cfg.model.backbone


def test_demo_image_matches_original(fixtures_dir, tmp_path):
    """fixtures/README.md, 'the end-to-end demo case': >= 99.9 % equal pixels."""
    parity = fixtures_dir / 'models' / 'parity'
    model_cfg = json.loads((parity / 'daformer_sepaspp_model_cfg.json').read_text())
    data_cfg = mmcv.Config.fromfile(
        str(REPO / 'configs/_base_/datasets/uda_gta_to_cityscapes_512x512.py'))
    cfg = mmcv.Config(dict(model=model_cfg,
                           data=dict(test=dict(pipeline=data_cfg.data.test.pipeline))))
    weights = torch.load(parity / 'daformer_sepaspp_state_dict.pth', map_location='cpu',
                         weights_only=True)
    ckpt = tmp_path / 'demo.pth'
    torch.save(dict(state_dict=weights, meta=dict(CLASSES=get_classes('cityscapes'),
                                                  PALETTE=get_palette('cityscapes'))), ckpt)
    model = init_segmentor(cfg, str(ckpt), device='cpu')
    torch.set_num_threads(2)
    result = inference_segmentor(model, str(fixtures_dir / 'images'
                                            / 'cityscapes_frankfurt_demo.png'))[0]
    expected = torch.load(parity / 'daformer_sepaspp_demo_seg.pth',
                          weights_only=True)['seg'].numpy()
    assert result.shape == expected.shape == (512, 1024)
    agreement = (result == expected).mean()
    assert agreement >= 0.999, f'only {agreement:.4%} of the pixels agree'
