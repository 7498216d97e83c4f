"""Geometric and photometric transforms (mmseg 0.x semantics, including the order in
which they draw from numpy's global RNG).

Every geometric transform applies to ``results['img']`` and to each key listed in
``results['seg_fields']`` (``gt_semantic_seg``, ``valid_pseudo_mask``, ...), the latter
with nearest-neighbour interpolation.
"""
import mmcv
import numpy as np
from numpy import random

from ..builder import PIPELINES


def as_scale(value):
    """A 2-sequence of numbers as a tuple (configs read from JSON turn tuples into
    lists); anything else unchanged."""
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) for v in value)):
        return tuple(value)
    return value


def random_crop_bbox(img_hw, crop_size):
    """A uniformly random crop box inside an image.

    Args:
        img_hw (tuple[int]): image (height, width).
        crop_size (tuple[int]): crop (height, width); larger crops are clipped.
    Returns:
        tuple[int]: ``(y1, y2, x1, x2)``; draws the y offset, then the x offset, from
        numpy's global RNG.
    """
    margin_h = max(img_hw[0] - crop_size[0], 0)
    margin_w = max(img_hw[1] - crop_size[1], 0)
    offset_h = np.random.randint(0, margin_h + 1)
    offset_w = np.random.randint(0, margin_w + 1)
    return offset_h, offset_h + crop_size[0], offset_w, offset_w + crop_size[1]


@PIPELINES.register_module()
class Resize:
    """Resize the image and the seg fields.

    Scale selection (stored in ``results['scale']`` unless already set, e.g. by
    ``MultiScaleFlipAug``):
    - ``ratio_range`` given: a random ratio in the range times ``img_scale`` (or times the
      image size when ``img_scale`` is None);
    - one ``img_scale``: that scale;
    - several: ``multiscale_mode='range'`` samples long / short edges between the two
      given scales, ``'value'`` picks one of them.

    With ``keep_ratio`` a scale ``(long, short)`` such as (1024, 512) rescales the image
    to the largest size that fits in long × short edges, keeping its aspect ratio
    (``mmcv.imrescale``); otherwise the image is resized to exactly (w, h) = scale.

    Adds ``img_shape``, ``pad_shape``, ``scale_factor`` (float32 array
    ``[w_scale, h_scale, w_scale, h_scale]``), ``keep_ratio``, ``scale``, ``scale_idx``.
    """

    def __init__(self, img_scale=None, multiscale_mode='range', ratio_range=None,
                 keep_ratio=True):
        img_scale = as_scale(img_scale)
        if img_scale is None:
            self.img_scale = None
        elif isinstance(img_scale, list):
            self.img_scale = [as_scale(s) for s in img_scale]
        else:
            self.img_scale = [img_scale]
        if self.img_scale is not None and not mmcv.is_list_of(self.img_scale, tuple):
            raise TypeError(f'Resize img_scale must be a (w, h) tuple or a list of them, '
                            f'got {img_scale!r}')
        if ratio_range is not None:
            if self.img_scale is not None and len(self.img_scale) != 1:
                raise ValueError('Resize with ratio_range takes a single img_scale (or '
                                 f'None), got {img_scale!r}')
        else:
            if multiscale_mode not in ('value', 'range'):
                raise ValueError(f"Resize multiscale_mode must be 'value' or 'range', got "
                                 f'{multiscale_mode!r}')
        self.multiscale_mode = multiscale_mode
        self.ratio_range = ratio_range
        self.keep_ratio = keep_ratio

    @staticmethod
    def random_select(img_scales):
        """One of ``img_scales`` at random → (scale, index)."""
        scale_idx = np.random.randint(len(img_scales))
        return img_scales[scale_idx], scale_idx

    @staticmethod
    def random_sample(img_scales):
        """Random long / short edges between two scales → (scale, None)."""
        if len(img_scales) != 2:
            raise ValueError(f"multiscale_mode='range' needs exactly 2 scales, got "
                             f'{img_scales}')
        img_scale_long = [max(s) for s in img_scales]
        img_scale_short = [min(s) for s in img_scales]
        long_edge = np.random.randint(min(img_scale_long), max(img_scale_long) + 1)
        short_edge = np.random.randint(min(img_scale_short), max(img_scale_short) + 1)
        return (long_edge, short_edge), None

    @staticmethod
    def random_sample_ratio(img_scale, ratio_range):
        """``img_scale`` times a uniform ratio from ``ratio_range`` → (scale, None)."""
        min_ratio, max_ratio = ratio_range
        if min_ratio > max_ratio:
            raise ValueError(f'ratio_range must be (min, max), got {ratio_range}')
        ratio = np.random.random_sample() * (max_ratio - min_ratio) + min_ratio
        return (int(img_scale[0] * ratio), int(img_scale[1] * ratio)), None

    def _random_scale(self, results):
        if self.ratio_range is not None:
            if self.img_scale is None:
                h, w = results['img'].shape[:2]
                scale, scale_idx = self.random_sample_ratio((w, h), self.ratio_range)
            else:
                scale, scale_idx = self.random_sample_ratio(self.img_scale[0],
                                                            self.ratio_range)
        elif self.img_scale is None:
            raise ValueError('Resize has neither img_scale nor ratio_range, and no '
                             "results['scale'] was set (e.g. by MultiScaleFlipAug)")
        elif len(self.img_scale) == 1:
            scale, scale_idx = self.img_scale[0], 0
        elif self.multiscale_mode == 'range':
            scale, scale_idx = self.random_sample(self.img_scale)
        else:
            scale, scale_idx = self.random_select(self.img_scale)
        results['scale'] = scale
        results['scale_idx'] = scale_idx

    def _resize_img(self, results):
        if self.keep_ratio:
            img = mmcv.imrescale(results['img'], results['scale'])
            # Scale factors from the actual sizes: imrescale rounds each side.
            new_h, new_w = img.shape[:2]
            h, w = results['img'].shape[:2]
            w_scale, h_scale = new_w / w, new_h / h
        else:
            img, w_scale, h_scale = mmcv.imresize(results['img'], results['scale'],
                                                  return_scale=True)
        results['img'] = img
        results['img_shape'] = img.shape
        results['pad_shape'] = img.shape
        results['scale_factor'] = np.array([w_scale, h_scale, w_scale, h_scale],
                                           dtype=np.float32)
        results['keep_ratio'] = self.keep_ratio

    def _resize_seg(self, results):
        for key in results.get('seg_fields', []):
            if self.keep_ratio:
                results[key] = mmcv.imrescale(results[key], results['scale'],
                                              interpolation='nearest')
            else:
                results[key] = mmcv.imresize(results[key], results['scale'],
                                             interpolation='nearest')

    def __call__(self, results):
        if 'scale' not in results:
            self._random_scale(results)
        self._resize_img(results)
        self._resize_seg(results)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(img_scale={self.img_scale}, '
                f'multiscale_mode={self.multiscale_mode}, ratio_range={self.ratio_range}, '
                f'keep_ratio={self.keep_ratio})')


