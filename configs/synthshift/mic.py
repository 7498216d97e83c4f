# SynthShift: MIC masked image consistency on top of HRDA — target images with colour
# jitter/blur and 70% of 16x16 blocks masked must be predicted like the teacher's
# pseudo-label of the full image (MIC: block 64 at 1024x1024, scaled to 128x128).
_base_ = ['hrda.py']
uda = dict(
    mask_mode='separatetrgaug',
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(
        _delete_=True, type='block', mask_ratio=0.7, mask_block_size=16))
