"""Write a tiny synthetic street-scene dataset in the Cityscapes layout.

Each image is a procedurally drawn scene (sky, buildings, trees, road with lane marks,
sidewalks, terrain, fences, poles with signs/lights, cars, buses, people; ego-vehicle hood
labelled 255), deterministic for a given seed. Layout under ``--out``::

    leftImg8bit/{train,val}/<city>/<city>_<seq>_000019_leftImg8bit.png
    gtFine/{train,val}/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png
    train.txt, val.txt, sample_class_stats.json, sample_class_stats_dict.json,
    samples_with_class.json   (as the Cityscapes converter writes them)

Example:
    python tools/make_demo_data.py --out data/demo_cityscapes --num-train 8 --num-val 4
"""
import argparse
import json
import os
import os.path as osp

import cv2
import numpy as np

# Cityscapes trainIds.
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY, \
    PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(19)
IGNORE = 255
CITIES = {'train': ('aachen', 'bremen'), 'val': ('frankfurt', )}
SPLIT_SEED_OFFSET = {'train': 0, 'val': 500_000}

# Class appearance: mean BGR colours to draw from (textures and noise are added on top).
BUILDING_COLORS = ((150, 160, 170), (110, 120, 150), (90, 100, 120), (170, 175, 180),
                   (80, 90, 140))
CAR_COLORS = ((40, 40, 180), (160, 60, 30), (200, 200, 200), (30, 30, 30), (40, 140, 200),
              (120, 120, 120))
CLOTHES_COLORS = ((60, 30, 30), (30, 30, 90), (20, 20, 20), (90, 60, 40), (30, 90, 60))


class Canvas:
    """Paints an image (BGR) and its label map with the same shapes."""

    def __init__(self, height, width, rng):
        self.img = np.zeros((height, width, 3), np.float32)
        self.label = np.full((height, width), IGNORE, np.uint8)
        self.h, self.w, self.rng = height, width, rng

    def paint(self, mask, color, label, jitter=8.0):
        """Fill ``mask`` with ``color`` (+ per-pixel noise of std ``jitter``)."""
        mask = mask.astype(bool)
        n = int(mask.sum())
        if n == 0:
            return
        noise = self.rng.normal(0, jitter, size=(n, 3)) if jitter else 0
        self.img[mask] = np.asarray(color, np.float32) + noise
        self.label[mask] = label

    def mask(self):
        return np.zeros((self.h, self.w), np.uint8)

    def rect(self, x0, y0, x1, y1, color, label, jitter=8.0):
        m = self.mask()
        cv2.rectangle(m, (int(x0), int(y0)), (int(x1), int(y1)), 1, -1)
        self.paint(m, color, label, jitter)

    def ellipse(self, cx, cy, rx, ry, color, label, jitter=8.0):
        m = self.mask()
        cv2.ellipse(m, (int(cx), int(cy)), (max(int(rx), 1), max(int(ry), 1)), 0, 0, 360, 1,
                    -1)
        self.paint(m, color, label, jitter)

    def polygon(self, points, color, label, jitter=8.0):
        m = self.mask()
        cv2.fillPoly(m, [np.asarray(points, np.int32)], 1)
        self.paint(m, color, label, jitter)


def draw_sky(c, horizon):
    rows = np.linspace(0, 1, max(horizon, 1))[:, None]
    top, bottom = np.array([200, 140, 90]), np.array([235, 215, 200])
    grad = top * (1 - rows) + bottom * rows
    c.img[:horizon] = grad[:, None, :] + c.rng.normal(0, 2, (horizon, c.w, 3))
    c.label[:horizon] = SKY


