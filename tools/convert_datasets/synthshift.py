"""SynthShift: a procedural source → target benchmark for domain adaptation on a CPU.

The same kind of street scene (``street_scenes.py``) is drawn in two domains that differ
the way rendered data differs from real data, while the layout stays shared:

- **source** ("rendered", GTA layout): flat, vivid colours, hard edges, no noise, even
  lighting, larger objects, many vehicles and few people;
- **target** ("real", Cityscapes layout): a muted palette, textures, shadows, haze,
  uneven lighting, a warm and varying white balance, blur and sensor noise, an ego-vehicle
  bonnet, smaller objects, more pedestrians, cyclists and vegetation, fewer vehicles.

Layout under ``--out``::

    gta/images/00001.png                 RGB source images
    gta/labels/00001.png                 Cityscapes label ids (palette PNG, as GTA5)
    gta/labels/00001_labelTrainIds.png   } written by tools/convert_datasets/gta.py
    gta/sample_class_stats*.json, gta/samples_with_class.json   }
    cityscapes/leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
    cityscapes/gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png
    cityscapes/{train,val}.txt, cityscapes/sample_class_stats*.json, ...
    synthshift.json                      parameters and class statistics, written last

Every file depends only on the parameters (same seed → byte-identical files); the class
statistics name files relative to ``--out``. A folder without ``synthshift.json`` is
incomplete (an interrupted run leaves ``synthshift.partial``) and is regenerated.

Usage:
    python tools/convert_datasets/synthshift.py --out data/synthshift --seed 0 \
        [--num-source 400 --num-target-train 200 --num-target-val 60 --size 128x256] \
        [--overwrite]
From Python: ``generate('data/synthshift', seed=0)`` (returns the manifest).
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

import numpy as np
from PIL import Image

CONVERTERS_DIR = osp.dirname(osp.abspath(__file__))
if CONVERTERS_DIR not in sys.path:  # _common, street_scenes (also when imported by path)
    sys.path.insert(0, CONVERTERS_DIR)
from _common import (CITYSCAPES_ID_TO_TRAINID, save_class_stats)  # noqa: E402
from street_scenes import (CLASS_NAMES, DEMO_STYLE, SCENE_CLASSES,  # noqa: E402
                           draw_scene, parse_size, write_cityscapes_split, write_png)

VERSION = 2  # bump whenever the drawing changes: older outputs then count as stale
MANIFEST = 'synthshift.json'
PARTIAL_MARKER = 'synthshift.partial'
OUTPUTS = ('gta', 'cityscapes')  # the folders this generator writes under --out
GTA_CONVERTER = osp.join(CONVERTERS_DIR, 'gta.py')
TARGET_CITIES = {'train': ('aachen', 'bochum', 'bremen', 'cologne'),
                 'val': ('frankfurt', 'lindau', 'munster')}
# First entry of each per-image seed (numpy SeedSequence entropy [seed, domain, index]).
DOMAIN_KEY = {'source': 1, 'train': 2, 'val': 3}
DEFAULTS = dict(seed=0, num_source=400, num_target_train=200, num_target_val=60,
                size=(128, 256))

# "Rendered": vivid, flat colours, hard edges, clean; more vehicles, larger objects.
SOURCE_STYLE = DEMO_STYLE.with_changes(
    horizon=(0.32, 0.46), object_scale=1.15, tree_prob=0.15, terrain_prob=0.4,
    barrier_prob=0.6, fence_prob=0.3, num_poles=(1, 3), sign_prob=0.6, num_vehicles=(2, 7),
    bus_prob=0.15, num_people=(0, 3), cyclist_prob=0.3, num_parked_bicycles=(0, 2),
    ego_hood=False,
    tint=4.0, jitter=2.0, texture=0.0, blur=0.0, noise=0.0,
    palette=dict(
        sky=(((235, 160, 60), (250, 220, 170)), ((225, 140, 40), (245, 210, 150))),
        building=((140, 170, 230), (100, 120, 210), (170, 200, 210), (200, 170, 120),
                  (120, 150, 170)),
        window=((200, 150, 90), ),
        vegetation=((40, 170, 50), (30, 140, 40)),
        trunk=((30, 70, 110), ),
        road=((70, 65, 65), ),
        lane=((250, 250, 250), ),
        sidewalk=((175, 170, 180), ),
        terrain=((60, 190, 140), ),
        wall=((150, 170, 190), ),
        fence=((60, 120, 170), ),
        pole=((110, 110, 120), ),
        sign=((0, 200, 255), (200, 80, 0)),
        light=((25, 25, 25), ),
        lamp=((30, 30, 255), (30, 255, 60)),
        car=((30, 30, 220), (200, 80, 20), (240, 240, 240), (20, 20, 20), (30, 200, 240),
             (60, 160, 60)),
        bus=((30, 170, 240), (40, 40, 200)),
        vehicle_window=((90, 60, 40), ),
        clothes=((200, 60, 60), (40, 40, 200), (30, 30, 30), (60, 180, 220), (60, 160, 60)),
        skin=((140, 170, 220), ),
        bicycle=((30, 30, 30), (40, 40, 200)),
    ))

# "Real": muted palette, textures, shadows, haze, uneven light, warm varying white
# balance, blur, sensor noise, ego bonnet; smaller objects, more people and vegetation.
TARGET_STYLE = DEMO_STYLE.with_changes(
    horizon=(0.38, 0.52), object_scale=0.8, tree_prob=0.4, terrain_prob=0.7,
    barrier_prob=0.5, fence_prob=0.7, num_poles=(2, 5), sign_prob=0.4, num_vehicles=(0, 4),
    bus_prob=0.06, num_people=(1, 7), cyclist_prob=0.35, num_parked_bicycles=(0, 3),
    ego_hood=True,
    tint=10.0, jitter=4.0, texture=0.25, shadow_prob=0.5, haze=0.15, illumination=0.25,
    exposure=(0.8, 1.15), white_balance=(0.92, 1.0, 1.06), white_balance_jitter=0.04,
    saturation=0.85, blur=0.9, noise=6.0,
    palette=dict(
        sky=(((225, 170, 115), (240, 225, 205)), ((215, 165, 120), (235, 220, 205)),
             ((230, 185, 140), (240, 230, 220)), ((195, 190, 185), (230, 230, 230))),
        building=((130, 135, 140), (90, 100, 140), (150, 170, 190), (160, 160, 165),
                  (110, 125, 145)),
        window=((95, 85, 75), (140, 130, 120)),
        vegetation=((55, 105, 70), (45, 85, 60), (60, 110, 90)),
        trunk=((40, 55, 65), ),
        road=((90, 90, 88), ),
        lane=((200, 205, 205), ),
        sidewalk=((140, 145, 150), ),
        terrain=((70, 125, 115), ),
        wall=((125, 130, 135), ),
        fence=((90, 100, 105), ),
        pole=((95, 95, 95), ),
        sign=((40, 160, 210), (140, 90, 40)),
        light=((35, 35, 35), ),
        lamp=((60, 60, 200), (80, 190, 90)),
        car=((150, 150, 150), (40, 40, 40), (210, 210, 210), (90, 70, 60), (50, 50, 130),
             (110, 110, 100)),
        bus=((60, 140, 200), (150, 150, 150)),
        vehicle_window=((50, 45, 40), ),
        wheel=((20, 20, 20), ),
        clothes=((50, 40, 40), (40, 40, 70), (25, 25, 25), (100, 90, 80), (60, 70, 90)),
        skin=((110, 135, 170), ),
        bicycle=((35, 35, 35), (60, 60, 110)),
        hood=((30, 30, 35), ),
    ))

TRAIN_ID_TO_LABEL_ID = {train_id: label_id
                        for label_id, train_id in CITYSCAPES_ID_TO_TRAINID.items()}
# trainId → Cityscapes label id (255 → 0, 'unlabeled').
LABEL_ID_LUT = np.zeros(256, np.uint8)
for _train_id, _label_id in TRAIN_ID_TO_LABEL_ID.items():
    LABEL_ID_LUT[_train_id] = _label_id
# Colours of the label-id palette PNGs (cityscapesScripts' label colours; others black).
LABEL_ID_COLORS = {
    7: (128, 64, 128), 8: (244, 35, 232), 11: (70, 70, 70), 12: (102, 102, 156),
    13: (190, 153, 153), 17: (153, 153, 153), 19: (250, 170, 30), 20: (220, 220, 0),
    21: (107, 142, 35), 22: (152, 251, 152), 23: (70, 130, 180), 24: (220, 20, 60),
    25: (255, 0, 0), 26: (0, 0, 142), 27: (0, 0, 70), 28: (0, 60, 100), 31: (0, 80, 100),
    32: (0, 0, 230), 33: (119, 11, 32)
}


def label_id_palette():
    palette = np.zeros((256, 3), np.uint8)
    for label_id, color in LABEL_ID_COLORS.items():
        palette[label_id] = color
    return palette.ravel().tolist()


def write_source(out_dir, params):
    """Draw the source domain: RGB images and label-id palette PNGs (GTA5 layout)."""
    height, width = params['size']
    palette = label_id_palette()
    labels_dir = osp.join(out_dir, 'gta', 'labels')
    os.makedirs(labels_dir, exist_ok=True)
    for idx in range(params['num_source']):
        rng = np.random.default_rng([params['seed'], DOMAIN_KEY['source'], idx])
        img, train_ids = draw_scene(height, width, SOURCE_STYLE, rng)
        name = f'{idx + 1:05d}.png'
        write_png(osp.join(out_dir, 'gta', 'images', name), img)
        label = Image.fromarray(LABEL_ID_LUT[train_ids])
        label.putpalette(palette)  # 'L' → 'P': indices are the label ids
        label.save(osp.join(labels_dir, name))


def convert_source(out_dir):
    """Run our GTA converter on the source (from ``out_dir``, so that the statistics name
    files relative to it): ``*_labelTrainIds.png`` and the RCS statistics."""
    proc = subprocess.run([sys.executable, GTA_CONVERTER, 'gta', '--nproc', '1'],
                          cwd=out_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{GTA_CONVERTER} failed on {osp.join(out_dir, "gta")} '
                           f'(exit {proc.returncode}):\n{proc.stderr[-3000:]}')


def write_target(out_dir, params):
    """Draw the target domain (Cityscapes layout, trainId labels); returns the class
    statistics of both splits."""
    root = osp.join(out_dir, 'cityscapes')
    stats = {}
    for split, count in (('train', params['num_target_train']),
                         ('val', params['num_target_val'])):
        _, stats[split] = write_cityscapes_split(
            root, split, count, TARGET_CITIES[split], TARGET_STYLE,
            (params['seed'], DOMAIN_KEY[split]), params['size'], stats_root=out_dir)
    save_class_stats(root, stats['train'])  # as the converter: train split only
    return stats


def class_shares(stats):
    """``{class name: share of the labelled pixels}`` over per-file class statistics."""
    totals = np.zeros(len(CLASS_NAMES), np.int64)
    for file_stats in stats:
        for c, n in file_stats.items():
            if c != 'file':
                totals[int(c)] += n
    return {CLASS_NAMES[c]: round(float(totals[c] / max(totals.sum(), 1)), 5)
            for c in SCENE_CLASSES}


def make_params(seed, num_source, num_target_train, num_target_val, size):
    """The generation parameters as stored in the manifest (checked)."""
    params = dict(version=VERSION, seed=int(seed), size=[int(v) for v in size],
                  num_source=int(num_source), num_target_train=int(num_target_train),
                  num_target_val=int(num_target_val))
    check_params(params)
    return params


def check_params(params):
    height, width = params['size']
    if height < 32 or width < 32:
        raise ValueError(f'size must be at least 32x32, got {height}x{width}')
    for key in ('num_source', 'num_target_train', 'num_target_val'):
        if params[key] < 1:
            raise ValueError(f'{key} must be >= 1, got {params[key]}')
    if params['seed'] < 0:
        raise ValueError(f'seed must be >= 0, got {params["seed"]}')


def read_manifest(out_dir):
    """The manifest of a complete SynthShift folder, or None."""
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def is_complete(out_dir, params):
    """Whether ``out_dir`` holds a complete SynthShift output made with ``params``."""
    manifest = read_manifest(out_dir)
    return manifest is not None and manifest.get('params') == params


def prepare_out_dir(out_dir, params, overwrite):
    """Make ``out_dir`` ready to be written; returns False when it already holds this
    very output (nothing to do). Clears previous SynthShift outputs (complete or
    interrupted); refuses other non-empty folders unless ``overwrite``."""
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'SynthShift output {out_dir} exists and is not a folder')
    if osp.isdir(out_dir) and os.listdir(out_dir):
        ours = osp.exists(osp.join(out_dir, MANIFEST)) or \
            osp.exists(osp.join(out_dir, PARTIAL_MARKER))
        if not ours and not overwrite:
            entries = sorted(os.listdir(out_dir))
            raise FileExistsError(
                f'SynthShift output folder {out_dir} is not empty and holds no previous '
                f'SynthShift output ({MANIFEST} or {PARTIAL_MARKER}); found '
                f'{entries[:5]}{" ..." if len(entries) > 5 else ""}. Choose another --out '
                f'or pass --overwrite (replaces {", ".join(OUTPUTS)} in it).')
        if not overwrite and is_complete(out_dir, params):
            return False
        for name in OUTPUTS + (MANIFEST, PARTIAL_MARKER):
            path = osp.join(out_dir, name)
            if osp.isdir(path):
                shutil.rmtree(path)
            elif osp.exists(path):
                os.remove(path)
    os.makedirs(out_dir, exist_ok=True)
    return True


def write_json_atomic(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2)
        f.write('\n')
    os.replace(tmp, path)


def generate(out_dir, seed=DEFAULTS['seed'], num_source=DEFAULTS['num_source'],
             num_target_train=DEFAULTS['num_target_train'],
             num_target_val=DEFAULTS['num_target_val'], size=DEFAULTS['size'],
             overwrite=False):
    """Write the SynthShift benchmark into ``out_dir``; returns its manifest (a dict with
    ``params``, ``class_shares`` per domain and the domain ``styles``).

    Does nothing when ``out_dir`` already holds a complete output with these parameters
    (unless ``overwrite``); regenerates a previous SynthShift output with other
    parameters or an interrupted one; refuses any other non-empty folder (FileExistsError)
    unless ``overwrite``, which then replaces only ``gta/`` and ``cityscapes/`` in it.
    """
    params = make_params(seed, num_source, num_target_train, num_target_val, size)
    if not prepare_out_dir(out_dir, params, overwrite):
        return read_manifest(out_dir)
    write_json_atomic(osp.join(out_dir, PARTIAL_MARKER), dict(params=params))
    write_source(out_dir, params)
    convert_source(out_dir)
    target_stats = write_target(out_dir, params)
    with open(osp.join(out_dir, 'gta', 'sample_class_stats.json')) as f:
        source_stats = json.load(f)
    manifest = dict(
        generator='tools/convert_datasets/synthshift.py',
        params=params,
        class_shares=dict(source=class_shares(source_stats),
                          target_train=class_shares(target_stats['train']),
                          target_val=class_shares(target_stats['val'])),
        styles=dict(source=style_summary(SOURCE_STYLE), target=style_summary(TARGET_STYLE)))
    write_json_atomic(osp.join(out_dir, MANIFEST), manifest)
    os.remove(osp.join(out_dir, PARTIAL_MARKER))
    return manifest


def style_summary(style):
    """The style's fields as JSON data (palette included)."""
    return json.loads(json.dumps(vars(style)))


