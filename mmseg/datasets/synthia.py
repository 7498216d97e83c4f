"""SYNTHIA-RAND-CITYSCAPES (synthetic source): ``RGB/*.png`` with
``GT/LABELS/*_labelTrainIds.png``."""
from .builder import DATASETS
from .cityscapes import CityscapesDataset
from .custom import CustomDataset


@DATASETS.register_module()
class SynthiaDataset(CustomDataset):
    """Synthia with the 19 Cityscapes classes (labels converted to trainIds by
    ``tools/convert_datasets/synthia.py``; terrain, truck and train never occur).
    ``kwargs``: :class:`CustomDataset` arguments."""

    CLASSES = CityscapesDataset.CLASSES
    PALETTE = CityscapesDataset.PALETTE
    LAYOUT = 'RGB/*.png and GT/LABELS/*_labelTrainIds.png'
    CONVERTER = 'tools/convert_datasets/synthia.py'

    def __init__(self, **kwargs):
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '_labelTrainIds.png')
        super().__init__(**kwargs)