@PIPELINES.register_module()
class RandomFlip:
    """Flip image and seg fields with probability ``prob``.

    ``results['flip']`` / ``results['flip_direction']``, when already set (by
    ``MultiScaleFlipAug``), decide instead. ``prob=None`` never flips on its own.

    Args:
        prob (float | None): flip probability.
        direction (str): 'horizontal' or 'vertical'.
    """

    def __init__(self, prob=None, direction='horizontal'):
        if prob is not None and not 0 <= prob <= 1:
            raise ValueError(f'RandomFlip prob must be in [0, 1], got {prob}')
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f"RandomFlip direction must be 'horizontal' or 'vertical', "
                             f'got {direction!r}')
        self.prob = prob
        self.direction = direction

    def __call__(self, results):
        if 'flip' not in results:
            results['flip'] = self.prob is not None and np.random.rand() < self.prob
        if 'flip_direction' not in results:
            results['flip_direction'] = self.direction
        if results['flip']:
            results['img'] = mmcv.imflip(results['img'], direction=results['flip_direction'])
            for key in results.get('seg_fields', []):
                results[key] = mmcv.imflip(results[key],
                                           direction=results['flip_direction']).copy()
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.direction})'


@PIPELINES.register_module()
class Pad:
    """Pad image (``pad_val``) and seg fields (``seg_pad_val``) at the bottom / right to
    ``size`` (h, w) or to a multiple of ``size_divisor``. Adds ``pad_shape``,
    ``pad_fixed_size``, ``pad_size_divisor``."""

    def __init__(self, size=None, size_divisor=None, pad_val=0, seg_pad_val=255):
        if (size is None) == (size_divisor is None):
            raise ValueError('Pad needs exactly one of size and size_divisor, got '
                             f'size={size}, size_divisor={size_divisor}')
        self.size = as_scale(size)
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def __call__(self, results):
        if self.size is not None:
            padded = mmcv.impad(results['img'], shape=self.size, pad_val=self.pad_val)
        else:
            padded = mmcv.impad_to_multiple(results['img'], self.size_divisor,
                                            pad_val=self.pad_val)
        results['img'] = padded
        results['pad_shape'] = padded.shape
        results['pad_fixed_size'] = self.size
        results['pad_size_divisor'] = self.size_divisor
        for key in results.get('seg_fields', []):
            results[key] = mmcv.impad(results[key], shape=results['pad_shape'][:2],
                                      pad_val=self.seg_pad_val)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(size={self.size}, '
                f'size_divisor={self.size_divisor}, pad_val={self.pad_val}, '
                f'seg_pad_val={self.seg_pad_val})')


