"""ResNet-family backbones and the non-DAFormer decoders of the experiment IDs (DeepLabV2,
DeepLabV3+, DANet, ISANet, UPerNet): state-dict layouts against fixtures/models/keys,
numerics against timm's independent ResNet/ResNeXt/ResNeSt, and one training step plus one
``simple_test`` for every architecture that the experiment configs use."""
import copy
import json

import pytest
import timm
import torch

from mmseg.models import build_backbone, build_head, build_segmentor
from mmseg.models.backbones.resnet import Bottleneck
from test_model_keys import assert_same_layout, decode_tuples, expected_layout, layout
from tiny_cfgs import img_metas

# --------------------------------------------------------------------------- configs

def base_model(fixtures_dir, base, **backbone):
    configs = json.loads((fixtures_dir / 'experiments' / 'base_configs.json').read_text())
    model = decode_tuples(configs[f'_base_/models/{base}.py'])['model']
    model['pretrained'] = None
    model['backbone'].update(backbone)
    return model


def experiment_models(fixtures_dir):
    """Merged ``model`` configs of every experiment configuration (DAFormer/HRDA/MIC)."""
    for path in sorted((fixtures_dir / 'experiments').glob('*_exp*.json')):
        for cfg in json.loads(path.read_text())['configs']:
            yield decode_tuples(cfg['merged']['model'])


def arch_of(model):
    """(segmentor, backbone type, decode head, HRDA single-scale head, neck)."""
    head = model['decode_head']
    return (model['type'], model['backbone']['type'], head['type'],
            head.get('single_scale_head'), (model.get('neck') or {}).get('type'))


# Architectures of the experiment IDs tested here (the MiT + DAFormer/SegFormer ones are
# covered by test_model_keys / test_parity / test_hrda).
ARCHS = {
    'dlv2_resnet': ('EncoderDecoder', 'ResNetV1c', 'DLV2Head', None, None),
    'dlv2_resnext': ('EncoderDecoder', 'ResNeXt', 'DLV2Head', None, None),
    'dlv2_resnest': ('EncoderDecoder', 'ResNeSt', 'DLV2Head', None, None),
    'danet_resnet': ('EncoderDecoder', 'ResNetV1c', 'DAHead', None, None),
    'isanet_resnet': ('EncoderDecoder', 'ResNetV1c', 'ISAHead', None, None),
    'dlv3p_resnet': ('EncoderDecoder', 'ResNetV1c', 'DepthwiseSeparableASPPHead', None, None),
    'segformer_resnet': ('EncoderDecoder', 'ResNetV1c', 'SegFormerHead', None, None),
    'sfa_dlv3p_mit': ('EncoderDecoder', 'mit_b5', 'DepthwiseSeparableASPPHead', None,
                      'SegFormerAdapter'),
    'upernet_mit': ('EncoderDecoder', 'mit_b5', 'UPerHead', None, None),
    'hrda_dlv2_resnet': ('HRDAEncoderDecoder', 'ResNetV1c', 'HRDAHead', 'DLV2Head', None),
}
COVERED_ELSEWHERE = {
    ('EncoderDecoder', mit, 'SegFormerHead', None, None) for mit in ('mit_b3', 'mit_b4', 'mit_b5')
} | {
    ('EncoderDecoder', 'mit_b5', 'DAFormerHead', None, None),
    ('EncoderDecoder', 'mit_b5', 'DAFormerHead', None, 'SegFormerAdapter'),
    ('HRDAEncoderDecoder', 'mit_b5', 'HRDAHead', 'DAFormerHead', None),
}
MIT_B5_DIMS = [64, 128, 320, 512]
MIT_B0_DIMS = [32, 64, 160, 256]


@pytest.fixture(scope='module')
def experiment_archs(fixtures_dir):
    """arch name → (first experiment model config, backbone depths used)."""
    found = {}
    for model in experiment_models(fixtures_dir):
        for name, arch in ARCHS.items():
            if arch_of(model) == arch:
                cfg, depths = found.setdefault(name, (model, set()))
                depths.add(model['backbone'].get('depth'))
    return found


