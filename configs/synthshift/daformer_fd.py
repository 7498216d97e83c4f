# SynthShift: DAFormer with the thing-class ImageNet feature distance (used by
# experiment 0 when pretrained/mit_b0.pth is present); the settings of
# uda/dacs_a999_fdthings.py except the momentum (0.99 for the short schedule).
_base_ = ['daformer.py']
model = dict(pretrained='pretrained/mit_b0.pth')
uda = dict(
    imnet_feature_dist_lambda=0.005,
    imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
    imnet_feature_dist_scale_min_ratio=0.75)
