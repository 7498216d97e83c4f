# SynthShift, shared settings: the DAFormer network at its smallest (MiT-B0 encoder,
# 64-dim context-aware fusion decoder) trained on a CPU in minutes, in float32 so that
# the numbers and the time do not depend on the CPU generation (bfloat16 autocast is
# several times slower than float32 on CPUs without native bfloat16). There are no
# ImageNet weights here: one source-only training (synthshift/pretrain.py) is the start
# of every method (experiment 0 loads all of its weights, `load_from`), so the EMA
# teacher's pseudo-labels are useful from the first iteration and 300 adaptation
# iterations suffice. The schedule is ~130x shorter than the paper's 40k iterations, so
# the EMA teacher momentum is 0.99 (a horizon of ~100 iterations) and the learning rate
# is 10x higher.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_synthshift_128x128.py',
    '../_base_/schedules/adamw.py',
    '../_base_/schedules/poly10warm.py',
]
decoder_dims = 64
model = dict(
    pretrained=None,
    backbone=dict(type='mit_b0'),
    decode_head=dict(
        in_channels=[32, 64, 160, 256],
        channels=decoder_dims,
        decoder_params=dict(embed_dims=decoder_dims)))
optimizer = dict(
    lr=6e-4,
    paramwise_cfg=dict(
        custom_keys=dict(
            head=dict(lr_mult=10.0),
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0))))
# The UDA wrappers (uda/dacs.py, uda/dacs_srconly.py) run backward and the optimizer
# step themselves.
optimizer_config = None
# No warm-up unless a method asks for it (DAFormer's learning-rate warm-up).
lr_config = dict(warmup=None)
max_iters = 300
runner = dict(type='IterBasedRunner', max_iters=max_iters)
checkpoint_config = dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1)
evaluation = dict(interval=max_iters, metric='mIoU')
log_config = dict(interval=50, img_interval=300)
# A progress bar on interactive terminals.
custom_hooks = [dict(type='ProgressBarHook')]
