# ProCST (Ettedgui et al., arXiv 2204.11891): a GTA <-> Cityscapes translator, official
# settings (core/config.py and README of shahaf1313/ProCST; SPEC-more-uda.md §4.3).
#   python tools/procst/train.py configs/procst/gta2cs_procst.py
#   python tools/procst/translate.py work_dirs/procst/gta2cs_procst/latest.pth \
#       data/gta/images data/gta/sit_procst
# then any UDA config on _base_/datasets/uda_gtaSiT_to_cityscapes_512x512.py.
seed = 1337
# 3 levels: 256x128, 512x256, 1024x512 crops (scale factor 0.5).
translator = dict(
    type='ProCSTTranslator',
    num_scales=2,
    scale_factor=0.5,
    base_channels=[64, 64, 64],
    body_layers=5,
    groups=8,
    kernel_size=3)
optimizer = dict(lr_g=1e-4, lr_d=1e-4, betas=(0.9, 0.999))
# lambda_adversarial, lambda_grad, lambda_cyclic, lambda_labels, lambda_style; 0 switches
# a term off.
loss_weights = dict(adversarial=1, gradient_penalty=0.1, cycle=1, labels=1, style=10)
style_loss = dict(
    type='StyleContentLoss',
    feature_extractor=dict(type='VGG16Features', weights='pretrained/vgg16.pth'),
    content_layers=['relu3_3'],
    style_layers=['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'],
    content_weight=1 / 30,
    style_weight=1,
    tv_weight=1 / 30)
# Last level only: CE of the frozen source model on S->T->S, and Seg_SiT trained on S->T
# (SGD 1e-4, head x10, its CE also trains G_st). Seg_S: a source-only DeepLabV2-R101 of
# this codebase (official: train_semseg_on_source.py, 250k steps), e.g. trained with
# tools/train.py on a source-only GTA config of that network.
label_losses = dict(
    source_segmentor=dict(
        type='LabelCycleLoss',
        config='configs/procst/deeplabv2_r101.py',
        checkpoint='work_dirs/procst/gta_source_only_dlv2_r101/latest.pth'),
    sit_segmentor=dict(
        type='SiTSegmentor',
        config='configs/procst/deeplabv2_r101.py',
        optimizer=dict(
            type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4,
            paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0))))))
# 40 epochs per level of max(|GTA|, |Cityscapes train + train_extra|) = 24,966 samples.
epochs_per_scale = 40
epoch_size = 24966
max_steps_per_scale = None
log_interval = 50
image_interval = 1000
checkpoint_interval = 2000
# Pixels in [-1, 1]; GTA resized to 1126x619 with 1024x512 random crops, Cityscapes
# (train + train_extra) resized to 1024x512.
img_norm_cfg = dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=True)
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', img_scale=(1126, 619)),
    dict(type='RandomCrop', crop_size=(512, 1024)),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
target_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', img_scale=(1024, 512)),
    dict(type='RandomCrop', crop_size=(512, 1024)),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img']),
]
data = dict(
    # Batch size per level (official batch_size_list).
    samples_per_gpu=[32, 16, 3],
    workers_per_gpu=4,
    source=dict(
        type='GTADataset',
        data_root='data/gta/',
        img_dir='images',
        ann_dir='labels',
        pipeline=source_pipeline),
    target=dict(
        type='CityscapesDataset',
        data_root='data/cityscapes/',
        img_dir=['leftImg8bit/train', 'leftImg8bit/train_extra'],
        pipeline=target_pipeline))
