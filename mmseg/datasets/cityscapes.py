"""Cityscapes (and the pseudo-label margin mask used for its rectified target images)."""
import copy
import os.path as osp

import numpy as np

from .builder import DATASETS
from .custom import CustomDataset


def add_collect_key(pipeline, key):
    """Copy of ``pipeline`` (list of transform configs) whose final ``Collect`` also
    collects ``key``."""
    pipeline = copy.deepcopy(list(pipeline))
    if not pipeline or not isinstance(pipeline[-1], dict) or \
            pipeline[-1].get('type') != 'Collect':
        raise ValueError(f"crop_pseudo_margins needs a pipeline ending with Collect (which "
                         f"then also collects '{key}'); got {pipeline[-1:]}")
    keys = list(pipeline[-1]['keys'])
    if key not in keys:
        keys.append(key)
    pipeline[-1]['keys'] = keys
    return pipeline


def margin_mask(height, width, margins):
    """H×W uint8 mask: 1 inside, 0 in the ``[top, bottom, left, right]`` margins."""
    top, bottom, left, right = margins
    mask = np.ones((height, width), dtype=np.uint8)
    # Slices like [-0:] would cover everything: only zero margins that are > 0.
    if top > 0:
        mask[:top, :] = 0
    if bottom > 0:
        mask[-bottom:, :] = 0
    if left > 0:
        mask[:, :left] = 0
    if right > 0:
        mask[:, -right:] = 0
    return mask


def image_size(path):
    """(height, width) of an image file, from its header."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            width, height = img.size
    except FileNotFoundError as e:
        raise FileNotFoundError(f'image file not found: {path}') from e
    except Exception as e:
        raise OSError(f'cannot read the size of image file {path} (corrupt?): {e}') from e
    return height, width


@DATASETS.register_module()
class CityscapesDataset(CustomDataset):
    """Cityscapes: ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with
    ``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png`` (19 classes).

    Args:
        crop_pseudo_margins (list[int] | None): ``[top, bottom, left, right]`` pixels of the
            full image where pseudo-labels are not trusted (rectification artefacts, ego
            vehicle). Adds ``results['valid_pseudo_mask']`` (H×W uint8, 0 in the margins),
            transformed like a label map and collected with the other keys.
        **kwargs: :class:`CustomDataset` arguments.
    """

    CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
               'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
               'truck', 'bus', 'train', 'motorcycle', 'bicycle')
    PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156],
               [190, 153, 153], [153, 153, 153], [250, 170, 30], [220, 220, 0],
               [107, 142, 35], [152, 251, 152], [70, 130, 180], [220, 20, 60], [255, 0, 0],
               [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230],
               [119, 11, 32]]
    LAYOUT = ('leftImg8bit/<split>/<city>/*_leftImg8bit.png and '
              'gtFine/<split>/<city>/*_gtFine_labelTrainIds.png')
    CONVERTER = 'tools/convert_datasets/cityscapes.py'

    def __init__(self, crop_pseudo_margins=None, **kwargs):
        kwargs.setdefault('img_suffix', '_leftImg8bit.png')
        kwargs.setdefault('seg_map_suffix', '_gtFine_labelTrainIds.png')
        if crop_pseudo_margins is not None:
            if len(crop_pseudo_margins) != 4 or min(crop_pseudo_margins) < 0:
                raise ValueError('crop_pseudo_margins must be [top, bottom, left, right] >= 0, '
                                 f'got {crop_pseudo_margins}')
            kwargs['pipeline'] = add_collect_key(kwargs['pipeline'], 'valid_pseudo_mask')
        self.pseudo_margins = crop_pseudo_margins
        super().__init__(**kwargs)

    def pre_pipeline(self, results):
        super().pre_pipeline(results)
        if self.pseudo_margins is not None and 'img_info' in results:
            path = results['img_info']['filename']
            if results.get('img_prefix') is not None:
                path = osp.join(results['img_prefix'], path)
            results['valid_pseudo_mask'] = margin_mask(*image_size(path), self.pseudo_margins)
            results['seg_fields'].append('valid_pseudo_mask')

    def convert_prediction(self, result, to_label_id=False):
        """trainIds → Cityscapes label ids when ``to_label_id`` (official evaluation)."""
        result = np.asarray(result)
        if not to_label_id:
            return result
        from cityscapesscripts.helpers.labels import trainId2label
        converted = result.copy()
        for train_id, label in trainId2label.items():
            if 0 <= train_id < len(self.CLASSES):
                converted[result == train_id] = label.id
        return converted

    def format_results(self, results, imgfile_prefix=None, indices=None, to_label_id=True,
                       **kwargs):
        """Write predictions as PNGs for the official Cityscapes evaluation (label ids
        when ``to_label_id``, else trainIds), by default into ``.format_cityscapes``."""
        return super().format_results(results, imgfile_prefix or '.format_cityscapes',
                                      indices, to_label_id)
