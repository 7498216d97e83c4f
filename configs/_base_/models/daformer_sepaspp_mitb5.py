# DAFormer decoder (DAFormer Sec. 3.2, Fig. 3): context-aware feature fusion
# with a depthwise-separable ASPP (dilations 1, 6, 12, 18) over the stacked
# multi-level features.
_base_ = ['daformer_conv1_mitb5.py']

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        decoder_params=dict(
            fusion_cfg=dict(
                _delete_=True,
                type='aspp',
                sep=True,
                dilations=(1, 6, 12, 18),
                pool=False,
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg))))
