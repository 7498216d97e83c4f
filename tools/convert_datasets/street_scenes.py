"""Procedural street scenes: every drawing call paints the image and its label map with the
same shape, so the labels are exact by construction.

A scene (:func:`draw_scene`) is drawn in three steps, all driven by a :class:`SceneStyle` and
one ``numpy.random.Generator`` (same style, same generator state → same scene):

1. the street layout: horizon, vanishing point, facades (buildings, trees), road, sidewalks,
   terrain, a wall or fence, then the things standing on the ground (poles with signs and
   lights, vehicles, pedestrians, cyclists, parked bicycles) in perspective, far to near; the
   style sets how often each kind appears and how large things are;
2. painting: each shape gets a colour from the style's palette plus texture and per-pixel
   jitter of the style's strength;
3. the camera: cast shadows, haze, illumination, exposure, white balance, saturation, blur
   and sensor noise on the whole image (labels untouched).

:func:`write_cityscapes_split` writes scenes in the Cityscapes layout (trainId labels, split
file, class statistics); ``tools/make_demo_data.py`` and the SynthShift target domain
(``synthshift.py``) use it.
"""
import argparse
import os
import os.path as osp
from dataclasses import dataclass, replace

import cv2
import numpy as np

from _common import class_counts

# Cityscapes trainIds.
ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION, TERRAIN, SKY, \
    PERSON, RIDER, CAR, TRUCK, BUS, TRAIN, MOTORCYCLE, BICYCLE = range(19)
IGNORE = 255
# The classes a scene can contain (no truck, train, motorcycle).
SCENE_CLASSES = (ROAD, SIDEWALK, BUILDING, WALL, FENCE, POLE, LIGHT, SIGN, VEGETATION,
                 TERRAIN, SKY, PERSON, RIDER, CAR, BUS, BICYCLE)
CLASS_NAMES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
               'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
               'truck', 'bus', 'train', 'motorcycle', 'bicycle')


@dataclass(frozen=True)
class SceneStyle:
    """What a domain looks like: scene statistics (what appears, how often, how large) and
    appearance (palette, texture, camera). Ranges ``(low, high)`` are sampled uniformly per
    image; counts ``(low, high)`` are integers in ``[low, high)``.

    ``palette`` maps a part name to a tuple of BGR colours to pick from; ``'sky'`` holds
    ``(top, bottom)`` colour pairs. Texture kinds are ``'coarse'`` (smooth blotches),
    ``'fine'`` (grain), ``'leafy'`` (foliage) and ``'facade'`` (brick rows).
    """
    palette: dict
    # Scene statistics.
    horizon: tuple = (0.35, 0.5)          # horizon row / image height
    object_scale: float = 1.0             # size of everything standing on the ground
    tree_prob: float = 0.25               # per facade slot: a tree instead of a building
    terrain_prob: float = 0.6             # a grass strip at one side
    barrier_prob: float = 0.5             # a low wall or a fence along the sidewalk
    fence_prob: float = 0.5               # ... of which a fence
    num_poles: tuple = (1, 4)
    sign_prob: float = 0.5                # per pole: a sign (else a traffic light)
    num_vehicles: tuple = (1, 5)
    bus_prob: float = 0.15
    num_people: tuple = (0, 4)
    cyclist_prob: float = 0.0             # per person: a rider on a bicycle instead
    num_parked_bicycles: tuple = (0, 1)
    ego_hood: bool = True                 # ego-vehicle bonnet at the bottom, label 255
    # Appearance.
    tint: float = 0.0                     # std of a per-shape colour offset
    jitter: float = 8.0                   # std of the per-pixel colour noise in a shape
    texture: float = 0.0                  # amplitude of the multiplicative textures
    shadow_prob: float = 0.0              # a building's shadow across the street
    haze: float = 0.0                     # blend towards the sky colour near the horizon
    illumination: float = 0.0             # strength of a lighting gradient and vignette
    exposure: tuple = (1.0, 1.0)          # global gain
    white_balance: tuple = (1.0, 1.0, 1.0)  # BGR gains
    white_balance_jitter: float = 0.0     # std of a per-image relative change of the gains
    saturation: float = 1.0               # 1: unchanged, < 1: muted, > 1: vivid
    blur: float = 0.6                     # Gaussian sigma (pixels) of the optics
    noise: float = 0.0                    # std of the sensor noise (grey levels)

    def with_changes(self, **changes):
        """A copy with some fields changed (``palette`` entries are merged)."""
        if 'palette' in changes:
            changes['palette'] = {**self.palette, **changes['palette']}
        return replace(self, **changes)


