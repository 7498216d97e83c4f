"""Load images and label maps from files (mmseg 0.x semantics)."""
import os.path as osp

import mmcv
import numpy as np

from ..builder import PIPELINES


def _read_bytes(file_client, filename, what):
    try:
        return file_client.get(filename)
    except FileNotFoundError as e:
        raise FileNotFoundError(f'{what} not found: {filename}') from e


def decode_image(content, filename, flag, backend):
    """``mmcv.imfrombytes`` that names ``filename`` when the bytes are not a (complete)
    image instead of returning None or raising a bare decoder error."""
    try:
        img = mmcv.imfrombytes(content, flag=flag, backend=backend)
    except Exception as e:  # the decoders raise many types (OSError, SyntaxError, ...)
        raise OSError(f'cannot decode image file {filename} (corrupt or truncated?): '
                      f'{e}') from e
    if img is None or img.size == 0:
        raise OSError(f'cannot decode image file {filename} (corrupt, truncated or not '
                      f'an image; {len(content)} bytes)')
    return img


def check_label_values(seg, filename, num_classes, ignore_index, hint=None):
    """Raise a ValueError naming ``filename`` when ``seg`` holds values outside
    ``[0, num_classes) ∪ {ignore_index}``.

    ``hint`` (e.g. the converter to run) is appended to the message.
    """
    bad = (seg >= num_classes) & (seg != ignore_index)
    if not bad.any():
        return
    values = np.unique(seg[bad]).tolist()
    shown = values if len(values) <= 20 else values[:20] + ['...']
    msg = (f'label file {filename} holds values {shown} outside the expected range '
           f'[0, {num_classes - 1}] (plus ignore index {ignore_index}).')
    msg += (' Raw label ids instead of trainIds? Training and evaluation read the converted '
            'trainId maps.')
    if hint:
        msg += f' {hint}'
    raise ValueError(msg)


@PIPELINES.register_module()
class LoadImageFromFile:
    """Load ``results['img_info']['filename']`` (joined to ``results['img_prefix']``).

    Adds ``filename``, ``ori_filename``, ``img`` (H×W×3 uint8 BGR for 'color', or float32
    with ``to_float32``), ``img_shape``, ``ori_shape``, ``pad_shape``, ``scale_factor``
    (1.0) and a neutral ``img_norm_cfg`` (mean 0, std 1, to_rgb False).

    Args:
        to_float32 (bool): convert the image to float32.
        color_type (str): ``mmcv.imfrombytes`` flag ('color', 'grayscale', 'unchanged').
        file_client_args (dict): ``mmcv.FileClient`` arguments.
        imdecode_backend (str): 'cv2' (default), 'pillow', ...
    """

    def __init__(self, to_float32=False, color_type='color',
                 file_client_args=dict(backend='disk'), imdecode_backend='cv2'):
        self.to_float32 = to_float32
        self.color_type = color_type
        self.file_client_args = file_client_args.copy()
        self.file_client = None
        self.imdecode_backend = imdecode_backend

    def __call__(self, results):
        if self.file_client is None:
            self.file_client = mmcv.FileClient(**self.file_client_args)
        if results.get('img_prefix') is not None:
            filename = osp.join(results['img_prefix'], results['img_info']['filename'])
        else:
            filename = results['img_info']['filename']
        content = _read_bytes(self.file_client, filename, 'image file')
        img = decode_image(content, filename, self.color_type, self.imdecode_backend)
        if self.to_float32:
            img = img.astype(np.float32)
        results['filename'] = filename
        results['ori_filename'] = results['img_info']['filename']
        results['img'] = img
        results['img_shape'] = img.shape
        results['ori_shape'] = img.shape
        results['pad_shape'] = img.shape
        results['scale_factor'] = 1.0
        num_channels = 1 if img.ndim < 3 else img.shape[2]
        results['img_norm_cfg'] = dict(mean=np.zeros(num_channels, dtype=np.float32),
                                       std=np.ones(num_channels, dtype=np.float32),
                                       to_rgb=False)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, '
                f"color_type='{self.color_type}', "
                f"imdecode_backend='{self.imdecode_backend}')")


@PIPELINES.register_module()
class LoadAnnotations:
    """Load the label map ``results['ann_info']['seg_map']`` (joined to
    ``results['seg_prefix']``) unchanged as H×W uint8 ``gt_semantic_seg`` and append it to
    ``results['seg_fields']``.

    A custom-classes ``results['label_map']`` and ``reduce_zero_label`` are applied. When
    the dataset put ``results['label_check']`` (``num_classes``, ``ignore_index``, ``hint``),
    values outside ``[0, num_classes) ∪ {ignore_index}`` raise a ValueError naming the file.

    Args:
        reduce_zero_label (bool): 0 → 255 and every other id − 1.
        file_client_args (dict): ``mmcv.FileClient`` arguments.
        imdecode_backend (str): 'pillow' (default; reads palette PNGs as indices).
    """

    def __init__(self, reduce_zero_label=False, file_client_args=dict(backend='disk'),
                 imdecode_backend='pillow'):
        self.reduce_zero_label = reduce_zero_label
        self.file_client_args = file_client_args.copy()
        self.file_client = None
        self.imdecode_backend = imdecode_backend

    def __call__(self, results):
        if self.file_client is None:
            self.file_client = mmcv.FileClient(**self.file_client_args)
        if results.get('seg_prefix') is not None:
            filename = osp.join(results['seg_prefix'], results['ann_info']['seg_map'])
        else:
            filename = results['ann_info']['seg_map']
        try:
            content = self.file_client.get(filename)
        except FileNotFoundError as e:
            image = results.get('img_info', {}).get('filename')
            raise FileNotFoundError(
                f'label file not found: {filename}'
                + (f' (for image {image})' if image else '')
                + '. ' + (results.get('label_check') or {}).get('hint', '')) from e
        seg = decode_image(content, filename, 'unchanged', self.imdecode_backend)
        seg = seg.squeeze().astype(np.uint8)
        if results.get('label_map') or self.reduce_zero_label:
            # Imported here: mmseg.datasets does not need the evaluation package otherwise.
            from mmseg.core.evaluation.metrics import map_label
            seg = map_label(seg, results.get('label_map'),
                            self.reduce_zero_label).astype(np.uint8)
        check = results.get('label_check')
        if check is not None:
            check_label_values(seg, filename, check['num_classes'], check['ignore_index'],
                               check.get('hint'))
        results['gt_semantic_seg'] = seg
        results.setdefault('seg_fields', []).append('gt_semantic_seg')
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(reduce_zero_label={self.reduce_zero_label}, '
                f"imdecode_backend='{self.imdecode_backend}')")
