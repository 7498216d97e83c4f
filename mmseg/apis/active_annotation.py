"""Human labels for active domain adaptation (RIPU): export the regions of the last selection
round as an annotation request, and ingest the annotated label maps into the store.

tools/active_request.py and tools/active_ingest.py are the command lines.
"""
import glob
import json
import os
import os.path as osp

import numpy as np
from mmcv import Config
from PIL import Image

from mmseg.datasets import build_dataset
from mmseg.datasets.active_label_store import (IGNORE_INDEX, ActiveLabelStore, image_key,
                                               read_png, write_png)

from .active_selection_hook import STORE_FOLDER

REQUEST_FOLDER = 'active_request'
OVERLAY_COLOUR = (255, 0, 255)


def run_config(run_dir):
    """The config that tools/train.py saved in ``run_dir`` (the one with active_selection)."""
    found = []
    for path in sorted(glob.glob(osp.join(run_dir, '*.py'))):
        cfg = Config.fromfile(path)
        if cfg.get('active_selection') is not None:
            found.append((path, cfg))
    if len(found) != 1:
        raise FileNotFoundError(
            f'{run_dir}: expected the one training config with active_selection that '
            f'tools/train.py saves there, found {[p for p, _ in found] or "none"}')
    return found[0][1]


def target_dataset(cfg):
    """The target train set of a run config (images and class names)."""
    target = dict(cfg.data.train.target)
    return build_dataset(target)


def last_round(store):
    rounds = store.rounds()
    if not rounds:
        raise FileNotFoundError(f'{store.root}: no selection round yet (the run selects after '
                                f'the iterations of active_selection.select_iters)')
    return rounds[-1]


def overlay(image, mask, alpha=0.6):
    """``image`` (H×W×3 uint8) with the ``mask`` pixels tinted in OVERLAY_COLOUR."""
    out = image.astype(np.float32)
    out[mask] = (1 - alpha) * out[mask] + alpha * np.array(OVERLAY_COLOUR, np.float32)
    return out.astype(np.uint8)


def export_request(run_dir, out_dir=None, zoom=1, first=None):
    """Write, for every image of the last round, ``<key>_image.png``, ``<key>_mask.png``
    (255 = label this pixel) and ``<key>_overlay.png`` to
    ``<run_dir>/active_request/round_<r>/`` (or ``out_dir``), plus ``request.json`` (round,
    class ids and names, the files to return). ``zoom``: integer upscaling of the overlay;
    ``first``: only the first N images (a preview). Returns (the folder, the number of
    images)."""
    cfg = run_config(run_dir)
    store = ActiveLabelStore(osp.join(run_dir, STORE_FOLDER))
    meta = last_round(store)
    r = meta['round']
    out_dir = out_dir or osp.join(run_dir, REQUEST_FOLDER, f'round_{r}')
    os.makedirs(out_dir, exist_ok=True)
    target = target_dataset(cfg)
    images = []
    for info in target.img_infos:
        key = image_key(info['filename'])
        path = store.part_path(r, 'selected', key)
        if not osp.isfile(path):
            continue
        if first is not None and len(images) == first:
            break
        selected = read_png(path) > 0
        with Image.open(osp.join(target.img_dir, info['filename'])) as img:
            image = np.asarray(img.convert('RGB'))
        Image.fromarray(image).save(osp.join(out_dir, f'{key}_image.png'))
        Image.fromarray(selected.astype(np.uint8) * 255).save(
            osp.join(out_dir, f'{key}_mask.png'))
        tinted = Image.fromarray(overlay(image, selected))
        if zoom != 1:
            tinted = tinted.resize((tinted.width * zoom, tinted.height * zoom),
                                   Image.NEAREST)
        tinted.save(osp.join(out_dir, f'{key}_overlay.png'))
        images.append(dict(key=key, image=info['filename'],
                           pixels_to_label=int(selected.sum())))
    request = dict(round=r, iteration=meta['iteration'], classes=list(target.CLASSES),
                   ignore_index=IGNORE_INDEX, images=images,
                   answer=('one <key>.png per image, single-channel, the size of the image, '
                           'class ids 0..N-1 inside the mask, 255 where unknown; pixels '
                           'outside the mask are ignored'))
    with open(osp.join(out_dir, 'request.json'), 'w') as f:
        json.dump(request, f, indent=1)
    return out_dir, len(images)


