# The segmentors of ProCST's label losses (official: torchvision ResNet-101 DeepLabV2 with
# the full ASPP): this codebase's DeepLabV2 (dilations 6, 12, 18, 24) on ResNet-101-V1c,
# ImageNet-initialised, fed images normalised like every GTA/Cityscapes config here.
_base_ = ['../_base_/models/deeplabv2_r50-d8.py']
model = dict(pretrained='open-mmlab://resnet101_v1c', backbone=dict(depth=101))
img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
