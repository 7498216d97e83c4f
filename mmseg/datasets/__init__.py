from .acdc import ACDCDataset
from .builder import DATASETS, PIPELINES, build_dataloader, build_dataset
from .cityscapes import CityscapesDataset
from .custom import CustomDataset
from .dark_zurich import DarkZurichDataset
from .dataset_wrappers import ConcatDataset, RepeatDataset
from .gta import GTADataset
from .seeded_sample_dataset import SeededSampleDataset
from .synthia import SynthiaDataset
from .uda_dataset import UDADataset

__all__ = [
    'DATASETS', 'PIPELINES', 'build_dataloader', 'build_dataset', 'CustomDataset',
    'CityscapesDataset', 'GTADataset', 'SynthiaDataset', 'ACDCDataset', 'DarkZurichDataset',
    'ConcatDataset', 'RepeatDataset', 'UDADataset', 'SeededSampleDataset'
]
