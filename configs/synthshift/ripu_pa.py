# SynthShift: DAFormer + CE on the target pixels of RIPU's pixel-based annotation (PA, not
# from the paper): 40 pixels per 128x256 target image over 5 rounds, pixel entropy x
# impurity of the 65x65 window.
_base_ = ['daformer.py', '../_base_/active/ripu_pa.py']
uda = dict(type='RIPU', source_only=False, lambda_cr=0, lambda_nl=0)
active_selection = dict(select_scale=None)  # 40 pixels per 128x256 image
