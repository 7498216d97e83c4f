# SynthShift: ProCST (configs/procst/gta2cs_procst.py) at 128x256 on a CPU in minutes —
# 3 levels of 32x64, 64x128 and 128x256 (the whole image), 8-channel blocks (body 1/3/3
# blocks), 4/4/2 images and 120 steps per level with a 10x learning rate. VGG16 ImageNet
# weights cannot be downloaded here: the style/content loss reads the (frozen) encoder of
# experiment 0's source model instead (same layer names; features trained to tell the
# classes apart, so the content loss keeps each class's look — random conv features do
# not, see README). Seg_S (label cycle) is the same source model; Seg_SiT is switched
# off (a MiT-B0 trained from scratch on 120 steps teaches G_st nothing and would double the
# cost of a last-level step).
_base_ = ['../procst/gta2cs_procst.py']
seed = 0
translator = dict(base_channels=[8, 8, 8], body_layers=3)
optimizer = dict(lr_g=1e-3, lr_d=1e-3)
source_model = dict(config='configs/synthshift/pretrain.py',
                    checkpoint='work_dirs/0/synthshift_pretrain_mitb0_s0/latest.pth')
style_loss = dict(feature_extractor=dict(_delete_=True, type='SegmentorFeatures', **source_model))
label_losses = dict(source_segmentor=source_model, sit_segmentor=None)
epochs_per_scale = 1
epoch_size = 400
max_steps_per_scale = 120
log_interval = 40
image_interval = 40
checkpoint_interval = 40
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=True)
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img']),
]
data = dict(
    samples_per_gpu=[4, 4, 2],
    workers_per_gpu=0,
    source=dict(data_root='data/synthshift/gta/', pipeline=source_pipeline),
    target=dict(
        data_root='data/synthshift/cityscapes/',
        img_dir='leftImg8bit/train',
        pipeline=target_pipeline))
