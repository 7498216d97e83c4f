from .active_annotations import LoadActiveAnnotations
from .compose import Compose
from .formatting import (Collect, DefaultFormatBundle, ImageToTensor, ToDataContainer,
                         ToTensor, Transpose, to_tensor)
from .loading import LoadAnnotations, LoadImageFromFile
from .test_time_aug import MultiScaleFlipAug
from .transforms import (Normalize, Pad, PhotoMetricDistortion, RandomCrop, RandomFlip,
                         Resize, random_crop_bbox)

__all__ = [
    'Compose', 'to_tensor', 'ToTensor', 'ImageToTensor', 'ToDataContainer', 'Transpose',
    'Collect', 'DefaultFormatBundle', 'LoadAnnotations', 'LoadImageFromFile',
    'MultiScaleFlipAug', 'Resize', 'RandomFlip', 'Pad', 'RandomCrop', 'Normalize',
    'PhotoMetricDistortion', 'random_crop_bbox', 'LoadActiveAnnotations'
]