# The plain look of the quickstart's demo scenes; the SynthShift domains derive from it.
DEMO_STYLE = SceneStyle(palette=dict(
    sky=(((200, 140, 90), (235, 215, 200)), ),
    building=((150, 160, 170), (110, 120, 150), (90, 100, 120), (170, 175, 180),
              (80, 90, 140)),
    window=((110, 80, 60), ),
    vegetation=((40, 120, 60), (35, 95, 50)),
    trunk=((30, 50, 60), ),
    road=((85, 80, 80), ),
    lane=((220, 220, 220), ),
    sidewalk=((150, 150, 160), ),
    terrain=((60, 150, 110), ),
    wall=((120, 140, 150), ),
    fence=((70, 110, 140), ),
    pole=((90, 90, 100), ),
    sign=((20, 180, 230), (160, 90, 30)),
    light=((20, 20, 20), ),
    lamp=((40, 40, 220), (40, 200, 60)),
    car=((40, 40, 180), (160, 60, 30), (200, 200, 200), (30, 30, 30), (40, 140, 200),
         (120, 120, 120)),
    bus=((40, 160, 220), ),
    vehicle_window=((60, 50, 40), ),
    wheel=((15, 15, 15), ),
    clothes=((60, 30, 30), (30, 30, 90), (20, 20, 20), (90, 60, 40), (30, 90, 60)),
    skin=((120, 150, 190), ),
    bicycle=((30, 30, 30), (40, 40, 160)),
    hood=((25, 25, 30), ),
))

# Relative strength of each texture kind (times ``SceneStyle.texture``).
TEXTURE_GAIN = dict(coarse=0.5, fine=0.3, leafy=1.0, facade=0.5)


class Canvas:
    """A BGR float image and its label map, painted together.

    Every shape method builds one mask and :meth:`paint` fills it in both arrays.
    """

    def __init__(self, height, width, style, rng):
        self.img = np.zeros((height, width, 3), np.float32)
        self.label = np.full((height, width), IGNORE, np.uint8)
        self.h, self.w, self.style, self.rng = height, width, style, rng
        self._textures = {}

    def pick(self, part):
        """A colour of ``part`` from the palette, shifted by the style's per-shape tint."""
        colors = self.style.palette[part]
        color = np.asarray(colors[self.rng.integers(len(colors))], np.float32)
        if self.style.tint:
            color = color + self.rng.normal(0, self.style.tint, 3).astype(np.float32)
        return color

    def texture(self, kind):
        """This scene's texture field of ``kind`` (H×W, zero mean, unit std)."""
        if kind not in self._textures:
            self._textures[kind] = make_texture(kind, self.h, self.w, self.rng)
        return self._textures[kind]

    def paint(self, mask, color, label, jitter=1.0, texture=None):
        """Fill ``mask`` with ``color`` (BGR, or an H×W×3 colour image) and ``label``.

        ``jitter`` and the ``texture`` kind scale the style's per-pixel noise and texture.
        """
        mask = mask.astype(bool)
        n = int(mask.sum())
        if n == 0:
            return
        color = np.asarray(color, np.float32)
        value = color[mask] if color.ndim == 3 else np.broadcast_to(color, (n, 3))
        if texture is not None and self.style.texture:
            gain = self.style.texture * TEXTURE_GAIN[texture]
            value = value * (1 + gain * self.texture(texture)[mask])[:, None]
        if self.style.jitter and jitter:
            value = value + self.rng.normal(0, self.style.jitter * jitter, (n, 3))
        self.img[mask] = value
        self.label[mask] = label

    def new_mask(self):
        return np.zeros((self.h, self.w), np.uint8)

    def rect(self, x0, y0, x1, y1, color, label, **kwargs):
        m = self.new_mask()
        cv2.rectangle(m, (int(x0), int(y0)), (int(x1), int(y1)), 1, -1)
        self.paint(m, color, label, **kwargs)

    def ellipse(self, cx, cy, rx, ry, color, label, **kwargs):
        m = self.new_mask()
        cv2.ellipse(m, (int(cx), int(cy)), (max(int(rx), 1), max(int(ry), 1)), 0, 0, 360, 1,
                    -1)
        self.paint(m, color, label, **kwargs)

    def polygon(self, points, color, label, **kwargs):
        m = self.new_mask()
        cv2.fillPoly(m, [np.asarray(points, np.float64).round().astype(np.int32)], 1)
        self.paint(m, color, label, **kwargs)

    def lines(self, segments, thickness, color, label, **kwargs):
        """Straight segments ``[((x0, y0), (x1, y1)), ...]`` as one shape."""
        m = self.new_mask()
        for (x0, y0), (x1, y1) in segments:
            cv2.line(m, (int(x0), int(y0)), (int(x1), int(y1)), 1, max(int(thickness), 1))
        self.paint(m, color, label, **kwargs)

    def rings(self, centres, radius, thickness, color, label, **kwargs):
        """Circles (outlines) of ``radius`` around ``centres`` as one shape."""
        m = self.new_mask()
        for cx, cy in centres:
            cv2.circle(m, (int(cx), int(cy)), max(int(radius), 1), 1, max(int(thickness), 1))
        self.paint(m, color, label, **kwargs)


