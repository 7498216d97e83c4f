"""Dark Zurich (nighttime): ``rgb_anon/**/*_rgb_anon.png`` with
``gt/**/*_gt_labelTrainIds.png`` (labels only for val)."""
from .builder import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class DarkZurichDataset(CityscapesDataset):
    """Dark Zurich with the 19 Cityscapes classes; ``kwargs``: :class:`CityscapesDataset`
    arguments (``crop_pseudo_margins`` included)."""

    LAYOUT = 'rgb_anon/<split>/**/*_rgb_anon.png and gt/<split>/**/*_gt_labelTrainIds.png'
    CONVERTER = None

    def __init__(self, **kwargs):
        kwargs.setdefault('img_suffix', '_rgb_anon.png')
        kwargs.setdefault('seg_map_suffix', '_gt_labelTrainIds.png')
        super().__init__(**kwargs)
