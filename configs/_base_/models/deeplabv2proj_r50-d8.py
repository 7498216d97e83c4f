# DeepLabV2 as ProDA and CPSL build it (SPEC-more-uda.md §2.4): dilated ResNet (output
# stride 8) with the "modified ASPP" (1x1 + dilated 3x3 branches of 256 channels, GN,
# squeeze-and-excitation, 3x3 projection to the 256-d feature the prototypes cluster,
# dropout 0.1, 1x1 classifier).
_base_ = ['deeplabv2_r50-d8.py']
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DLV2ProjHead',
        in_channels=2048,
        in_index=3,
        channels=256,
        dilations=(6, 12, 18, 24),
        dropout_ratio=0.1,
        num_classes=19,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
