# SynthShift: class-conditional adversarial alignment (FADA-style, the first stage of
# Liu et al., CVPR 2022) from the shared source model: pixel discriminator on the MiT-B0
# stage-4 features (256 channels), official T, cap, lambda_adv and discriminator optimizer;
# the segmentor keeps the SynthShift AdamW schedule of the other methods.
_base_ = ['base.py', '../_base_/uda/labelshift_cda.py']
