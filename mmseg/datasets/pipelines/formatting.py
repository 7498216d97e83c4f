"""Turn numpy results into tensors / ``DataContainer`` s and pick the model inputs."""
from collections.abc import Sequence

import mmcv
import numpy as np
import torch
from mmcv.parallel import DataContainer as DC

from ..builder import PIPELINES


def to_tensor(data):
    """ndarray, Tensor, sequence, int or float → Tensor."""
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return torch.from_numpy(data)
    if isinstance(data, Sequence) and not mmcv.is_str(data):
        return torch.tensor(data)
    if isinstance(data, int):
        return torch.LongTensor([data])
    if isinstance(data, float):
        return torch.FloatTensor([data])
    raise TypeError(f'type {type(data)} cannot be converted to a tensor')


def image_to_chw(img):
    """H×W[×C] array → contiguous C×H×W array."""
    if img.ndim < 3:
        img = np.expand_dims(img, -1)
    return np.ascontiguousarray(img.transpose(2, 0, 1))


@PIPELINES.register_module()
class ToTensor:
    """Convert ``results[key]`` to a Tensor for each of ``keys``."""

    def __init__(self, keys):
        self.keys = keys

    def __call__(self, results):
        for key in self.keys:
            results[key] = to_tensor(results[key])
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(keys={self.keys})'


@PIPELINES.register_module()
class ImageToTensor:
    """H×W[×C] images under ``keys`` → C×H×W Tensors (dtype unchanged)."""

    def __init__(self, keys):
        self.keys = keys

    def __call__(self, results):
        for key in self.keys:
            results[key] = to_tensor(image_to_chw(results[key]))
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(keys={self.keys})'


@PIPELINES.register_module()
class Transpose:
    """Transpose arrays under ``keys`` with axis ``order``."""

    def __init__(self, keys, order):
        self.keys = keys
        self.order = order

    def __call__(self, results):
        for key in self.keys:
            results[key] = results[key].transpose(self.order)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(keys={self.keys}, order={self.order})'


@PIPELINES.register_module()
class ToDataContainer:
    """Wrap ``results[key]`` in a ``DataContainer`` for each field
    ``dict(key=..., stack=..., ...)``."""

    def __init__(self, fields=(dict(key='img', stack=True), dict(key='gt_semantic_seg'))):
        self.fields = fields

    def __call__(self, results):
        for field in self.fields:
            field = field.copy()
            key = field.pop('key')
            results[key] = DC(results[key], **field)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(fields={self.fields})'


@PIPELINES.register_module()
class DefaultFormatBundle:
    """Standard formatting of the training fields.

    - ``img``: H×W×C → ``DataContainer(Tensor C×H×W, stack=True)`` (dtype unchanged);
    - ``gt_semantic_seg``: H×W → ``DataContainer(int64 Tensor 1×H×W, stack=True)``;
    - ``valid_pseudo_mask``: H×W → ``DataContainer(uint8 Tensor 1×H×W, stack=True)``.
    """

    def __call__(self, results):
        if 'img' in results:
            results['img'] = DC(to_tensor(image_to_chw(results['img'])), stack=True)
        if 'gt_semantic_seg' in results:
            seg = results['gt_semantic_seg'][None, ...].astype(np.int64)
            results['gt_semantic_seg'] = DC(to_tensor(seg), stack=True)
        if 'valid_pseudo_mask' in results:
            mask = np.ascontiguousarray(results['valid_pseudo_mask'][None, ...])
            results['valid_pseudo_mask'] = DC(to_tensor(mask), stack=True)
        return results

    def __repr__(self):
        return self.__class__.__name__


@PIPELINES.register_module()
class Collect:
    """Keep only the model inputs ``keys`` plus ``img_metas``: a
    ``DataContainer(dict, cpu_only=True)`` of the ``meta_keys`` entries.

    Args:
        keys (Sequence[str]): e.g. ``['img', 'gt_semantic_seg']``.
        meta_keys (Sequence[str]): results entries copied into ``img_metas``.
    """

    def __init__(self, keys,
                 meta_keys=('filename', 'ori_filename', 'ori_shape', 'img_shape',
                            'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                            'img_norm_cfg')):
        self.keys = keys
        self.meta_keys = meta_keys

    def __call__(self, results):
        missing = [k for k in list(self.keys) + list(self.meta_keys) if k not in results]
        if missing:
            raise KeyError(f'Collect: {missing} not in the results (have '
                           f'{sorted(results)}); add the transform that produces them '
                           '(e.g. LoadAnnotations for gt_semantic_seg, RandomFlip for '
                           'flip) or remove them from keys / meta_keys')
        data = {'img_metas': DC({key: results[key] for key in self.meta_keys},
                                cpu_only=True)}
        for key in self.keys:
            data[key] = results[key]
        return data

    def __repr__(self):
        return f'{self.__class__.__name__}(keys={self.keys}, meta_keys={self.meta_keys})'
