# DACS with an ImageNet feature distance on all classes.
_base_ = ['dacs.py']
uda = dict(imnet_feature_dist_lambda=0.005)
