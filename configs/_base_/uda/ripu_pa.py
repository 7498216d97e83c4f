# RIPU (Xie et al., CVPR 2022), pixel-based annotation (PA): 40 pixels per 1280x640 target
# image over 5 rounds, scored by pixel entropy x impurity of the 65x65 window (RADIUS_K 32),
# each suppressing its 65x65 window (SPEC-more-uda.md §3.2 step 3).
_base_ = ['ripu_ra.py']
active_selection = dict(mode='PA', pixels=40, radius_k=32)
