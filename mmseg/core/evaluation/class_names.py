"""Class names and colour palettes of the benchmarks (Cityscapes' 19 evaluation classes;
GTA, Synthia, ACDC and Dark Zurich are evaluated on the same classes)."""


def cityscapes_classes():
    """The 19 Cityscapes trainId class names, in trainId order."""
    return [
        'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
        'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
        'bus', 'train', 'motorcycle', 'bicycle'
    ]


def cityscapes_palette():
    """The official Cityscapes colours (RGB) of the 19 trainId classes."""
    return [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153],
            [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
            [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
            [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32]]


# Every name maps to the benchmark whose classes it uses.
DATASET_ALIASES = {
    'cityscapes': ['cityscapes', 'gta', 'gta5', 'synthia', 'acdc', 'dark_zurich',
                   'darkzurich', 'mapillary'],
}


def _canonical(dataset):
    if not isinstance(dataset, str):
        raise TypeError(f'dataset must be a name (str), got {type(dataset).__name__}')
    for name, aliases in DATASET_ALIASES.items():
        if dataset.lower() in aliases:
            return name
    known = sorted(a for aliases in DATASET_ALIASES.values() for a in aliases)
    raise ValueError(f"Unrecognized dataset '{dataset}'. Known names: {known}")


def get_classes(dataset):
    """Class names of ``dataset`` (a name such as 'cityscapes' or 'gta')."""
    return globals()[_canonical(dataset) + '_classes']()


def get_palette(dataset):
    """RGB palette (one [r, g, b] per class) of ``dataset``."""
    return globals()[_canonical(dataset) + '_palette']()
