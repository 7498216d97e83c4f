# SynthShift: DAFormer + RIPU pixel-based annotation (PA, not from the paper): 40 pixels per
# 128x256 target image over 5 rounds, pixel entropy x impurity of the 65x65 window.
_base_ = ['ripu_ra.py']
active_selection = dict(mode='PA', pixels=40, radius_k=32)
