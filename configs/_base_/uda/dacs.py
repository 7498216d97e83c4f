# DACS self-training (Tranheden et al., 2021): mean-teacher pseudo-labels on
# the target domain, ClassMix of source and target images, and a strong
# color/blur augmentation of the mixed image.
uda = dict(
    type='DACS',
    # Source-only training: skip pseudo-labeling and mixing.
    source_only=False,
    # EMA teacher momentum.
    alpha=0.99,
    # Pseudo-label confidence threshold for the pixel-weight estimate.
    pseudo_threshold=0.968,
    # Pseudo-label cropping (DAFormer): rows ignored at the top/bottom.
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    # Thing-class ImageNet feature distance (disabled here).
    imnet_feature_dist_lambda=0,
    imnet_feature_dist_classes=None,
    imnet_feature_dist_scale_min_ratio=None,
    # Mixing strategy and strong augmentation of the mixed image.
    mix='class',
    blur=True,
    color_jitter_strength=0.2,
    color_jitter_probability=0.2,
    # Masked image consistency (MIC, disabled here).
    mask_mode=None,
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=0,
    mask_generator=None,
    debug_img_interval=1000,
    print_grad_magnitude=False,
)
use_ddp_wrapper = True
