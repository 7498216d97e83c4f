# RIPU (Xie et al., CVPR 2022), pixel-based annotation (PA): the training of ripu_ra.py with
# 40 labelled pixels per 1280x640 target image (configs/_base_/active/ripu_pa.py).
_base_ = ['ripu_ra.py']
active_selection = dict(mode='PA', pixels=40, radius_k=32)
