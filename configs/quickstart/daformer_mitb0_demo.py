# Quickstart: supervised DAFormer on the synthetic street scenes of
# tools/make_demo_data.py (Cityscapes layout and classes) — a few minutes on a
# CPU, no downloads. The network is the DAFormer one (MiT encoder + context-aware
# fusion decoder with separable ASPP, DAFormer Sec. 3.2) at its smallest: MiT-B0,
# 128-dim decoder, trained from scratch (no ImageNet weights), so the learning
# rate is higher and the schedule much shorter than the paper's.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
]
seed = 0
decoder_dims = 128
model = dict(
    pretrained=None,
    backbone=dict(type='mit_b0'),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        channels=decoder_dims,
        decoder_params=dict(embed_dims=decoder_dims)))

dataset_type = 'CityscapesDataset'
data_root = 'data/demo_cityscapes/'
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
crop_size = (128, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(256, 128)),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='Pad', size=crop_size, pad_val=0, seg_pad_val=255),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(256, 128),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='RandomFlip'),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]
data = dict(
    samples_per_gpu=4,
    workers_per_gpu=0,
    # Repeated so that the loader rarely reaches the end of an epoch (mmcv's
    # IterBasedRunner pauses 2 s at every epoch end).
    train=dict(
        type='RepeatDataset',
        times=100,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            img_dir='leftImg8bit/train',
            ann_dir='gtFine/train',
            pipeline=train_pipeline)),
    val=dict(
        type=dataset_type,
        data_root=data_root,
        img_dir='leftImg8bit/val',
        ann_dir='gtFine/val',
        pipeline=test_pipeline),
    test=dict(
        type=dataset_type,
        data_root=data_root,
        img_dir='leftImg8bit/val',
        ann_dir='gtFine/val',
        pipeline=test_pipeline))

# From scratch: a 10x larger learning rate than the paper's fine-tuning one.
optimizer = dict(
    lr=6e-4,
    paramwise_cfg=dict(
        custom_keys=dict(
            head=dict(lr_mult=1.0),
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0))))
lr_config = dict(warmup_iters=20)
max_iters = 200
runner = dict(type='IterBasedRunner', max_iters=max_iters)
checkpoint_config = dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1)
evaluation = dict(interval=max_iters, metric='mIoU')
log_config = dict(interval=20)
cudnn_benchmark = False