def test_every_experiment_architecture_is_tested(fixtures_dir, experiment_archs):
    used = {arch_of(model) for model in experiment_models(fixtures_dir)}
    assert used - set(ARCHS.values()) - COVERED_ELSEWHERE == set()
    assert set(experiment_archs) == set(ARCHS)


def smoke_cfg(model):
    """The experiment model made cheap: ResNet depth 50, MiT-B0 instead of MiT-B5, a small
    HRDA detail crop; everything else as configured."""
    cfg = copy.deepcopy(model)
    cfg['pretrained'] = None
    backbone, head = cfg['backbone'], cfg['decode_head']
    if 'depth' in backbone:
        backbone['depth'] = 50
    if backbone['type'] == 'mit_b5':
        backbone['type'] = 'mit_b0'
        if isinstance(head['in_channels'], list):
            head['in_channels'] = [MIT_B0_DIMS[i] for i in head['in_index']]
        else:
            head['in_channels'] = MIT_B0_DIMS[head['in_index']]
        if 'c1_in_channels' in head:
            head['c1_in_channels'] = MIT_B0_DIMS[0]
    if cfg['type'] == 'HRDAEncoderDecoder':
        cfg['hr_crop_size'] = (32, 32)
    return cfg


def train_and_test(model, n=2, size=64):
    """One training forward/backward and one simple_test; returns the loss dict."""
    torch.manual_seed(0)
    img = torch.randn(n, 3, size, size)
    gt = torch.randint(0, 19, (n, 1, size, size))
    gt[:, :, :8] = 255
    metas = img_metas(n, size, size)
    model.train()
    losses = model.forward_train(img, metas, gt)
    loss, _ = model._parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    unused = ('decode_head.conv_seg.',) if model.decode_head.__class__.__name__ == \
        'SegFormerHead' else ()
    no_grad = [name for name, p in model.named_parameters()
               if p.requires_grad and p.grad is None and not name.startswith(unused)]
    assert not no_grad, f'parameters without gradient: {no_grad[:5]}'
    model.eval()
    with torch.no_grad():
        preds = model.simple_test(img, metas, rescale=True)
    assert len(preds) == n and preds[0].shape == (size, size)
    assert preds[0].min() >= 0 and preds[0].max() < 19
    return losses


# --------------------------------------------------------------------------- key layouts

@pytest.mark.parametrize('name, base, backbone', [
    ('segmentor_deeplabv2_r50-d8', 'deeplabv2_r50-d8', {}),
    ('segmentor_deeplabv2red_r101v1c', 'deeplabv2red_r50-d8', dict(depth=101)),
])
def test_deeplabv2_keys(fixtures_dir, name, base, backbone):
    model = build_segmentor(base_model(fixtures_dir, base, **backbone))
    assert_same_layout(layout(model), expected_layout(fixtures_dir, name))


@pytest.fixture(scope='module')
def mit_b5_layout():
    return {f'backbone.{k}': v for k, v in layout(build_backbone(dict(type='mit_b5'))).items()}


