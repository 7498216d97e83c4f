"""ProCST translator components with known answers (SPEC-more-uda.md §4.6)."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmcv import Config

from fake_datasets import REPO
from mmseg.models.translation import (ProCSTTranslator, RandomConvFeatures, SegmentorFeatures,
                                      StyleContentLoss, VGG16Features, cycle_loss,
                                      gradient_penalty, gram, image_pyramid, tv_loss)


def small_translator(**kwargs):
    return ProCSTTranslator(**dict(dict(base_channels=[8, 8, 8], images_per_gpu=[2, 2, 2]),
                                   **kwargs))


def test_pyramid_of_a_128x256_image():
    image = torch.rand(1, 3, 128, 256) * 2 - 1
    sizes = [tuple(level.shape[-2:]) for level in image_pyramid(image, 3, 0.5)]
    assert sizes == [(32, 64), (64, 128), (128, 256)]
    assert [tuple(x.shape[-2:]) for x in small_translator().pyramid(image, 1)] == \
        [(64, 128), (128, 256)]


def test_generator_input_channels_and_output_range():
    translator = small_translator()
    for d in ('st', 'ts'):
        heads = [g.head.conv.in_channels for g in translator.generators[d]]
        assert heads == [3, 6, 6]
        assert [len(g.body) for g in translator.generators[d]] == [3, 5, 5]
    # 6-channel heads have no norm (GroupNorm(8) does not divide 6): conv -> LeakyReLU
    assert translator.generators['st'][1].head.norm is None
    assert isinstance(translator.generators['st'][1].body[0].norm, nn.GroupNorm)
    assert isinstance(ProCSTTranslator(images_per_gpu=[32, 16, 3]).generators['st'][0]
                      .body[0].norm, nn.BatchNorm2d)
    for generator in translator.generators['st']:
        nn.init.normal_(generator.tail[0].conv.weight, 0, 10)  # saturate the tanh
    image = torch.randn(2, 3, 32, 64) * 50
    out = translator.translate(translator.pyramid(image), 'st')
    assert out.shape == (2, 3, 32, 64)
    assert out.min() >= -1 and out.max() <= 1 and out.abs().max() > 0.99


def test_same_seed_same_weights_other_seed_other_weights():
    a, b, c = small_translator(seed=3), small_translator(seed=3), small_translator(seed=4)
    wa, wb, wc = (t.generators['st'][2].head.conv.weight for t in (a, b, c))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)


class IdentityGenerator(nn.Module):
    def forward(self, image, previous=None):
        return image


def test_identity_generators_give_zero_cycle_loss():
    translator = small_translator()
    for d in ('st', 'ts'):
        translator.generators[d] = nn.ModuleList([IdentityGenerator() for _ in range(3)])
    pyramid = translator.pyramid(torch.rand(2, 3, 32, 64) * 2 - 1)
    for scale in range(3):
        loss, translated, back = cycle_loss(translator, pyramid[:scale + 1], 'st', scale)
        assert loss.item() == 0 and torch.equal(back, pyramid[scale])
    # a real generator does not reproduce its input
    assert cycle_loss(small_translator(), pyramid, 'st')[0].item() > 0.01


def test_gradient_penalty_of_a_linear_critic():
    critic = nn.Conv2d(3, 1, 1, bias=False)  # D(x) = sum_c w_c x_c per pixel
    w = torch.tensor([0.3, -1.2, 2.0])
    with torch.no_grad():
        critic.weight.copy_(w.view(1, 3, 1, 1))
    real, fake = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    expected = 0.1 * (w.norm() - 1) ** 2
    assert gradient_penalty(critic, real, fake, 0.1).item() == pytest.approx(expected.item(),
                                                                          rel=1e-5)
    gp = gradient_penalty(critic, real, fake, 0.1)
    gp.backward()
    assert critic.weight.grad.abs().sum() > 0  # differentiable w.r.t. the critic


def test_tv_of_a_constant_image_is_zero():
    assert tv_loss(torch.full((2, 3, 8, 8), 0.7)).item() == 0
    ramp = torch.arange(4.).view(1, 1, 1, 4).expand(1, 1, 4, 4)
    assert tv_loss(ramp).item() == pytest.approx(1.0)  # |d/dx| = 1, |d/dy| = 0


def test_gram_of_a_known_map():
    features = torch.zeros(1, 2, 2, 2)
    features[0, 0, 0, 0] = 1  # one-hot map: class 0 at one pixel, class 1 at three
    features[0, 1] = 1
    features[0, 1, 0, 0] = 0
    assert torch.equal(gram(features), torch.tensor([[[1., 0.], [0., 3.]]]) / 4)


def test_style_content_loss_terms_switch_off():
    extractor = dict(type='RandomConvFeatures', channels=[4, 4, 4, 4])
    images = [torch.rand(1, 3, 32, 32) * 2 - 1 for _ in range(3)]
    full = StyleContentLoss(extractor)(*images)
    assert set(full) == {'loss', 'loss_content', 'loss_style', 'loss_tv'}
    only_tv = StyleContentLoss(extractor, content_weight=0, style_weight=0, tv_weight=1)(*images)
    assert set(only_tv) == {'loss', 'loss_tv'}
    assert only_tv['loss'].item() == pytest.approx(tv_loss(images[0]).item())
    same = StyleContentLoss(extractor, tv_weight=0)(images[0], images[0], images[0])
    assert same['loss'].item() == 0


def test_random_conv_features_are_fixed_by_their_seed():
    x = torch.rand(1, 3, 16, 16)
    a, b = RandomConvFeatures(seed=1)(x), RandomConvFeatures(seed=1)(x)
    assert list(a) == ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3']
    assert torch.equal(a['relu4_3'], b['relu4_3']) and a['relu4_3'].shape[-1] == 2
    assert not any(p.requires_grad for p in RandomConvFeatures().parameters())


def test_segmentor_features_are_its_frozen_backbone_stages(tmp_path):
    from mmseg.models.builder import build_segmentor
    config = str(REPO / 'configs' / 'synthshift' / 'pretrain.py')
    torch.manual_seed(0)
    segmentor = build_segmentor(Config.fromfile(config).model)
    torch.save({'state_dict': segmentor.state_dict()}, tmp_path / 'seg.pth')
    features = SegmentorFeatures(config, str(tmp_path / 'seg.pth'))
    features.train()
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    norm = Config.fromfile(config).img_norm_cfg
    normalized = ((image + 1) * 127.5 - torch.tensor(norm['mean']).view(1, 3, 1, 1)) / \
        torch.tensor(norm['std']).view(1, 3, 1, 1)
    out = features(image)
    expected = segmentor.eval().backbone(normalized)
    assert list(out) == ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3']
    assert all(torch.allclose(out[k], e) for k, e in zip(out, expected))
    assert out['relu1_2'].shape[-1] == 16 and not features.training
    assert not any(p.requires_grad for p in features.parameters())
    with pytest.raises(ValueError, match='a 16x64 image is below the 32 px'):
        features(torch.zeros(1, 3, 16, 64))
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        SegmentorFeatures(config, str(tmp_path / 'missing.pth'))


def test_vgg16_without_weights_names_the_expected_file(tmp_path):
    missing = tmp_path / 'vgg16.pth'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        VGG16Features(weights=str(missing))


def test_paper_configs_need_the_vgg16_file():
    for name in ('gta2cs_procst.py', 'syn2cs_procst.py'):
        cfg = Config.fromfile(str(REPO / 'configs' / 'procst' / name))
        assert cfg.style_loss.feature_extractor == dict(type='VGG16Features',
                                                        weights='pretrained/vgg16.pth')
        assert cfg.loss_weights == dict(adversarial=1, gradient_penalty=0.1, cycle=1,
                                        labels=1, style=10)
        assert cfg.data.samples_per_gpu == [32, 16, 3]
    syn = Config.fromfile(str(REPO / 'configs' / 'procst' / 'syn2cs_procst.py'))
    assert syn.data.source.type == 'SynthiaDataset' and syn.epoch_size == 22972


def dataset_without_source_img_dir(name):
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / name))
    img_dir = cfg.data.train.source.pop('img_dir')
    return img_dir, cfg._cfg_dict.to_dict()


@pytest.mark.parametrize('translated, source', [
    ('uda_gtaSiT_to_cityscapes_512x512.py', 'uda_gta_to_cityscapes_512x512.py'),
    ('uda_gtaSiTHR_to_cityscapesHR_1024x1024.py', 'uda_gtaHR_to_cityscapesHR_1024x1024.py'),
    ('uda_synthiaSiT_to_cityscapes_512x512.py', 'uda_synthia_to_cityscapes_512x512.py'),
    ('uda_synthiaSiTHR_to_cityscapesHR_1024x1024.py',
     'uda_synthiaHR_to_cityscapesHR_1024x1024.py'),
])
def test_translated_dataset_base_differs_only_in_the_image_folder(translated, source):
    sit_dir, sit = dataset_without_source_img_dir(translated)
    src_dir, src = dataset_without_source_img_dir(source)
    assert sit_dir == 'sit_procst' and src_dir != sit_dir
    assert sit == src  # same data_root (labels, RCS statistics), pipelines and target
    assert osp.isfile(REPO / 'configs' / '_base_' / 'datasets' / translated)


def test_channel_statistics_and_their_distance(tmp_path):
    import cv2
    import numpy as np

    from mmseg.utils.image_statistics import channel_statistics, statistics_distance
    (tmp_path / 'a' / 'sub').mkdir(parents=True)
    (tmp_path / 'b').mkdir()
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0] = (10, 20, 30)
    rgb[1] = (30, 20, 10)
    cv2.imwrite(str(tmp_path / 'a' / 'sub' / 'x.png'), rgb[..., ::-1])
    cv2.imwrite(str(tmp_path / 'b' / 'y.png'), np.full((2, 2, 3), 20, np.uint8))
    a, b = channel_statistics(str(tmp_path / 'a')), channel_statistics(str(tmp_path / 'b'))
    assert a == dict(mean=[20.0, 20.0, 20.0], std=[10.0, 0.0, 10.0], images=1)
    assert statistics_distance(a, b) == pytest.approx(np.sqrt(200))
    with pytest.raises(FileNotFoundError, match='no images'):
        channel_statistics(str(tmp_path / 'a' / 'missing'))
