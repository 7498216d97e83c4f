# SynthShift: MIC masked image consistency on top of DAFormer (MIC Table 5 also reports
# MIC(DAFormer)): target images with colour jitter/blur and 70% of 16x16 blocks masked
# must be predicted like the EMA teacher's pseudo-label of the full image (the paper's
# 32x32 blocks on 512x512 DAFormer crops, scaled to 128x128 crops and doubled so a block
# still covers an object part).
_base_ = ['daformer.py']
uda = dict(
    mask_mode='separatetrgaug',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        _delete_=True, type='block', mask_ratio=0.7, mask_block_size=16))
