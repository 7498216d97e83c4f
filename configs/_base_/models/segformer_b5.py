# SegFormer with an ImageNet-pretrained MiT-B5 encoder.
_base_ = ['segformer.py']

model = dict(
    pretrained='pretrained/mit_b5.pth',
    backbone=dict(type='mit_b5', style='pytorch'),
    decode_head=dict(
        decoder_params=dict(embed_dim=768, conv_kernel_size=1)))
