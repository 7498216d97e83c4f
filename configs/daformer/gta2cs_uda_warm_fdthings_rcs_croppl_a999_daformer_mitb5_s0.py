# DAFormer (Hoyer et al., CVPR 2022) on GTA -> Cityscapes: the DAFormer network
# trained with DACS self-training plus the three DAFormer training strategies
# (rare class sampling, thing-class ImageNet feature distance, learning rate
# warmup).
_base_ = [
    '../_base_/default_runtime.py',
    # DAFormer network: MiT-B5 encoder + context-aware fusion decoder
    # (DAFormer Sec. 3.2)
    '../_base_/models/daformer_sepaspp_mitb5.py',
    # GTA -> Cityscapes data loading, 512x512 crops at half resolution
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py',
    # Self-training with an EMA teacher (alpha 0.999) and the thing-class
    # ImageNet feature distance (DAFormer Sec. 3.1 and 3.3)
    '../_base_/uda/dacs_a999_fdthings.py',
    # AdamW optimizer
    '../_base_/schedules/adamw.py',
    # Learning rate warmup followed by a linear decay (DAFormer Sec. 3.3)
    '../_base_/schedules/poly10warm.py',
]
# Random seed
seed = 0
uda = dict(
    # Pseudo-label cropping: ignore the top 15 rows (rectification artifacts)
    # and the bottom 120 rows (ego car) of the target pseudo-labels
    pseudo_weight_ignore_top=15,
    pseudo_weight_ignore_bottom=120)
data = dict(
    train=dict(
        # Rare Class Sampling (DAFormer Sec. 3.3): sample source images by a
        # class drawn with P(c) = softmax((1 - f_c) / T), T = 0.01; only
        # images with > 3000 pixels of c are candidates, and a crop must hold
        # > 0.5 * 3000 pixels of c
        rare_class_sampling=dict(
            min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)))
# The UDA wrapper runs backward and the optimizer step itself
optimizer_config = None
optimizer = dict(
    lr=6e-05,
    paramwise_cfg=dict(
        custom_keys=dict(
            # 10x learning rate for the randomly initialized decoder
            head=dict(lr_mult=10.0),
            # No weight decay for positional embeddings and norm layers
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0))))
n_gpus = 1
# 40k iterations with a batch of 2 source + 2 target images
runner = dict(type='IterBasedRunner', max_iters=40000)
# Logging configuration
checkpoint_config = dict(by_epoch=False, interval=40000, max_keep_ckpts=1)
evaluation = dict(interval=4000, metric='mIoU')
# Meta information for the experiment name and logging
name = 'gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0'
exp = 'basic'
name_dataset = 'gta2cityscapes'
name_architecture = 'daformer_sepaspp_mitb5'
name_encoder = 'mitb5'
name_decoder = 'daformer_sepaspp'
name_uda = 'dacs_a999_fd_things_rcs0.01_cpl'
name_opt = 'adamw_6e-05_pmTrue_poly10warm_1x2_40k'
