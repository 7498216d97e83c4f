# SynthShift: DAFormer training strategies on top of DACS — rare class sampling
# (DAFormer Sec. 3.3), learning-rate warm-up and pseudo-label cropping; the thing-class
# ImageNet feature distance only with ImageNet weights (synthshift/daformer_fd.py).
_base_ = ['dacs.py']
data = dict(
    train=dict(
        # Rare class sampling; min_pixels: 3000 of GTA's 1914x1052 pixels scaled to 128x256.
        rare_class_sampling=dict(min_pixels=48, class_temp=0.01, min_crop_ratio=0.5)))
# Warm-up over the first 10% of the iterations (1.5k of the paper's 40k is 4%).
lr_config = dict(warmup='linear', warmup_iters=30, warmup_ratio=1e-6)
# Pseudo-label cropping: the bottom 12 rows of the target crops (the ego bonnet reaches
# 8 rows up; DAFormer ignores 120 of 512 rows at Cityscapes' half resolution).
uda = dict(pseudo_weight_ignore_top=0, pseudo_weight_ignore_bottom=12)
