# SynthShift: Classifier Rectification (Liu et al., CVPR 2022) of the aligned model —
# encoder frozen, the DAFormer head trained on the source with CE(logits + log P_s -
# log P_t); experiment 9 sets load_from and uda.label_shift.file to the alignment run's
# checkpoint and label_shift.json.
_base_ = ['base.py', '../_base_/uda/labelshift_cr.py']
