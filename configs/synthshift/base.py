# SynthShift, shared settings: the DAFormer network at its smallest (MiT-B0 encoder,
# 64-dim context-aware fusion decoder) trained on a CPU in minutes. There are no
# ImageNet weights here: every method's encoder starts from the encoder of one short
# source-only training (synthshift/pretrain.py; experiment 0 exports it and sets
# `model.pretrained`), the stand-in for the paper's ImageNet-pretrained encoder; the
# decoders start from scratch as in the paper. The schedule is ~100x shorter than
# the paper's 40k iterations, so the EMA teacher momentum is 0.99 (a horizon of ~100
# iterations) and the learning rate is 10x higher. bfloat16 autocast halves the CPU time
# per iteration (tools/benchmark.py: 0.49x), which buys twice the iterations.
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
optimization = dict(mixed_precision=dict(enabled=True, dtype='bfloat16'))
max_iters = 400
runner = dict(type='IterBasedRunner', max_iters=max_iters)
checkpoint_config = dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1)
evaluation = dict(interval=max_iters, metric='mIoU')
log_config = dict(interval=50, img_interval=200)
# A progress bar on interactive terminals.
custom_hooks = [dict(type='ProgressBarHook')]
