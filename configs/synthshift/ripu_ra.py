# SynthShift: DAFormer (synthshift/daformer.py) + CE on actively labelled target pixels
# (not from the paper: RIPU's selection on top of DAFormer self-training). Region-based
# annotation: 2.2% of the target-train pixels in 3x3 regions, selected in 5 rounds by
# region impurity x prediction uncertainty (SPEC-more-uda.md §3.2), labels copied from the
# target-train ground truth (oracle). The rounds follow the official 10k..18k of 40k
# iterations, rescaled to the run (75, 90, 105, 120, 135 of 300).
_base_ = ['daformer.py', '../_base_/active/ripu_ra.py']
uda = dict(type='RIPU', source_only=False, lambda_cr=0, lambda_nl=0)
active_selection = dict(select_scale=None)  # the 128x256 images as they are
