"""Test-time augmentation: run the inner transforms once per scale (and flip)."""
import warnings

import mmcv

from ..builder import PIPELINES
from .compose import Compose
from .transforms import as_scale


def _is_ratio_list(value):
    return isinstance(value, list) and all(isinstance(v, (int, float)) for v in value)


@PIPELINES.register_module()
class MultiScaleFlipAug:
    """Apply ``transforms`` for every scale × flip combination.

    Scales: ``img_scale`` (a (w, h) tuple or a list of them); with ``img_ratios`` each
    ratio times ``img_scale`` (or times the image size when ``img_scale`` is None).
    Each copy of the results gets ``scale``, ``flip`` and ``flip_direction`` set, which
    ``Resize`` / ``RandomFlip`` inside ``transforms`` then follow.

    Returns:
        dict[str, list]: the transformed results as a dict of lists (one entry per
        augmentation, scales outermost, then flip False / True, then directions).
    """

    def __init__(self, transforms, img_scale, img_ratios=None, flip=False,
                 flip_direction='horizontal'):
        self.transforms = Compose(transforms)
        if img_ratios is not None:
            img_ratios = img_ratios if isinstance(img_ratios, list) else [img_ratios]
            if not _is_ratio_list(img_ratios):
                raise TypeError(f'MultiScaleFlipAug img_ratios must be numbers, got '
                                f'{img_ratios!r}')
        img_scale = as_scale(img_scale)
        if img_scale is None:
            if img_ratios is None:
                raise ValueError('MultiScaleFlipAug needs img_scale or img_ratios')
            self.img_scale = None
        elif isinstance(img_scale, tuple) and img_ratios is not None:
            self.img_scale = [(int(img_scale[0] * r), int(img_scale[1] * r))
                              for r in img_ratios]
        else:
            scales = img_scale if isinstance(img_scale, list) else [img_scale]
            self.img_scale = [as_scale(s) for s in scales]
            if not mmcv.is_list_of(self.img_scale, tuple):
                raise TypeError(f'MultiScaleFlipAug img_scale must be a (w, h) tuple or a '
                                f'list of them, got {img_scale!r}')
        self.img_ratios = img_ratios
        self.flip = flip
        self.flip_direction = (flip_direction if isinstance(flip_direction, list)
                               else [flip_direction])
        if not self.flip and self.flip_direction != ['horizontal']:
            warnings.warn('flip_direction has no effect when flip is set to False')
        if self.flip and not any(
                getattr(t, '__class__', None).__name__ == 'RandomFlip'
                for t in self.transforms.transforms):
            warnings.warn('flip has no effect when RandomFlip is not in transforms')

    def __call__(self, results):
        if self.img_scale is None:
            h, w = results['img'].shape[:2]
            img_scale = [(int(w * r), int(h * r)) for r in self.img_ratios]
        else:
            img_scale = self.img_scale
        flip_aug = [False, True] if self.flip else [False]
        aug_data = []
        for scale in img_scale:
            for flip in flip_aug:
                for direction in self.flip_direction:
                    _results = results.copy()
                    _results['scale'] = scale
                    _results['flip'] = flip
                    _results['flip_direction'] = direction
                    aug_data.append(self.transforms(_results))
        aug_data_dict = {key: [] for key in aug_data[0]}
        for data in aug_data:
            for key, val in data.items():
                aug_data_dict[key].append(val)
        return aug_data_dict

    def __repr__(self):
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'img_scale={self.img_scale}, flip={self.flip}, '
                f'flip_direction={self.flip_direction})')