@PIPELINES.register_module()
class Normalize:
    """``(img - mean) / std`` (float32), BGR → RGB first when ``to_rgb``; stores
    ``img_norm_cfg``."""

    def __init__(self, mean, std, to_rgb=True):
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        self.to_rgb = to_rgb

    def __call__(self, results):
        results['img'] = mmcv.imnormalize(results['img'], self.mean, self.std, self.to_rgb)
        results['img_norm_cfg'] = dict(mean=self.mean, std=self.std, to_rgb=self.to_rgb)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(mean={self.mean}, std={self.std}, '
                f'to_rgb={self.to_rgb})')


@PIPELINES.register_module()
class RandomCrop:
    """Crop a random ``crop_size`` (h, w) window from image and seg fields.

    With ``cat_max_ratio < 1`` the window is redrawn (up to 10 times) until no single
    class covers ``cat_max_ratio`` or more of its labelled (non-ignored) pixels and it
    holds at least two classes.
    """

    def __init__(self, crop_size, cat_max_ratio=1., ignore_index=255):
        crop_size = as_scale(crop_size)
        if not (isinstance(crop_size, tuple) and crop_size[0] > 0 and crop_size[1] > 0):
            raise ValueError(f'RandomCrop crop_size must be (h, w) > 0, got {crop_size!r}')
        self.crop_size = crop_size
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def get_crop_bbox(self, img):
        """Random ``(y1, y2, x1, x2)`` inside ``img`` (H×W[×C])."""
        return random_crop_bbox(img.shape[:2], self.crop_size)

    @staticmethod
    def crop(img, crop_bbox):
        crop_y1, crop_y2, crop_x1, crop_x2 = crop_bbox
        return img[crop_y1:crop_y2, crop_x1:crop_x2, ...]

    def __call__(self, results):
        img = results['img']
        crop_bbox = self.get_crop_bbox(img)
        if self.cat_max_ratio < 1.:
            if 'gt_semantic_seg' not in results:
                raise KeyError('RandomCrop with cat_max_ratio < 1 needs gt_semantic_seg: '
                               'put LoadAnnotations before it in the pipeline')
            for _ in range(10):
                seg_temp = self.crop(results['gt_semantic_seg'], crop_bbox)
                labels, cnt = np.unique(seg_temp, return_counts=True)
                cnt = cnt[labels != self.ignore_index]
                if len(cnt) > 1 and np.max(cnt) / np.sum(cnt) < self.cat_max_ratio:
                    break
                crop_bbox = self.get_crop_bbox(img)
        img = self.crop(img, crop_bbox)
        results['img'] = img
        results['img_shape'] = img.shape
        for key in results.get('seg_fields', []):
            results[key] = self.crop(results[key], crop_bbox)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'cat_max_ratio={self.cat_max_ratio}, ignore_index={self.ignore_index})')


@PIPELINES.register_module()
class PhotoMetricDistortion:
    """Random brightness, contrast (before or after the next two), saturation and hue
    changes, each applied with probability 0.5 (uint8 BGR image in and out)."""

    def __init__(self, brightness_delta=32, contrast_range=(0.5, 1.5),
                 saturation_range=(0.5, 1.5), hue_delta=18):
        self.brightness_delta = brightness_delta
        self.contrast_lower, self.contrast_upper = contrast_range
        self.saturation_lower, self.saturation_upper = saturation_range
        self.hue_delta = hue_delta

    @staticmethod
    def convert(img, alpha=1, beta=0):
        """``clip(img * alpha + beta, 0, 255)`` as uint8."""
        img = img.astype(np.float32) * alpha + beta
        return np.clip(img, 0, 255).astype(np.uint8)

    def brightness(self, img):
        if random.randint(2):
            return self.convert(img, beta=random.uniform(-self.brightness_delta,
                                                         self.brightness_delta))
        return img

    def contrast(self, img):
        if random.randint(2):
            return self.convert(img, alpha=random.uniform(self.contrast_lower,
                                                          self.contrast_upper))
        return img

    def saturation(self, img):
        if random.randint(2):
            img = mmcv.bgr2hsv(img)
            img[:, :, 1] = self.convert(img[:, :, 1],
                                        alpha=random.uniform(self.saturation_lower,
                                                             self.saturation_upper))
            img = mmcv.hsv2bgr(img)
        return img

    def hue(self, img):
        if random.randint(2):
            img = mmcv.bgr2hsv(img)
            img[:, :, 0] = (img[:, :, 0].astype(int)
                            + random.randint(-self.hue_delta, self.hue_delta)) % 180
            img = mmcv.hsv2bgr(img)
        return img

    def __call__(self, results):
        img = results['img']
        img = self.brightness(img)
        # Contrast goes first (mode 1) or last (mode 0).
        mode = random.randint(2)
        if mode == 1:
            img = self.contrast(img)
        img = self.saturation(img)
        img = self.hue(img)
        if mode == 0:
            img = self.contrast(img)
        results['img'] = img
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(brightness_delta={self.brightness_delta}, '
                f'contrast_range=({self.contrast_lower}, {self.contrast_upper}), '
                f'saturation_range=({self.saturation_lower}, {self.saturation_upper}), '
                f'hue_delta={self.hue_delta})')
