"""Clear errors for bad model configs, pretrained files and checkpoints."""
import pytest
import torch

from mmseg.models import build_backbone, build_segmentor
from mmseg.utils.checkpoint import load_checkpoint


def tiny_cfg(**backbone):
    return dict(
        type='EncoderDecoder',
        backbone=dict(type='mit_b0', **backbone),
        decode_head=dict(type='SegFormerHead', in_channels=[32, 64, 160, 256],
                         in_index=[0, 1, 2, 3], channels=16, num_classes=3,
                         decoder_params=dict(embed_dim=16, conv_kernel_size=1),
                         norm_cfg=dict(type='BN', requires_grad=True)),
        test_cfg=dict(mode='whole'))


def test_unknown_type_suggests_closest_name():
    with pytest.raises(KeyError, match=r"Unknown backbone type 'mit_b6'.*Did you mean.*mit_b"):
        build_backbone(dict(type='mit_b6'))
    cfg = tiny_cfg()
    cfg['decode_head']['type'] = 'DAFormerHaed'
    with pytest.raises(KeyError, match="DAFormerHead"):
        build_segmentor(cfg)


def test_missing_pretrained_file_says_where_to_get_it(tmp_path):
    model = build_segmentor(tiny_cfg(pretrained=str(tmp_path / 'mit_b0.pth')))
    with pytest.raises(FileNotFoundError, match=r'mit_b0\.pth.*SegFormer release.*pretrained/'):
        model.init_weights()


def test_pretrained_release_format_loads(tmp_path):
    source = build_backbone(dict(type='mit_b0'))
    state_dict = dict(source.state_dict())
    state_dict['head.weight'] = torch.zeros(1000, 256)  # ImageNet classifier of the release
    path = tmp_path / 'mit_b0.pth'
    torch.save(state_dict, path)
    model = build_segmentor(tiny_cfg(pretrained=str(path)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


def test_checkpoint_without_matching_keys_fails_loudly(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': {'encoder.layer1.weight': torch.zeros(3)}}, path)
    model = build_segmentor(tiny_cfg())
    with pytest.raises(RuntimeError, match='No key of checkpoint.*other architecture'):
        load_checkpoint(model, str(path))


def test_uda_checkpoint_loads_only_the_student(tmp_path):
    student = build_segmentor(tiny_cfg())
    teacher = build_segmentor(tiny_cfg())
    state = {f'model.{k}': v for k, v in student.state_dict().items()}
    state.update({f'ema_model.{k}': v + 1 for k, v in teacher.state_dict().items()
                  if v.is_floating_point()})
    path = tmp_path / 'uda.pth'
    torch.save({'state_dict': state, 'meta': {}}, path)
    model = build_segmentor(tiny_cfg())
    load_checkpoint(model, str(path))
    for key, value in student.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_unknown_config_key_suggests_closest_key():
    cfg = tiny_cfg()
    cfg['decode_head']['dropout_ration'] = 0.1
    with pytest.raises(TypeError, match=r"'dropout_ration'.*Did you mean 'dropout_ratio'"):
        build_segmentor(cfg)
