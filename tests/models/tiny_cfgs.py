"""Tiny model / UDA configs for fast CPU tests."""
import copy

IMG_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def tiny_daformer(num_classes=19, channels=32):
    return dict(
        type='EncoderDecoder', pretrained=None,
        backbone=dict(type='mit_b0', drop_path_rate=0.0),
        decode_head=dict(
            type='DAFormerHead', in_channels=[32, 64, 160, 256], in_index=[0, 1, 2, 3],
            channels=channels, dropout_ratio=0.1, num_classes=num_classes,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
            decoder_params=dict(
                embed_dims=channels,
                embed_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
                embed_neck_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
                fusion_cfg=dict(type='aspp', sep=True, dilations=(1, 6, 12, 18), pool=False,
                                act_cfg=dict(type='ReLU'),
                                norm_cfg=dict(type='BN', requires_grad=True))),
            loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def tiny_dacs(**overrides):
    uda = dict(type='DACS', alpha=0.999, pseudo_threshold=0.968, pseudo_weight_ignore_top=0,
               pseudo_weight_ignore_bottom=0, mix='class', blur=True,
               color_jitter_strength=0.2, color_jitter_probability=0.2,
               imnet_feature_dist_lambda=0.005,
               imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
               imnet_feature_dist_scale_min_ratio=0.75, debug_img_interval=1000,
               print_grad_magnitude=False, source_only=False, mask_mode=None,
               mask_alpha='same', mask_pseudo_threshold='same', mask_lambda=0,
               mask_generator=None, model=tiny_daformer())
    uda.update(copy.deepcopy(overrides))
    return uda


def img_metas(n, h, w):
    return [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3), flip=False,
                 scale_factor=1.0, img_norm_cfg=IMG_NORM) for _ in range(n)]


def tiny_hrda(feature_scale=0.5, hr_crop_size=(32, 32)):
    head = tiny_daformer()['decode_head']
    head.update(type='HRDAHead', single_scale_head='DAFormerHead', attention_classwise=True,
                hr_loss_weight=0.1)
    return dict(type='HRDAEncoderDecoder', pretrained=None,
                backbone=dict(type='mit_b0', drop_path_rate=0.0), decode_head=head,
                scales=[1, 0.5], hr_crop_size=hr_crop_size, feature_scale=feature_scale,
                crop_coord_divisible=8, hr_slide_inference=True,
                train_cfg=dict(), test_cfg=dict(mode='whole'))
