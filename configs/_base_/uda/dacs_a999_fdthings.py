# DAFormer self-training: DACS with a slower EMA teacher and the thing-class
# ImageNet feature distance (DAFormer Sec. 3.3).
_base_ = ['dacs.py']
uda = dict(
    # EMA teacher momentum 0.999.
    alpha=0.999,
    # Feature distance to the frozen ImageNet encoder, weight lambda_FD.
    imnet_feature_dist_lambda=0.005,
    # Restricted to thing classes (pole, traffic light/sign, person, rider,
    # car, truck, bus, train, motorcycle, bicycle).
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    # A downscaled label cell counts only if one class covers >= 75% of it.
    imnet_feature_dist_scale_min_ratio=0.75,
)
