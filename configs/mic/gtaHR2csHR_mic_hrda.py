# MIC (Hoyer et al., CVPR 2023) on GTA -> Cityscapes at full resolution:
# HRDA/DAFormer self-training plus masked image consistency, i.e. the student
# must predict the teacher's pseudo-label of a target image from a randomly
# masked version of it, which forces it to learn spatial context relations.
_base_ = [
    '../_base_/default_runtime.py',
    # DAFormer network, used as the single-scale decoder of HRDA below
    '../_base_/models/daformer_sepaspp_mitb5.py',
    # GTA -> Cityscapes data loading at full resolution, 1024x1024 crops
    '../_base_/datasets/uda_gtaHR_to_cityscapesHR_1024x1024.py',
    # DAFormer self-training: EMA teacher (alpha 0.999) and thing-class
    # ImageNet feature distance
    '../_base_/uda/dacs_a999_fdthings.py',
    # AdamW optimizer
    '../_base_/schedules/adamw.py',
    # Learning rate warmup followed by a linear decay
    '../_base_/schedules/poly10warm.py',
]
# Random seed
seed = 2
model = dict(
    # HRDA multi-resolution encoder-decoder
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        # The DAFormer decoder predicts each scale; a second DAFormer decoder
        # predicts the scale attention
        single_scale_head='DAFormerHead',
        # Scale attention with one channel per class
        attention_classwise=True,
        # lambda_d: weight of the extra loss on the detail-crop prediction
        hr_loss_weight=0.1),
    # HRDA: detail crop at full resolution (1), context at 0.5
    scales=[1, 0.5],
    # HRDA: detail crop 512x512 at full res (within the 1024x1024 context crop)
    hr_crop_size=(512, 512),
    # Thing-class feature distance on the features of the context scale
    feature_scale=0.5,
    # Detail-crop coordinates are multiples of the output stride 8
    crop_coord_divisible=8,
    # Pseudo-labels and inference: detail prediction of the whole image by an
    # overlapping sliding window of detail crops
    hr_slide_inference=True,
    # Test: slide the full model over the 2048x1024 image with 1024x1024
    # windows and stride 512, windows batched together
    test_cfg=dict(
        mode='slide',
        batched_slide=True,
        stride=[512, 512],
        crop_size=[1024, 1024]))
data = dict(
    train=dict(
        # Rare Class Sampling (DAFormer Sec. 3.3); a crop must hold
        # > 2.0 * 3000 pixels of the sampled class at full resolution
        rare_class_sampling=dict(
            min_pixels=3000, class_temp=0.01, min_crop_ratio=2.0),
        # Pseudo-label cropping: ignore margins [top, bottom, left, right] of
        # the full-resolution target image (rectification artifacts, ego car)
        target=dict(crop_pseudo_margins=[30, 240, 30, 30]),
    ),
    # Batch of 2 source + 2 target crops
    samples_per_gpu=2,
    workers_per_gpu=1)
uda = dict(
    # MIC: masked image consistency on the target images, which also get the
    # strong color/blur augmentation before masking
    mask_mode='separatetrgaug',
    # Pseudo-labels for the masked images come from the same EMA teacher with
    # the same confidence threshold as for self-training
    mask_alpha='same',
    mask_pseudo_threshold='same',
    # Weight of the masked image consistency loss
    mask_lambda=1,
    # MIC: masked image consistency, block 64, ratio 0.7 (random 64x64 patches,
    # 70% of them masked out); _delete_ replaces the base value None
    mask_generator=dict(
        _delete_=True, type='block', mask_ratio=0.7, mask_block_size=64),
)
# The UDA wrapper runs backward and the optimizer step itself
optimizer_config = None
optimizer = dict(
    lr=6e-05,
    paramwise_cfg=dict(
        custom_keys=dict(
            # 10x learning rate for the randomly initialized decoders
            head=dict(lr_mult=10.0),
            # No weight decay for positional embeddings and norm layers
            pos_block=dict(decay_mult=0.0),
            norm=dict(decay_mult=0.0))))
n_gpus = 1
gpu_model = 'NVIDIATITANRTX'
runner = dict(type='IterBasedRunner', max_iters=40000)
# Logging configuration
checkpoint_config = dict(by_epoch=False, interval=40000, max_keep_ckpts=1)
evaluation = dict(interval=4000, metric='mIoU')
# Meta information for the experiment name and logging
name = 'gtaHR2csHR_mic_hrda_s2'
exp = 'basic'
name_dataset = 'gtaHR2cityscapesHR_1024x1024'
name_architecture = 'hrda1-512-0.1_daformer_sepaspp_sl_mitb5'
name_encoder = 'mitb5'
name_decoder = 'hrda1-512-0.1_daformer_sepaspp_sl'
name_uda = 'dacs_a999_fdthings_rcs0.01-2.0_cpl2_m64-0.7-spta'
name_opt = 'adamw_6e-05_pmTrue_poly10warm_1x2_40k'