def check_label_file(path, selected, num_classes):
    """The problems of one annotated label map (empty when it can be ingested) and the
    number of its labelled pixels outside the requested regions."""
    try:
        labels = read_png(path)
    except OSError as error:
        return [f'not a readable PNG ({error})'], 0
    if labels.ndim != 2:
        return [f'not a single-channel label map (shape {labels.shape})'], 0
    if labels.shape != selected.shape:
        return [f'wrong size {labels.shape[1]}x{labels.shape[0]} (w x h), the image is '
                f'{selected.shape[1]}x{selected.shape[0]}'], 0
    values, counts = np.unique(labels, return_counts=True)
    unknown = {int(v): int(c) for v, c in zip(values, counts)
               if v >= num_classes and v != IGNORE_INDEX}
    if unknown:
        listed = ', '.join(f'{v}: {c} px' for v, c in unknown.items())
        return [f'unknown class id(s) (valid: 0..{num_classes - 1} and {IGNORE_INDEX}): '
                f'{listed}'], 0
    outside = int(((labels != IGNORE_INDEX) & ~selected).sum())
    return [], outside


def ingest_labels(run_dir, label_dir):
    """Read ``<label_dir>/<key>.png`` for the images of the last round into the store.

    Only labelled pixels inside the requested regions count; pixels outside them are
    rejected (counted per file). A file of the wrong size or with an unknown class id is
    rejected whole and the store keeps what it had. Returns the report: ``dict(round,
    ingested={file: pixels}, outside={file: pixels}, rejected={file: [problems]},
    unknown_files=[...], missing=[keys])``.
    """
    cfg = run_config(run_dir)
    store = ActiveLabelStore(osp.join(run_dir, STORE_FOLDER))
    r = last_round(store)['round']
    target = target_dataset(cfg)
    num_classes = len(target.CLASSES)
    requested = {}
    for info in target.img_infos:
        key = image_key(info['filename'])
        if osp.isfile(store.part_path(r, 'selected', key)):
            requested[key] = info
    report = dict(round=r, ingested={}, outside={}, rejected={}, unknown_files=[],
                  missing=[])
    files = {osp.splitext(n)[0]: osp.join(label_dir, n)
             for n in sorted(os.listdir(label_dir)) if n.endswith('.png')}
    report['unknown_files'] = sorted(osp.basename(p) for k, p in files.items()
                                     if k not in requested)
    for key in requested:
        if key not in files:
            report['missing'].append(key)
            continue
        path = files[key]
        selected = read_png(store.part_path(r, 'selected', key)) > 0
        problems, outside = check_label_file(path, selected, num_classes)
        name = osp.basename(path)
        if problems:
            report['rejected'][name] = problems
            continue
        labels = read_png(path)
        current = store.read_part(r, 'labels', key, selected.shape)
        accepted = selected & (labels != IGNORE_INDEX)
        current[accepted] = labels[accepted]
        write_png(current, store.part_path(r, 'labels', key))
        report['ingested'][name] = int(accepted.sum())
        if outside:
            report['outside'][name] = outside
    return report


def format_report(report):
    """Human-readable lines of an :func:`ingest_labels` report."""
    lines = [f"round {report['round']}: {len(report['ingested'])} file(s) ingested, "
             f"{sum(report['ingested'].values())} labelled pixels"]
    for name, count in report['outside'].items():
        lines.append(f'{name}: {count} labelled pixel(s) outside the requested regions '
                     'rejected')
    for name, problems in report['rejected'].items():
        lines.append(f'{name}: rejected, nothing stored: ' + '; '.join(problems))
    if report['unknown_files']:
        lines.append(f"not requested in this round (ignored): {report['unknown_files']}")
    if report['missing']:
        lines.append(f"{len(report['missing'])} requested image(s) without a label file: "
                     f"{report['missing'][:5]}{' ...' if len(report['missing']) > 5 else ''}")
    return '\n'.join(lines)
