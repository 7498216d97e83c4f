# SynthShift: CPSL stage 1 from the AdvSeg warm-up (synthshift/advseg.py) and its
# tools/cpsl_prepare.py folder (experiment 9 sets load_from and uda.prepare_dir). Scaled
# to the short CPU schedule: EMA momentum 0.99 like the other SynthShift methods, M = 64
# sampled pixels per image, a queue of 8192 (64 iterations of 2x64 pixels, as the
# official 65,536 holds 64 iterations of 4x256), weak views 128x128 cut from the
# 128x256 image resized by U(1, 1.5) (the official crop covers ~half the image width).
_base_ = ['base.py', '../_base_/uda/cpsl.py']
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
# No flip (the full image is not augmented): Collect without the flip keys.
target_full_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(256, 128)),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img'],
         meta_keys=('filename', 'ori_filename', 'ori_shape', 'img_shape', 'pad_shape',
                    'scale_factor', 'img_norm_cfg')),
]
data = dict(train=dict(target=dict(pipeline=target_full_pipeline)))
uda = dict(
    prepare_dir='work_dirs/cpsl_prepare',
    alpha=0.99,
    num_samples=64,
    queue_len=8192,
    weak_view=dict(crop_size=(128, 128), ratio_range=(1.0, 1.5)))
