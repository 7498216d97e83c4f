"""ACDC (adverse conditions): ``rgb_anon/<split>/**/*_rgb_anon.png`` with
``gt/<split>/**/*_gt_labelTrainIds.png``."""
from .builder import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class ACDCDataset(CityscapesDataset):
    """ACDC with the 19 Cityscapes classes; ``kwargs``: :class:`CityscapesDataset`
    arguments (``crop_pseudo_margins`` included)."""

    LAYOUT = ('rgb_anon/<split>/**/*_rgb_anon.png and gt/<split>/**/*_gt_labelTrainIds.png '
              '(the conditions of a split gathered in one folder)')
    CONVERTER = None

    def __init__(self, **kwargs):
        kwargs.setdefault('img_suffix', '_rgb_anon.png')
        kwargs.setdefault('seg_map_suffix', '_gt_labelTrainIds.png')
        super().__init__(**kwargs)
