# SynthShift: DACS self-training — EMA teacher pseudo-labels on the target, ClassMix of
# source and target, colour jitter and blur (DAFormer Sec. 3.1, uda/dacs.py).
_base_ = ['base.py', '../_base_/uda/dacs.py']
