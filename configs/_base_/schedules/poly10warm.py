# Linear learning rate warmup for 1500 iterations, followed by a linear
# (poly, power 1.0) decay to zero (DAFormer Sec. 3.4).
lr_config = dict(
    policy='poly',
    warmup='linear',
    warmup_iters=1500,
    warmup_ratio=1e-6,
    power=1.0,
    min_lr=0.0,
    by_epoch=False)
