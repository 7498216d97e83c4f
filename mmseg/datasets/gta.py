"""GTA5 (synthetic source): ``images/*.png`` with ``labels/*_labelTrainIds.png``."""
from .builder import DATASETS
from .cityscapes import CityscapesDataset
from .custom import CustomDataset


@DATASETS.register_module()
class GTADataset(CustomDataset):
    """GTA5 with the 19 Cityscapes classes (labels converted to trainIds by
    ``tools/convert_datasets/gta.py``). ``kwargs``: :class:`CustomDataset` arguments."""

    CLASSES = CityscapesDataset.CLASSES
    PALETTE = CityscapesDataset.PALETTE
    LAYOUT = 'images/*.png and labels/*_labelTrainIds.png'
    CONVERTER = 'tools/convert_datasets/gta.py'

    def __init__(self, **kwargs):
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '_labelTrainIds.png')
        super().__init__(**kwargs)
