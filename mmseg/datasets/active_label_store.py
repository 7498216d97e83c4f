"""The persistent label store of active domain adaptation (RIPU; SPEC-more-uda.md §3.4).

Layout under the run folder (``<work_dir>/active_labels/``), one folder per selection round,
published by one atomic rename when the round is complete::

    round_<r>/meta.json           {"round", "iteration", "label_source", "selected_pixels",
                                   "total_pixels", "images"}
    round_<r>/selected/<key>.png  uint8 0/1: the pixels to label in this round
    round_<r>/active/<key>.png    uint8 0/1: the pixels excluded from later rounds
    round_<r>/labels/<key>.png    uint8 class ids of the selected pixels, 255 = not labelled
    in_use.json                   {"rounds": n}: training reads the labels of rounds 1..n

``<key>`` is the image file name relative to the image folder, without extension, with
'/' replaced by '__'. Rounds never overlap (a round selects only outside ``active``), so the
label map of an image is the union of its rounds' labels. A resumed run that restarts from
a checkpoint taken before a round already on disk keeps the round (no re-selection) and
sets ``in_use`` back, so it trains on what the uninterrupted run trained on.
"""
import json
import os
import os.path as osp
import re
import shutil

import numpy as np
from PIL import Image

from mmseg.utils.checkpoint import fsync_folder, replaced_atomically

IGNORE_INDEX = 255
ROUND_DIR = re.compile(r'^round_(\d+)$')
UNFINISHED_ROUND_DIR = re.compile(r'^\.round_\d+\.tmp-\d+$')
PARTS = ('selected', 'active', 'labels')


def image_key(filename):
    """The store key of an image file name relative to its image folder."""
    return osp.splitext(filename)[0].replace(os.sep, '__').replace('/', '__')


def read_png(path):
    """H×W uint8 array of a single-channel (or palette) PNG."""
    with Image.open(path) as image:
        return np.asarray(image).copy()


def write_png(array, path):
    """Write H×W uint8 ``array`` to ``path`` atomically (temporary file + os.replace)."""
    with replaced_atomically(path) as tmp:
        Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(tmp, format='PNG')


def write_json(obj, path):
    with replaced_atomically(path) as tmp:
        with open(tmp, 'w') as f:
            json.dump(obj, f, indent=1)


class ActiveLabelStore:
    """Read / write access to the store at ``root`` (see the module docstring)."""

    def __init__(self, root):
        self.root = root

    def round_dir(self, round_index):
        return osp.join(self.root, f'round_{round_index}')

    def rounds(self):
        """The ``meta.json`` of every published round, in round order."""
        if not osp.isdir(self.root):
            return []
        found = sorted(int(m.group(1)) for m in map(ROUND_DIR.match, os.listdir(self.root))
                       if m)
        metas = []
        for r in found:
            path = osp.join(self.round_dir(r), 'meta.json')
            with open(path) as f:
                metas.append(json.load(f))
        if [m['round'] for m in metas] != list(range(1, len(metas) + 1)):
            raise ValueError(f'active label store {self.root}: rounds {found} are not 1..n')
        return metas

    def remove_unfinished(self):
        """Delete the folders of rounds interrupted before publication; returns them."""
        if not osp.isdir(self.root):
            return []
        removed = [osp.join(self.root, n) for n in sorted(os.listdir(self.root))
                   if UNFINISHED_ROUND_DIR.match(n)]
        for path in removed:
            shutil.rmtree(path)
        return removed

    def rounds_in_use(self):
        path = osp.join(self.root, 'in_use.json')
        if not osp.isfile(path):
            return 0
        with open(path) as f:
            return json.load(f)['rounds']

    def set_rounds_in_use(self, rounds):
        os.makedirs(self.root, exist_ok=True)
        write_json({'rounds': rounds}, osp.join(self.root, 'in_use.json'))

    def part_path(self, round_index, part, key):
        return osp.join(self.round_dir(round_index), part, f'{key}.png')

    def read_part(self, round_index, part, key, shape):
        """``part`` of image ``key`` in round ``round_index`` (zeros / 255 when absent)."""
        path = self.part_path(round_index, part, key)
        if osp.isfile(path):
            return read_png(path)
        return np.full(shape, IGNORE_INDEX if part == 'labels' else 0, np.uint8)

    def labels(self, key, shape, rounds=None):
        """H×W uint8 label map of image ``key``: the labels of rounds 1..``rounds``
        (default: the rounds in use), 255 elsewhere."""
        rounds = self.rounds_in_use() if rounds is None else rounds
        merged = np.full(shape, IGNORE_INDEX, np.uint8)
        for r in range(1, rounds + 1):
            labels = self.read_part(r, 'labels', key, shape)
            if labels.shape != tuple(shape):
                raise ValueError(f'{self.part_path(r, "labels", key)}: size {labels.shape}, '
                                 f'but the image is {tuple(shape)}')
            known = labels != IGNORE_INDEX
            merged[known] = labels[known]
        return merged

    def active(self, key, shape, rounds):
        """H×W bool: pixels excluded by rounds 1..``rounds``."""
        active = np.zeros(shape, bool)
        for r in range(1, rounds + 1):
            active |= self.read_part(r, 'active', key, shape) > 0
        return active

    def begin_round(self, round_index):
        """A :class:`RoundWriter` for round ``round_index`` (the next one)."""
        published = len(self.rounds())
        if round_index != published + 1:
            raise ValueError(f'active label store {self.root}: round {round_index} follows '
                             f'round {published}')
        return RoundWriter(self, round_index)

    def write_labels(self, round_index, key, labels):
        """Replace the labels of image ``key`` in a published round (ingest)."""
        write_png(labels, self.part_path(round_index, 'labels', key))


class RoundWriter:
    """Collects one round's files in a hidden folder; :meth:`publish` renames it to
    ``round_<r>`` (atomic), so a crash never leaves a partial round visible."""

    def __init__(self, store, round_index):
        self.store = store
        self.round_index = round_index
        self.tmp = osp.join(store.root, f'.round_{round_index}.tmp-{os.getpid()}')
        if osp.isdir(self.tmp):
            shutil.rmtree(self.tmp)
        for part in PARTS:
            os.makedirs(osp.join(self.tmp, part))

    def add(self, key, selected, active, labels):
        """Image ``key``: ``selected`` / ``active`` H×W bool, ``labels`` H×W uint8. Plain
        writes: the folder becomes visible only complete (:meth:`publish`)."""
        for part, array in (('selected', selected), ('active', active), ('labels', labels)):
            Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(
                osp.join(self.tmp, part, f'{key}.png'), format='PNG')

    def publish(self, meta):
        write_json(dict(meta, round=self.round_index), osp.join(self.tmp, 'meta.json'))
        os.replace(self.tmp, self.store.round_dir(self.round_index))
        fsync_folder(self.store.root)