@pytest.mark.parametrize('base', ['upernet_mit', 'upernet_ch256_mit'])
def test_upernet_keys(fixtures_dir, mit_b5_layout, base):
    # EncoderDecoder without neck = backbone.* + decode_head.*; the MiT-B5 is built once.
    model = base_model(fixtures_dir, base, type='mit_b5')
    head = build_head(model['decode_head'])
    actual = dict(mit_b5_layout, **{f'decode_head.{k}': v for k, v in layout(head).items()})
    assert_same_layout(actual, expected_layout(fixtures_dir, f'segmentor_{base}'))
    feats = [torch.randn(1, c, 16 // 2**i, 16 // 2**i) for i, c in enumerate(MIT_B5_DIMS)]
    head.eval()
    with torch.no_grad():
        assert head(feats).shape == (1, 19, 16, 16)


def test_hrda_dlv2_keys_and_init(fixtures_dir, experiment_archs):
    cfg = copy.deepcopy(experiment_archs['hrda_dlv2_resnet'][0])
    cfg['pretrained'] = None
    model = build_segmentor(cfg)
    assert_same_layout(layout(model), expected_layout(fixtures_dir,
                                                      'segmentor_hrda_dlv2red_r101v1c'))
    model.init_weights()


# --------------------------------------------------------------------------- experiments

@pytest.mark.parametrize('arch', [a for a in ARCHS if a != 'hrda_dlv2_resnet'])
def test_experiment_architecture_trains_and_tests(experiment_archs, arch):
    model_cfg, depths = experiment_archs[arch]
    for depth in sorted(d for d in depths if d not in (None, 50)):
        # deep variants: the exact experiment backbone is only built (CI time)
        backbone = build_backbone(dict(model_cfg['backbone'], depth=depth))
        assert backbone.feat_dim == 2048
    losses = train_and_test(build_segmentor(smoke_cfg(model_cfg)))
    if arch == 'danet_resnet':
        assert {'decode.pam_cam.loss_seg', 'decode.pam.loss_seg', 'decode.cam.loss_seg',
                'decode.pam_cam.acc_seg'} <= set(losses)
    else:
        assert {'decode.loss_seg', 'decode.acc_seg'} <= set(losses)


def test_hrda_dlv2_trains_and_tests(experiment_archs):
    losses = train_and_test(build_segmentor(smoke_cfg(experiment_archs['hrda_dlv2_resnet'][0])))
    assert {'decode.loss_seg', 'decode.hr.loss_seg'} <= set(losses)


def test_sfa_dlv3p_head_on_mit_b5_features(experiment_archs):
    """The exact DeepLabV3+ config on MiT-B5-shaped features after the SegFormerAdapter."""
    head = build_head(experiment_archs['sfa_dlv3p_mit'][0]['decode_head']).eval()
    feats = [torch.randn(1, c, 16, 16) for c in MIT_B5_DIMS]  # stage 4 upsampled ×8
    with torch.no_grad():
        assert head(feats).shape == (1, 19, 16, 16)
    assert 'c1_bottleneck.conv.weight' in head.state_dict()


# --------------------------------------------------------------------------- backbones

def timm_stages(model, x):
    x = model.maxpool(model.act1(model.bn1(model.conv1(x))))
    outs = []
    for i in range(1, 5):
        x = getattr(model, f'layer{i}')(x)
        outs.append(x)
    return outs


def randomize_norms(module):
    torch.manual_seed(1)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


@pytest.mark.parametrize('timm_name, cfg', [
    ('resnet50c', dict(type='ResNetV1c', depth=50)),
    ('resnet50d', dict(type='ResNetV1d', depth=50)),
    ('resnext50_32x4d', dict(type='ResNeXt', depth=50, groups=32, base_width=4)),
    ('resnest50d', dict(type='ResNeSt', depth=50, stem_channels=64, radix=2,
                        reduction_factor=4, avg_down_stride=True)),
])
def test_backbone_matches_timm(timm_name, cfg):
    """Same weights → same stage outputs as timm's independent implementation (its deep
    stem ``conv1.*`` + ``bn1`` is our ``stem.0..6`` + ``stem.7``)."""
    reference = timm.create_model(timm_name, pretrained=False).eval()
    randomize_norms(reference)
    ours = build_backbone(cfg).eval()
    stem = {'conv1.0': 'stem.0', 'conv1.1': 'stem.1', 'conv1.3': 'stem.3', 'conv1.4': 'stem.4',
            'conv1.6': 'stem.6', 'bn1': 'stem.7'} if 'stem' in dict(ours.named_children()) \
        else {}
    state_dict = {}
    for key, value in reference.state_dict().items():
        module, _, param = key.rpartition('.')
        if not key.startswith('fc.'):
            state_dict[f'{stem.get(module, module)}.{param}'] = value
    ours.load_state_dict(state_dict, strict=True)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for i, (a, b) in enumerate(zip(ours(x), timm_stages(reference, x))):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4, msg=f'stage {i}')


def test_dilated_resnet_output_stride_8_and_contract_dilation():
    backbone = build_backbone(dict(type='ResNetV1c', depth=50, strides=(1, 2, 1, 1),
                                   dilations=(1, 1, 2, 4), contract_dilation=True))
    outs = backbone(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(256, 16, 16), (512, 8, 8), (1024, 8, 8),
                                                 (2048, 8, 8)]
    assert backbone.layer3[0].conv2.dilation == (1, 1)  # first block contracted: 2 // 2
    assert backbone.layer3[1].conv2.dilation == (2, 2)
    assert backbone.layer4[0].conv2.dilation == (2, 2)
    assert backbone.layer4[2].conv2.dilation == (4, 4)
    grid = build_backbone(dict(type='ResNetV1c', depth=50, strides=(1, 2, 1, 1),
                               dilations=(1, 1, 2, 4), multi_grid=(1, 2, 4)))
    assert [b.conv2.dilation[0] for b in grid.layer4] == [1, 2, 4]


def test_resnest_and_resnext_layouts():
    resnest = build_backbone(dict(type='ResNeSt', depth=50, stem_channels=64)).state_dict()
    assert 'layer2.0.conv2.fc1.bias' in resnest and 'layer2.0.bn2.weight' not in resnest
    assert tuple(resnest['layer1.0.conv2.conv.weight'].shape) == (128, 32, 3, 3)  # radix 2
    assert 'layer1.0.downsample.1.weight' in resnest  # avg-pool shortcut (ResNet-D)
    resnext = build_backbone(dict(type='ResNeXt', depth=50, groups=32)).state_dict()
    assert tuple(resnext['layer1.0.conv2.weight'].shape) == (128, 4, 3, 3)  # 32 groups × 4
    assert 'conv1.weight' in resnext and 'bn1.weight' in resnext  # plain 7×7 stem


def test_default_init_zeroes_the_last_norm_of_resnet_blocks_only():
    resnet = build_backbone(dict(type='ResNetV1c', depth=50))
    resnet.init_weights()
    blocks = [m for m in resnet.modules() if isinstance(m, Bottleneck)]
    assert all(torch.all(b.norm3.weight == 0) for b in blocks)
    assert torch.all(resnet.stem[1].weight == 1)
    resnext = build_backbone(dict(type='ResNeXt', depth=50, groups=32))
    resnext.init_weights()  # mmseg 0.x zero-initialised only the plain ResNet blocks
    assert torch.all(resnext.layer1[0].norm3.weight == 1)


def test_frozen_stages_and_norm_eval():
    backbone = build_backbone(dict(type='ResNetV1c', depth=50, frozen_stages=1,
                                   norm_eval=True))
    backbone.train()
    assert not any(p.requires_grad for p in backbone.stem.parameters())
    assert not any(p.requires_grad for p in backbone.layer1.parameters())
    assert all(p.requires_grad for p in backbone.layer2.parameters())
    assert not backbone.stem[1].training and not backbone.layer4[0].bn1.training
    assert backbone.layer4[0].training


def test_open_mmlab_pretrained_needs_a_local_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    backbone = build_backbone(dict(type='ResNetV1c', depth=18,
                                   pretrained='open-mmlab://resnet101_v1c'))
    with pytest.raises(FileNotFoundError, match=r'resnet101_v1c-e67eebb6\.pth.*'
                                                r'pretrained/resnet101_v1c\.pth'):
        backbone.init_weights()


@pytest.mark.parametrize('as_open_mmlab', [True, False])
def test_pretrained_loads_from_local_file(tmp_path, monkeypatch, as_open_mmlab):
    monkeypatch.chdir(tmp_path)
    source = build_backbone(dict(type='ResNetV1c', depth=18))
    randomize_norms(source)
    state_dict = dict(source.state_dict(), **{'fc.weight': torch.zeros(1000, 512)})
    (tmp_path / 'pretrained').mkdir()
    torch.save({'state_dict': state_dict}, tmp_path / 'pretrained' / 'resnet18_v1c.pth')
    pretrained = 'open-mmlab://resnet18_v1c' if as_open_mmlab else 'pretrained/resnet18_v1c.pth'
    model = build_segmentor(dict(
        type='EncoderDecoder', pretrained=pretrained,
        backbone=dict(type='ResNetV1c', depth=18),
        decode_head=dict(type='DLV2Head', in_channels=512, in_index=3, num_classes=3,
                         dilations=(6, 12))))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key


# --------------------------------------------------------------------------- heads

def test_dlv2_head_is_a_sum_of_dilated_convs():
    head = build_head(dict(type='DLV2Head', in_channels=8, in_index=0, num_classes=3,
                           dilations=(6, 12),
                           init_cfg=dict(type='Normal', std=0.01,
                                         override=dict(name='aspp_modules'))))
    head.init_weights()
    assert set(head.state_dict()) == {f'aspp_modules.{i}.conv.{p}'
                                      for i in range(2) for p in ('weight', 'bias')}
    x = torch.randn(1, 8, 16, 16)
    expected = sum(torch.nn.functional.conv2d(x, m.conv.weight, m.conv.bias, padding=d,
                                              dilation=d)
                   for m, d in zip(head.aspp_modules, (6, 12)))
    torch.testing.assert_close(head([x]), expected)
    with pytest.raises(ValueError, match='channels'):
        build_head(dict(type='DLV2Head', in_channels=8, in_index=0, num_classes=3,
                        channels=16))


def test_da_head_outputs_and_attention_start_as_identity():
    head = build_head(dict(type='DAHead', in_channels=16, in_index=0, channels=8,
                           pam_channels=4, num_classes=3, norm_cfg=None))
    assert {'pam.gamma.scale', 'cam.gamma.scale', 'pam.query_project.weight',
            'pam_conv_seg.weight', 'cam_conv_seg.weight', 'conv_seg.weight'} \
        <= set(head.state_dict())
    assert 'pam_in_conv.conv.bias' in head.state_dict()  # no norm → conv bias
    x = torch.randn(2, 8, 5, 7)
    assert torch.equal(head.pam(x), x) and torch.equal(head.cam(x), x)  # gamma = 0
    head.eval()
    outs = head([torch.randn(2, 16, 5, 7)])
    assert len(outs) == 3 and all(o.shape == (2, 3, 5, 7) for o in outs)
    assert head.forward_test([torch.randn(2, 16, 5, 7)], None, None).shape == (2, 3, 5, 7)


@pytest.mark.parametrize('size', [(16, 16), (13, 21)])
def test_isa_head_shapes_and_names(size):
    head = build_head(dict(type='ISAHead', in_channels=16, in_index=0, channels=8,
                           isa_channels=4, num_classes=3, down_factor=(4, 4),
                           norm_cfg=dict(type='BN', requires_grad=True)))
    keys = set(head.state_dict())
    assert {'in_conv.conv.weight', 'global_relation.key_project.1.conv.weight',
            'local_relation.value_project.bias', 'local_relation.output_project.bn.weight',
            'out_conv.conv.weight'} <= keys
    assert tuple(head.state_dict()['in_conv.conv.weight'].shape) == (8, 16, 3, 3)
    assert tuple(head.state_dict()['out_conv.conv.weight'].shape) == (8, 16, 1, 1)
    head.eval()
    assert head([torch.randn(1, 16, *size)]).shape == (1, 3, *size)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain = build_backbone(dict(type='ResNetV1c', depth=18))
    checkpointed = build_backbone(dict(type='ResNetV1c', depth=18, with_cp=True))
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    for model in (plain, checkpointed):
        sum(out.sum() for out in model(x)).backward()
    for (name, a), b in zip(plain.named_parameters(), checkpointed.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_psp_head_pools_the_selected_level():
    head = build_head(dict(type='PSPHead', in_channels=16, in_index=1, channels=8,
                           num_classes=3, pool_scales=(1, 2, 3, 6),
                           norm_cfg=dict(type='BN', requires_grad=True))).eval()
    assert tuple(head.state_dict()['bottleneck.conv.weight'].shape) == (8, 16 + 4 * 8, 3, 3)
    assert 'psp_modules.3.1.conv.weight' in head.state_dict()
    assert head([torch.randn(1, 4, 20, 20), torch.randn(1, 16, 10, 10)]).shape == (1, 3, 10, 10)
