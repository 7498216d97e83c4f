# DeepLabV2 with a reduced ASPP (dilations 6 and 12 only).
_base_ = ['deeplabv2_r50-d8.py']

model = dict(decode_head=dict(dilations=(6, 12)))