def format_summary(out_dir, manifest):
    p = manifest['params']
    shares = manifest['class_shares']
    lines = [
        f'SynthShift v{p["version"]} (seed {p["seed"]}, {p["size"][0]}x{p["size"][1]}) in '
        f'{out_dir}:',
        f'  source  {osp.join(out_dir, "gta")}: {p["num_source"]} images (GTA layout, '
        'label ids + trainIds, RCS statistics)',
        f'  target  {osp.join(out_dir, "cityscapes")}: {p["num_target_train"]} train + '
        f'{p["num_target_val"]} val images (Cityscapes layout, trainIds)',
        '  pixel share (%)   source  target-val',
    ]
    for name in shares['source']:
        lines.append(f'    {name:<14} {100 * shares["source"][name]:7.2f} '
                     f'{100 * shares["target_val"][name]:10.2f}')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate the SynthShift benchmark (procedural source → target street '
        'scenes in the GTA and Cityscapes layouts)')
    parser.add_argument('--out', default='data/synthshift', help='output folder')
    parser.add_argument('--seed', type=int, default=DEFAULTS['seed'])
    parser.add_argument('--num-source', type=int, default=DEFAULTS['num_source'])
    parser.add_argument('--num-target-train', type=int, default=DEFAULTS['num_target_train'])
    parser.add_argument('--num-target-val', type=int, default=DEFAULTS['num_target_val'])
    parser.add_argument('--size', type=parse_size, default=DEFAULTS['size'],
                        help='image size HEIGHTxWIDTH (default 128x256)')
    parser.add_argument('--overwrite', action='store_true',
                        help='regenerate even if up to date; write into a non-empty folder '
                        'that holds no SynthShift output (replacing its gta/ and '
                        'cityscapes/)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    kwargs = dict(seed=args.seed, num_source=args.num_source,
                  num_target_train=args.num_target_train, num_target_val=args.num_target_val,
                  size=args.size)
    try:
        up_to_date = not args.overwrite and is_complete(args.out, make_params(**kwargs))
        manifest = generate(args.out, overwrite=args.overwrite, **kwargs)
    except (FileExistsError, NotADirectoryError, ValueError) as err:
        sys.exit(f'error: {err}')
    print(format_summary(args.out, manifest))
    if up_to_date:
        print('already up to date (nothing written; --overwrite regenerates)')
    else:
        print(f'generated in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
