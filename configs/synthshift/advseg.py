# SynthShift: AdvSeg output-space adversarial training (Tsai et al.), the warm-up of
# CPSL (ProDA/CPSL warm-up: LS-GAN, adversarial weight 0.01, Adam 1e-4 for the
# discriminator), from the shared source model with the SynthShift AdamW schedule.
_base_ = ['base.py', '../_base_/uda/advseg.py']
uda = dict(lambda_adv_target=dict(main=0.01))