def draw_buildings_and_trees(c, horizon, ground):
    x = 0
    while x < c.w:
        width = int(c.rng.uniform(0.08, 0.25) * c.w)
        if c.rng.rand() < 0.25:  # a tree in the gap
            cx = x + width / 2
            c.rect(x, horizon, x + width, ground, (35, 95, 50), VEGETATION, 10)  # hedge
            c.rect(cx - 2, horizon - 4, cx + 2, ground, (30, 50, 60), VEGETATION, 4)
            c.ellipse(cx, c.rng.uniform(0.2, 0.45) * c.h, width / 2, c.rng.uniform(0.12, 0.2)
                      * c.h, (40, 120, 60), VEGETATION, 14)
        else:
            top = int(c.rng.uniform(0.03, 0.8) * horizon)
            color = BUILDING_COLORS[c.rng.randint(len(BUILDING_COLORS))]
            c.rect(x, top, x + width, ground, color, BUILDING, 6)
            win = max(3, c.h // 40)
            for wy in range(top + win, ground - win, 3 * win):
                for wx in range(x + win, x + width - win, 3 * win):
                    # windows are part of the building (darker, bluish)
                    m = c.mask()
                    cv2.rectangle(m, (wx, wy), (wx + win, wy + win), 1, -1)
                    c.img[m.astype(bool) & (c.label == BUILDING)] = (110, 80, 60)
        x += width


def draw_ground(c, ground, vanish_x):
    # Sidewalk everywhere below the building line, road as a perspective trapezoid.
    c.rect(0, ground, c.w, c.h, (150, 150, 160), SIDEWALK, 7)
    left_bottom = c.rng.uniform(-0.15, 0.1) * c.w
    right_bottom = c.rng.uniform(0.9, 1.15) * c.w
    near = c.h * 1.0
    c.polygon([(vanish_x - 4, ground), (vanish_x + 4, ground), (right_bottom, near),
               (left_bottom, near)], (85, 80, 80), ROAD, 5)
    for y0 in range(ground + 4, c.h, max(6, c.h // 12)):  # dashed centre line
        t0 = (y0 - ground) / (c.h - ground)
        t1 = min((y0 + max(3, c.h // 30) - ground) / (c.h - ground), 1.0)
        half = 1 + 2 * t0
        c.polygon([(vanish_x - half, y0), (vanish_x + half, y0),
                   (vanish_x + 1 + 2 * t1, ground + t1 * (c.h - ground)),
                   (vanish_x - 1 - 2 * t1, ground + t1 * (c.h - ground))],
                  (220, 220, 220), ROAD, 4)
    if c.rng.rand() < 0.6:  # grass strip at one side
        side = c.rng.randint(2)
        x0, x1 = (0, 0.12 * c.w) if side == 0 else (0.88 * c.w, c.w)
        c.polygon([(x0, ground + 2), (x1, ground + 2), (x1, ground + 0.15 * c.h),
                   (x0, ground + 0.15 * c.h)], (60, 150, 110), TERRAIN, 12)
    if c.rng.rand() < 0.5:  # fence or low wall along the sidewalk
        y = ground - int(0.06 * c.h)
        x0 = int(c.rng.uniform(0, 0.5) * c.w)
        x1 = x0 + int(c.rng.uniform(0.15, 0.4) * c.w)
        if c.rng.rand() < 0.5:
            c.rect(x0, y, x1, ground, (120, 140, 150), WALL, 5)
        else:
            for xs in range(x0, x1, 4):
                c.rect(xs, y, xs + 1, ground, (70, 110, 140), FENCE, 4)
            c.rect(x0, y, x1, y + 1, (70, 110, 140), FENCE, 4)
    return left_bottom, right_bottom


def scale_at(c, y, ground):
    """Apparent size of a 1-unit object standing at image row ``y`` (perspective)."""
    return max((y - ground) / (c.h - ground), 0.05)


def draw_poles(c, ground):
    for _ in range(c.rng.randint(1, 4)):
        x = c.rng.choice([c.rng.uniform(0.02, 0.2), c.rng.uniform(0.8, 0.98)]) * c.w
        y = ground + c.rng.uniform(0.05, 0.25) * (c.h - ground)
        s = scale_at(c, y, ground)
        top = y - 0.55 * c.h * s - 0.15 * c.h
        width = max(1, 0.012 * c.w * (0.5 + s))
        c.rect(x - width / 2, top, x + width / 2, y, (90, 90, 100), POLE, 4)
        box = max(3, 0.04 * c.w * (0.5 + s))
        if c.rng.rand() < 0.5:
            c.rect(x - box, top - box, x + box, top + box * 0.6, (20, 180, 230), SIGN, 6)
        else:
            c.rect(x - box / 2, top - 2 * box, x + box / 2, top, (20, 20, 20), LIGHT, 3)
            c.ellipse(x, top - 1.5 * box, box / 3, box / 3, (40, 40, 220), LIGHT, 5)


def draw_vehicles(c, ground, vanish_x, left_bottom, right_bottom):
    placed = sorted(c.rng.uniform(0.1, 0.85, size=c.rng.randint(1, 5)))
    for t in placed:  # far to near, so near vehicles occlude far ones
        y = ground + t * (c.h - ground)
        left = vanish_x + (left_bottom - vanish_x) * t
        right = vanish_x + (right_bottom - vanish_x) * t
        s = scale_at(c, y, ground)
        is_bus = c.rng.rand() < 0.15
        w = (0.45 if is_bus else 0.3) * c.w * s + 4
        h = (0.5 if is_bus else 0.22) * c.h * s + 3
        x0 = c.rng.uniform(left, max(left + 1, right - w))
        label = BUS if is_bus else CAR
        color = (40, 160, 220) if is_bus else CAR_COLORS[c.rng.randint(len(CAR_COLORS))]
        c.rect(x0, y - h, x0 + w, y, color, label, 6)
        c.rect(x0 + 0.12 * w, y - h + 0.1 * h, x0 + 0.88 * w, y - h + 0.4 * h, (60, 50, 40),
               label, 4)  # windows
        for wx in (x0 + 0.2 * w, x0 + 0.8 * w):  # wheels
            c.ellipse(wx, y, 0.09 * w, 0.12 * h, (15, 15, 15), label, 2)


def draw_people(c, ground):
    for _ in range(c.rng.randint(0, 4)):
        x = c.rng.choice([c.rng.uniform(0.0, 0.2), c.rng.uniform(0.8, 1.0)]) * c.w
        y = ground + c.rng.uniform(0.05, 0.5) * (c.h - ground)
        s = scale_at(c, y, ground)
        h = 0.35 * c.h * s + 6
        color = CLOTHES_COLORS[c.rng.randint(len(CLOTHES_COLORS))]
        c.ellipse(x, y - 0.45 * h, 0.13 * h, 0.42 * h, color, PERSON, 6)
        c.ellipse(x, y - 0.92 * h, 0.08 * h, 0.08 * h, (120, 150, 190), PERSON, 6)


def draw_scene(height, width, rng):
    """One synthetic street scene → (BGR uint8 image, trainId uint8 label)."""
    c = Canvas(height, width, rng)
    horizon = int(rng.uniform(0.35, 0.5) * height)
    ground = min(height - 2, horizon + int(rng.uniform(0.05, 0.12) * height))
    vanish_x = rng.uniform(0.35, 0.65) * width
    draw_sky(c, horizon)
    draw_buildings_and_trees(c, horizon, ground)
    left_bottom, right_bottom = draw_ground(c, ground, vanish_x)
    draw_poles(c, ground)
    draw_vehicles(c, ground, vanish_x, left_bottom, right_bottom)
    draw_people(c, ground)
    hood = int(0.06 * height)  # ego vehicle: ignored, as in Cityscapes
    c.img[height - hood:] = (25, 25, 30)
    c.label[height - hood:] = IGNORE
    img = cv2.GaussianBlur(np.clip(c.img, 0, 255), (3, 3), 0.6)
    return img.round().astype(np.uint8), c.label


def class_stats(label_file, label):
    ids, counts = np.unique(label, return_counts=True)
    stats = {str(int(i)): int(n) for i, n in zip(ids, counts) if i != IGNORE}
    stats['file'] = label_file
    return stats


def write_class_stats(out_dir, stats):
    """The three statistics files of the Cityscapes converter (train split)."""
    with open(osp.join(out_dir, 'sample_class_stats.json'), 'w') as f:
        json.dump(stats, f, indent=2)
    by_file = {s['file']: {int(k): v for k, v in s.items() if k != 'file'} for s in stats}
    with open(osp.join(out_dir, 'sample_class_stats_dict.json'), 'w') as f:
        json.dump(by_file, f, indent=2)
    with_class = {}
    for s in stats:
        for k, v in s.items():
            if k != 'file':
                with_class.setdefault(int(k), []).append((s['file'], v))
    with open(osp.join(out_dir, 'samples_with_class.json'), 'w') as f:
        json.dump(with_class, f, indent=2)


def make_demo_data(out, seed=0, num_train=8, num_val=4, size=(128, 256)):
    """Write the dataset; returns ``{split: [<city>/<stem>, ...]}``."""
    height, width = size
    os.makedirs(out, exist_ok=True)
    written = {}
    train_stats = []
    for split, count in (('train', num_train), ('val', num_val)):
        names = []
        for idx in range(count):
            city = CITIES[split][idx % len(CITIES[split])]
            stem = f'{city}_{idx:06d}_000019'
            rng = np.random.RandomState(seed * 1_000_003 + SPLIT_SEED_OFFSET[split] + idx)
            img, label = draw_scene(height, width, rng)
            img_file = osp.join(out, 'leftImg8bit', split, city, f'{stem}_leftImg8bit.png')
            label_file = osp.join(out, 'gtFine', split, city,
                                  f'{stem}_gtFine_labelTrainIds.png')
            for path, array in ((img_file, img), (label_file, label)):
                os.makedirs(osp.dirname(path), exist_ok=True)
                if not cv2.imwrite(path, array):
                    raise IOError(f'could not write {path}')
            if split == 'train':
                train_stats.append(class_stats(label_file, label))
            names.append(f'{city}/{stem}')
        with open(osp.join(out, f'{split}.txt'), 'w') as f:
            f.writelines(f'{n}\n' for n in names)
        written[split] = names
    write_class_stats(out, train_stats)
    return written


def parse_size(text):
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'--size must be HEIGHTxWIDTH, e.g. 128x256, '
                                         f'got {text!r}')
    if height < 32 or width < 32:
        raise argparse.ArgumentTypeError(f'--size must be at least 32x32, got {text!r}')
    return height, width


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
