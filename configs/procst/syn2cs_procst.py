# ProCST translator Synthia <-> Cityscapes, official settings: gta2cs_procst.py with the
# Synthia source (1280x760 images, 1024x512 random crops) and a Synthia source model.
#   python tools/procst/translate.py work_dirs/procst/syn2cs_procst/latest.pth \
#       data/synthia/RGB data/synthia/sit_procst
_base_ = ['gta2cs_procst.py']
# max(|Synthia|, |Cityscapes train + train_extra|) samples per epoch.
epoch_size = 22972
label_losses = dict(
    source_segmentor=dict(checkpoint='work_dirs/procst/synthia_source_only_dlv2_r101/latest.pth'))
source_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(512, 1024)),
    dict(type='Normalize',
         mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], to_rgb=True),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_semantic_seg']),
]
data = dict(
    source=dict(
        _delete_=True,
        type='SynthiaDataset',
        data_root='data/synthia/',
        img_dir='RGB',
        ann_dir='GT/LABELS',
        pipeline=source_pipeline))
