# RIPU's pixel-based selection (PA, SPEC-more-uda.md §3.2 step 3): 40 pixels per 1280x640
# target image over 5 rounds, pixel entropy x impurity of the 65x65 window (RADIUS_K 32),
# each suppressing its 65x65 window.
_base_ = ['ripu_ra.py']
active_selection = dict(mode='PA', pixels=40, radius_k=32)
