# SynthShift: HRDA multi-resolution training on top of DAFormer — a 128x128 context crop
# seen at half resolution and a 64x64 detail crop at full resolution, fused by a learned
# scale attention; pseudo-labels and test from overlapping detail windows.
_base_ = ['daformer.py']
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        single_scale_head='DAFormerHead',
        attention_classwise=True,
        hr_loss_weight=0.1),
    scales=[1, 0.5],
    hr_crop_size=(64, 64),
    feature_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,
    test_cfg=dict(mode='whole'))
