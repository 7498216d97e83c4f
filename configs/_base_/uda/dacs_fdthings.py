# DACS with the thing-class ImageNet feature distance (DAFormer Sec. 3.3).
_base_ = ['dacs.py']
uda = dict(
    imnet_feature_dist_lambda=0.005,
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    imnet_feature_dist_scale_method='ratio',
    imnet_feature_dist_scale_min_ratio=0.75,
)
