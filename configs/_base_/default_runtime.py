# Runtime defaults shared by all experiments (logging, distributed backend,
# checkpoint loading/resuming).
log_config = dict(
    interval=50,
    # Interval (in iterations) at which the UDA methods write debug images.
    img_interval=1000,
    hooks=[
        dict(type='TextLoggerHook', by_epoch=False),
    ])
dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
cudnn_benchmark = True
