# SynthShift: the source model every method starts from — a short source-only training
# from scratch (from ImageNet MiT-B0 weights when pretrained/mit_b0.pth exists); it stands
# in for the paper's ImageNet-pretrained start, which cannot be downloaded here.
_base_ = ['base.py', '../_base_/uda/dacs_srconly.py']
max_iters = 400
runner = dict(max_iters=max_iters)
checkpoint_config = dict(interval=max_iters)
evaluation = dict(interval=max_iters)
