"""Target labels of active domain adaptation (RIPU), read from the active label store."""
from ..active_label_store import ActiveLabelStore, image_key
from ..builder import PIPELINES


@PIPELINES.register_module()
class LoadActiveAnnotations:
    """Replace ``LoadAnnotations`` in a target train pipeline: ``gt_semantic_seg`` (H×W
    uint8, appended to ``seg_fields`` so that the geometric transforms follow) holds the
    labels of the store's rounds in use, 255 elsewhere — never the ground-truth file.

    Args:
        store_dir (str): the store folder (``<work_dir>/active_labels``; tools/train.py
            fills it in for configs with ``active_selection``).
    """

    def __init__(self, store_dir=None):
        self.store_dir = store_dir

    def __call__(self, results):
        if self.store_dir is None:
            raise ValueError('LoadActiveAnnotations: store_dir is not set (train with '
                             'tools/train.py, which sets it to <work_dir>/active_labels)')
        if 'img' not in results:
            raise KeyError('LoadActiveAnnotations must follow LoadImageFromFile (it needs '
                           'the image size)')
        store = ActiveLabelStore(self.store_dir)
        results['gt_semantic_seg'] = store.labels(image_key(results['img_info']['filename']),
                                                  results['img'].shape[:2])
        results.setdefault('seg_fields', []).append('gt_semantic_seg')
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(store_dir={self.store_dir!r})'