def smooth_noise(height, width, cells, rng):
    """Gaussian noise on a grid of ``cells`` rows, interpolated to H×W."""
    rows = max(2, cells)
    cols = max(2, int(round(cells * width / height)))
    grid = rng.standard_normal((rows, cols)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def make_texture(kind, height, width, rng):
    """An H×W texture field of ``kind`` normalised to zero mean and unit std."""
    if kind == 'coarse':
        field = smooth_noise(height, width, 4, rng) + 0.5 * smooth_noise(height, width, 12, rng)
    elif kind == 'fine':
        field = cv2.GaussianBlur(rng.standard_normal((height, width)).astype(np.float32),
                                 (0, 0), 0.7)
    elif kind == 'leafy':
        field = (smooth_noise(height, width, height // 4, rng)
                 + 0.7 * smooth_noise(height, width, height // 2, rng)
                 + 0.3 * smooth_noise(height, width, 6, rng))
    elif kind == 'facade':
        period = max(3.0, height / 40)
        rows = np.sin(2 * np.pi * np.arange(height, dtype=np.float32) / period)
        field = np.repeat(rows[:, None], width, 1) + smooth_noise(height, width, 8, rng)
    else:
        raise ValueError(f'unknown texture kind {kind!r}; expected one of '
                         f'{sorted(TEXTURE_GAIN)}')
    return (field - field.mean()) / (field.std() + 1e-6)


class Street:
    """Where things are: the horizon, the building line (``ground``), the road edges."""

    def __init__(self, c):
        rng = c.rng
        self.horizon = int(rng.uniform(*c.style.horizon) * c.h)
        self.ground = min(c.h - 2, self.horizon + int(rng.uniform(0.05, 0.12) * c.h))
        self.vanish_x = rng.uniform(0.35, 0.65) * c.w
        self.left_bottom = rng.uniform(-0.15, 0.1) * c.w
        self.right_bottom = rng.uniform(0.9, 1.15) * c.w
        self.h, self.w, self.object_scale = c.h, c.w, c.style.object_scale

    def row(self, depth):
        """Image row of a point on the ground at ``depth`` (0: building line, 1: bottom)."""
        return self.ground + depth * (self.h - self.ground)

    def scale(self, y):
        """Apparent size of a 1-unit object standing at row ``y`` (perspective)."""
        return max((y - self.ground) / (self.h - self.ground), 0.05) * self.object_scale

    def road_edges(self, y):
        t = (y - self.ground) / (self.h - self.ground)
        return (self.vanish_x + (self.left_bottom - self.vanish_x) * t,
                self.vanish_x + (self.right_bottom - self.vanish_x) * t)

    def kerb_x(self, rng, depth):
        """A point on the sidewalk beside the road at ``depth`` (left or right side)."""
        left, right = self.road_edges(self.row(depth))
        if rng.random() < 0.5:
            return rng.uniform(max(0.0, left - 0.2 * self.w), max(left, 1.0))
        return rng.uniform(min(right, self.w - 1.0), min(self.w, right + 0.2 * self.w))


def draw_sky(c, street):
    top, bottom = (np.asarray(v, np.float32) for v in
                   c.style.palette['sky'][c.rng.integers(len(c.style.palette['sky']))])
    rows = np.linspace(0, 1, c.h, dtype=np.float32)[:, None] * c.h / max(street.horizon, 1)
    grad = top * (1 - np.minimum(rows, 1)) + bottom * np.minimum(rows, 1)
    sky = np.broadcast_to(grad[:, None, :], (c.h, c.w, 3))
    if c.style.texture:
        # Clouds: the bright half of a smooth field, blended towards white.
        cloud = np.clip(c.texture('coarse'), 0, None)[..., None] * c.style.texture
        sky = sky * (1 - cloud) + 235 * cloud
    m = c.new_mask()
    m[:street.horizon] = 1
    c.paint(m, sky, SKY, jitter=0.25)


def draw_facades(c, street):
    """Buildings (with windows) and trees along the building line; at least one building."""
    slots = []
    x = 0
    while x < c.w:
        width = int(c.rng.uniform(0.08, 0.25) * c.w) + 1
        slots.append((x, width, c.rng.random() < c.style.tree_prob))
        x += width
    if all(is_tree for _, _, is_tree in slots):
        x, width, _ = slots[c.rng.integers(len(slots))]
        slots[slots.index((x, width, True))] = (x, width, False)
    for x, width, is_tree in slots:
        if is_tree:
            draw_tree(c, street, x, width)
        else:
            draw_building(c, street, x, width)


def draw_building(c, street, x, width):
    top = int(c.rng.uniform(0.03, 0.8) * street.horizon)
    c.rect(x, top, x + width, street.ground, c.pick('building'), BUILDING, jitter=0.75,
           texture='facade')
    win = max(3, c.h // 40)
    windows = c.new_mask()
    for wy in range(top + win, street.ground - win, 3 * win):
        for wx in range(x + win, x + width - win, 3 * win):
            cv2.rectangle(windows, (wx, wy), (wx + win, wy + win), 1, -1)
    # Windows are part of the building.
    c.paint(windows, c.pick('window'), BUILDING, jitter=0.5, texture='coarse')


def draw_tree(c, street, x, width):
    cx = x + width / 2
    c.rect(x, street.horizon, x + width, street.ground, c.pick('vegetation'), VEGETATION,
           jitter=1.25, texture='leafy')  # hedge
    trunk = max(1.5, 0.01 * c.w)
    c.rect(cx - trunk, street.horizon - 4, cx + trunk, street.ground, c.pick('trunk'),
           VEGETATION, jitter=0.5, texture='fine')
    crown_y = c.rng.uniform(0.2, 0.45) * c.h
    crown_h = c.rng.uniform(0.12, 0.2) * c.h
    for dx, dy, r in ((0, 0, 1.0), (-0.35, 0.3, 0.6), (0.35, 0.3, 0.6)):
        c.ellipse(cx + dx * width, crown_y + dy * crown_h, r * width / 2, r * crown_h,
                  c.pick('vegetation'), VEGETATION, jitter=1.75, texture='leafy')


def draw_ground(c, street):
    """Sidewalk below the building line, the road as a perspective trapezoid with a dashed
    centre line, a grass strip and a low wall or a fence."""
    c.rect(0, street.ground, c.w, c.h, c.pick('sidewalk'), SIDEWALK, jitter=0.9,
           texture='fine')
    vx, g = street.vanish_x, street.ground
    c.polygon([(vx - 4, g), (vx + 4, g), (street.right_bottom, c.h),
               (street.left_bottom, c.h)], c.pick('road'), ROAD, jitter=0.6, texture='coarse')
    dashes = []
    for y0 in range(g + 4, c.h, max(6, c.h // 12)):
        t0 = (y0 - g) / (c.h - g)
        t1 = min((y0 + max(3, c.h // 30) - g) / (c.h - g), 1.0)
        dashes.append([(vx - 1 - 2 * t0, y0), (vx + 1 + 2 * t0, y0),
                       (vx + 1 + 2 * t1, g + t1 * (c.h - g)),
                       (vx - 1 - 2 * t1, g + t1 * (c.h - g))])
    m = c.new_mask()
    cv2.fillPoly(m, [np.asarray(d).round().astype(np.int32) for d in dashes], 1)
    c.paint(m, c.pick('lane'), ROAD, jitter=0.5, texture='fine')
    if c.rng.random() < c.style.terrain_prob:
        x0, x1 = (0, 0.12 * c.w) if c.rng.random() < 0.5 else (0.88 * c.w, c.w)
        c.polygon([(x0, g + 2), (x1, g + 2), (x1, g + 0.15 * c.h), (x0, g + 0.15 * c.h)],
                  c.pick('terrain'), TERRAIN, jitter=1.5, texture='leafy')
    if c.rng.random() < c.style.barrier_prob:
        y = g - int(0.06 * c.h)
        x0 = int(c.rng.uniform(0, 0.5) * c.w)
        x1 = x0 + int(c.rng.uniform(0.15, 0.4) * c.w)
        if c.rng.random() < c.style.fence_prob:
            rails = [((x0, y), (x1, y)), ((x0, y + 1), (x1, y + 1))]
            slats = [((xs, y), (xs, g)) for xs in range(x0, x1, 3)]
            c.lines(rails + slats, 1, c.pick('fence'), FENCE, jitter=0.5)
        else:
            c.rect(x0, y, x1, g, c.pick('wall'), WALL, jitter=0.6, texture='coarse')


def draw_pole(c, street, x, y):
    s = street.scale(y)
    top = y - 0.55 * c.h * s - 0.15 * c.h
    width = max(1, 0.012 * c.w * (0.5 + s))
    c.rect(x - width / 2, top, x + width / 2, y, c.pick('pole'), POLE, jitter=0.5,
           texture='fine')
    box = max(3, 0.04 * c.w * (0.5 + s))
    if c.rng.random() < c.style.sign_prob:
        c.rect(x - box, top - box, x + box, top + box * 0.6, c.pick('sign'), SIGN,
               jitter=0.75)
    else:
        c.rect(x - box / 2, top - 2 * box, x + box / 2, top, c.pick('light'), LIGHT,
               jitter=0.4)
        c.ellipse(x, top - 1.5 * box, box / 3, box / 3, c.pick('lamp'), LIGHT, jitter=0.6)


def draw_vehicle(c, street, x0, y, is_bus):
    """A car or a bus seen from behind, standing at row ``y`` with left edge ``x0``."""
    s = street.scale(y)
    w = (0.45 if is_bus else 0.3) * c.w * s + 4
    h = (0.5 if is_bus else 0.22) * c.h * s + 3
    label = BUS if is_bus else CAR
    c.rect(x0, y - h, x0 + w, y, c.pick('bus' if is_bus else 'car'), label, jitter=0.75,
           texture='coarse')
    c.rect(x0 + 0.12 * w, y - h + 0.1 * h, x0 + 0.88 * w, y - h + 0.4 * h,
           c.pick('vehicle_window'), label, jitter=0.5, texture='coarse')
    for wx in (x0 + 0.2 * w, x0 + 0.8 * w):
        c.ellipse(wx, y, 0.09 * w, 0.12 * h, c.pick('wheel'), label, jitter=0.25)


def draw_person(c, street, x, y, label=PERSON, height_factor=1.0):
    """A pedestrian (or, with ``label=RIDER``, a rider's body) with feet at row ``y``."""
    h = (0.35 * c.h * street.scale(y) + 6) * height_factor
    clothes = c.pick('clothes')
    leg = max(1.0, 0.05 * h)
    c.rect(x - 2 * leg, y - 0.45 * h, x - 0.5 * leg, y, c.pick('clothes'), label, jitter=0.6)
    c.rect(x + 0.5 * leg, y - 0.45 * h, x + 2 * leg, y, c.pick('clothes'), label, jitter=0.6)
    c.ellipse(x, y - 0.62 * h, 0.15 * h, 0.22 * h, clothes, label, jitter=0.75,
              texture='fine')
    c.ellipse(x, y - 0.9 * h, 0.08 * h, 0.08 * h, c.pick('skin'), label, jitter=0.6)


def draw_bicycle(c, street, x, y):
    """A bicycle seen from the side with its wheels on row ``y``; returns the saddle's
    (x, y)."""
    size = 0.25 * c.h * street.scale(y) + 5
    r = 0.28 * size
    back, front = (x - 0.5 * size + r, y - r), (x + 0.5 * size - r, y - r)
    saddle = (back[0] + 0.35 * size, y - 1.3 * r - 0.15 * size)
    handle = (front[0] - 0.05 * size, saddle[1] - 0.05 * size)
    thickness = max(1, size / 14)
    color = c.pick('bicycle')
    c.rings((back, front), r, thickness, color, BICYCLE, jitter=0.4)
    c.lines([(back, saddle), (saddle, front), (front, handle), (back, (saddle[0], y - r)),
             ((saddle[0], y - r), front)], thickness, color, BICYCLE, jitter=0.4)
    return saddle


def draw_cyclist(c, street, x, y):
    saddle = draw_bicycle(c, street, x, y)
    draw_person(c, street, saddle[0], saddle[1] + 0.25 * (y - saddle[1]), RIDER)


def draw_standing_things(c, street):
    """Poles, vehicles, pedestrians, cyclists and parked bicycles, drawn far to near so
    that near things occlude far ones."""
    rng, style = c.rng, c.style
    things = []  # (row of the ground contact, draw function, its arguments)
    for _ in range(rng.integers(*style.num_poles)):
        depth = rng.uniform(0.05, 0.25)
        things.append((street.row(depth), draw_pole, (street.kerb_x(rng, depth), )))
    for _ in range(rng.integers(*style.num_vehicles)):
        y = street.row(rng.uniform(0.1, 0.85))
        left, right = street.road_edges(y)
        is_bus = rng.random() < style.bus_prob
        w = (0.45 if is_bus else 0.3) * c.w * street.scale(y) + 4
        things.append((y, draw_vehicle, (rng.uniform(left, max(left + 1, right - w)), is_bus)))
    for _ in range(rng.integers(*style.num_people)):
        if rng.random() < style.cyclist_prob:  # on the road, near an edge
            y = street.row(rng.uniform(0.1, 0.9))
            left, right = street.road_edges(y)
            offset = rng.uniform(0.02, 0.15) * (right - left)
            x = left + offset if rng.random() < 0.5 else right - offset
            things.append((y, draw_cyclist, (x, )))
        else:  # on the sidewalk
            depth = rng.uniform(0.05, 0.6)
            things.append((street.row(depth), draw_person, (street.kerb_x(rng, depth), )))
    for _ in range(rng.integers(*style.num_parked_bicycles)):
        depth = rng.uniform(0.05, 0.6)
        things.append((street.row(depth), draw_bicycle, (street.kerb_x(rng, depth), )))
    for y, draw, args in sorted(things, key=lambda thing: thing[0]):
        draw(c, street, args[0], y, *args[1:])


def draw_shadow(c, street):
    """A building's shadow across the ground (image only: shadows have no class)."""
    if c.rng.random() >= c.style.shadow_prob:
        return
    g = street.ground
    x0 = c.rng.uniform(-0.2, 0.6) * c.w
    x1 = x0 + c.rng.uniform(0.3, 0.8) * c.w
    slant = c.rng.uniform(-0.5, 0.5) * c.w
    m = c.new_mask()
    cv2.fillPoly(m, [np.asarray([(x0, g), (x1, g), (x1 + slant, c.h), (x0 + slant, c.h)],
                                np.float64).round().astype(np.int32)], 1)
    m = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.5)
    c.img *= (1 - c.rng.uniform(0.3, 0.5) * m)[..., None]


def draw_hood(c):
    """The ego vehicle's bonnet (ignored, as in Cityscapes)."""
    if not c.style.ego_hood:
        return
    hood = int(0.06 * c.h)
    m = c.new_mask()
    cv2.ellipse(m, (c.w // 2, c.h + 2 * hood), (int(0.75 * c.w), 3 * hood), 0, 0, 360, 1, -1)
    m[c.h - hood:] = 1
    c.paint(m, c.pick('hood'), IGNORE, jitter=0.4, texture='coarse')


def apply_camera(c, street):
    """Haze, illumination, exposure, white balance, saturation, blur and sensor noise →
    uint8 BGR image."""
    style, rng = c.style, c.rng
    img = c.img
    if style.haze:
        # Far things (near the horizon) lose contrast towards the sky colour.
        dist = np.abs(np.arange(c.h, dtype=np.float32) - street.horizon) / (0.4 * c.h)
        weight = style.haze * np.clip(1 - dist, 0, 1)[:, None, None]
        sky = c.img[c.label == SKY].mean(0) if (c.label == SKY).any() else 200
        img = img * (1 - weight) + sky * weight
    if style.illumination:
        yy, xx = np.mgrid[-1:1:c.h * 1j, -1:1:c.w * 1j].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        light = 1 + style.illumination * (0.5 * (np.cos(angle) * xx + np.sin(angle) * yy)
                                          - 0.3 * (xx**2 + yy**2))
        img = img * light[..., None]
    gains = np.asarray(style.white_balance, np.float32) * rng.uniform(*style.exposure)
    if style.white_balance_jitter:
        gains = gains * (1 + rng.normal(0, style.white_balance_jitter, 3))
    img = img * gains.astype(np.float32)
    if style.saturation != 1:
        grey = img @ np.asarray([0.114, 0.587, 0.299], np.float32)
        img = grey[..., None] + style.saturation * (img - grey[..., None])
    img = np.clip(img, 0, 255).astype(np.float32)
    if style.blur:
        img = cv2.GaussianBlur(img, (0, 0), style.blur)
    if style.noise:
        # Sensor noise: a signal-dependent (shot) part and a constant (read) part.
        std = style.noise * np.sqrt(0.3 + img / 255)
        img = img + std * rng.standard_normal(img.shape).astype(np.float32)
    return np.clip(img, 0, 255).round().astype(np.uint8)


def draw_scene(height, width, style, rng):
    """One street scene → (H×W×3 BGR uint8 image, H×W uint8 trainId label; 255 ignored)."""
    c = Canvas(height, width, style, rng)
    street = Street(c)
    draw_sky(c, street)
    draw_facades(c, street)
    draw_ground(c, street)
    draw_standing_things(c, street)
    draw_shadow(c, street)
    draw_hood(c)
    return apply_camera(c, street), c.label


def write_cityscapes_split(root, split, count, cities, style, seed_key, size,
                           stats_root=None):
    """Draw ``count`` scenes into ``root`` in the Cityscapes layout and write
    ``<root>/<split>.txt``.

    Files: ``leftImg8bit/<split>/<city>/<city>_<seq>_000019_leftImg8bit.png`` and
    ``gtFine/<split>/<city>/<city>_<seq>_000019_gtFine_labelTrainIds.png`` (cities taken in
    turn). Scene ``i`` is drawn with ``np.random.default_rng([*seed_key, i])``.

    Returns:
        tuple: the ``<city>/<stem>`` names and the class statistics of each label file (as
        the Cityscapes converter computes them; ``file`` relative to ``stats_root`` when
        given, else the path as joined from ``root``).
    """
    height, width = size
    names, stats = [], []
    for idx in range(count):
        city = cities[idx % len(cities)]
        stem = f'{city}_{idx:06d}_000019'
        img, label = draw_scene(height, width, style, np.random.default_rng([*seed_key, idx]))
        img_file = osp.join(root, 'leftImg8bit', split, city, f'{stem}_leftImg8bit.png')
        label_file = osp.join(root, 'gtFine', split, city, f'{stem}_gtFine_labelTrainIds.png')
        write_png(img_file, img)
        write_png(label_file, label)
        names.append(f'{city}/{stem}')
        stats.append(class_counts(label, label_file if stats_root is None else
                                  osp.relpath(label_file, stats_root)))
    with open(osp.join(root, f'{split}.txt'), 'w') as f:
        f.writelines(f'{name}\n' for name in names)
    return names, stats


def write_png(path, array):
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, array):
        raise IOError(f'could not write {path}')


def parse_size(text):
    """``'128x256'`` → ``(128, 256)`` (argparse type)."""
    try:
        height, width = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'--size must be HEIGHTxWIDTH, e.g. 128x256, '
                                         f'got {text!r}')
    if height < 32 or width < 32:
        raise argparse.ArgumentTypeError(f'--size must be at least 32x32, got {text!r}')
    return height, width
