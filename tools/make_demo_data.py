"""Write a tiny synthetic street-scene dataset in the Cityscapes layout.

Each image is a procedurally drawn scene (sky, buildings, trees, road with lane marks,
sidewalks, terrain, fences, poles with signs/lights, cars, buses, people; ego-vehicle hood
labelled 255), deterministic for a given seed; the drawing lives in
``tools/convert_datasets/street_scenes.py`` (shared with the SynthShift benchmark,
``tools/convert_datasets/synthshift.py``). Layout under ``--out``::

    leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
    gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png
    train.txt, val.txt, sample_class_stats.json, sample_class_stats_dict.json,
    samples_with_class.json   (as the Cityscapes converter writes them)

Example:
    python tools/make_demo_data.py --out data/demo_cityscapes --num-train 8 --num-val 4
"""
import argparse
import os
import os.path as osp
import sys

CONVERTERS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'convert_datasets')
if CONVERTERS_DIR not in sys.path:  # _common, street_scenes
    sys.path.insert(0, CONVERTERS_DIR)
from _common import save_class_stats  # noqa: E402
from street_scenes import DEMO_STYLE, parse_size, write_cityscapes_split  # noqa: E402

CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt', )}
SPLIT_KEY = {'train': 0, 'val': 1}


def make_demo_data(out, seed=0, num_train=8, num_val=4, size=(128, 256)):
    """Write the dataset; returns ``{split: [<city>/<stem>, ...]}``."""
    if seed < 0:
        raise ValueError(f'seed must be >= 0, got {seed}')
    os.makedirs(out, exist_ok=True)
    written = {}
    for split, count in (('train', num_train), ('val', num_val)):
        names, stats = write_cityscapes_split(out, split, count, CITIES[split], DEMO_STYLE,
                                              (seed, SPLIT_KEY[split]), size)
        if split == 'train':  # the converter's statistics cover the train split only
            save_class_stats(out, stats)
        written[split] = names
    return written


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/demo_cityscapes', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-train', type=int, default=8)
    parser.add_argument('--num-val', type=int, default=4)
    parser.add_argument('--size', type=parse_size, default=(128, 256),
                        help='image size HEIGHTxWIDTH (default 128x256)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    written = make_demo_data(args.out, args.seed, args.num_train, args.num_val, args.size)
    print(f'wrote {len(written["train"])} train and {len(written["val"])} val images '
          f'({args.size[0]}x{args.size[1]}) to {args.out}')


if __name__ == '__main__':
    main()
