# SynthShift: the shared encoder initialisation of every method — a short source-only
# training from scratch (the stand-in for ImageNet weights, which cannot be downloaded
# here); experiment 0 exports its encoder to <work dir>/backbone.pth.
_base_ = ['base.py', '../_base_/uda/dacs_srconly.py']
max_iters = 400
runner = dict(max_iters=max_iters)
checkpoint_config = dict(interval=max_iters)
evaluation = dict(interval=max_iters)
