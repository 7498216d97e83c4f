"""Your own data: check a labelled source folder and an unlabelled target folder, write
train-id labels and the Rare Class Sampling statistics, and DAFormer / HRDA / MIC configs.

    python tools/convert_datasets/custom.py CLASS_FILE \
        --source-images DIR --source-labels DIR --target-images DIR \
        [--val-images DIR --val-labels DIR] [--source-img-suffix .png] \
        [--target-img-suffix .png] [--label-suffix .png] [--name NAME] \
        [--out-dir data/NAME] [--config-dir configs/generated/NAME] [--crop-size 1024] \
        [--nproc 8]

CLASS_FILE (``.json``, or ``.yaml`` / ``.yml``) holds ``classes`` (names, in train-id
order) and optionally ``palette`` (one ``[r, g, b]`` per class), ``id_mapping`` (label
file value → class name or train id; without it the label files hold the train ids),
``ignore_index`` (the label files' value for unlabelled pixels, default 255) and
``thing_classes`` (names; they switch on DAFormer's thing-class feature distance).

Images ``<dir>/<path><img suffix>`` pair with labels ``<dir>/<path><label suffix>`` (same
relative path). Every file is checked before anything is written: unpaired files,
image / label size mismatches, label values outside the class list (counts per file),
unreadable files and an empty target folder stop the tool with a message naming them.

Writes into ``--out-dir``: ``{source,val}/labels/<path>_labelTrainIds.png`` (8-bit train
ids, ignore = 255) when the label files need converting (an ``id_mapping``, an ignore
value other than 255 or labels that are not 8-bit), and ``source/sample_class_stats*.json``,
``source/samples_with_class.json``; into ``--config-dir`` the dataset bases
``uda_<name>_<crop/2>.py`` (DAFormer: half resolution) and ``uda_<name>HR_<crop>.py``
(HRDA: full resolution) and the training configs ``<name>_daformer.py``,
``<name>_hrda.py`` and ``<name>_mic.py`` (MIC on HRDA), with the papers' settings.
"""
import argparse
import os
import os.path as osp
import sys
from collections import defaultdict
from functools import partial
from typing import NamedTuple, Optional

import mmcv
import numpy as np
from PIL import Image

CONVERTERS_DIR = osp.dirname(osp.abspath(__file__))
if CONVERTERS_DIR not in sys.path:  # _common, _custom_configs (also when imported by path)
    sys.path.insert(0, CONVERTERS_DIR)
from _common import (IGNORE_INDEX, TRAIN_ID_SUFFIX, class_counts, remap_ids,  # noqa: E402
                     run_parallel, save_class_stats, scan, write_train_ids)
from _custom_configs import ConfigLayout, DomainFiles, write_configs  # noqa: E402

from mmseg.utils.visualization import random_palette  # noqa: E402  (path set just above)

CLASS_FILE_KEYS = ('classes', 'palette', 'id_mapping', 'ignore_index', 'thing_classes')
# Problems listed per kind before "... and N more".
MAX_LISTED = 20


class DataCheckError(ValueError):
    """The inputs are not usable; the message names every file at fault."""


class ClassSpec(NamedTuple):
    """The class list of a class file (see the module docstring)."""
    names: tuple
    palette: list
    id_mapping: Optional[dict]  # label file value -> train id; None: values are train ids
    ignore_index: int  # label file value of unlabelled pixels
    thing_classes: tuple

    def allowed_values(self):
        """The values a label file may hold."""
        values = set(self.id_mapping) if self.id_mapping else set(range(len(self.names)))
        return sorted(values | {self.ignore_index})

    def train_id_mapping(self):
        """Label file value -> train id (other values, the ignore value, → 255)."""
        return self.id_mapping or {i: i for i in range(len(self.names))}

    def describe_allowed(self):
        if self.id_mapping:
            values = ', '.join(str(v) for v in sorted(self.id_mapping))
            return f'the id_mapping keys {values} and the ignore value {self.ignore_index}'
        return f'train ids 0..{len(self.names) - 1} and the ignore value {self.ignore_index}'


# ------------------------------------------------------------------------ class file
def read_class_file(path):
    """The class file's content (a dict), read as JSON or YAML by its extension."""
    if not osp.isfile(path):
        raise DataCheckError(f'class file {path} does not exist')
    if not path.endswith(('.json', '.yaml', '.yml')):
        raise DataCheckError(f'class file {path}: expected a .json, .yaml or .yml file')
    try:
        data = mmcv.load(path)
    except Exception as err:  # the JSON / YAML parsers raise their own error types
        raise DataCheckError(f'class file {path} cannot be parsed: {err}') from err
    if not isinstance(data, dict):
        raise DataCheckError(f'class file {path}: expected a mapping with the keys '
                             f'{list(CLASS_FILE_KEYS)}, got {type(data).__name__}')
    unknown = sorted(set(data) - set(CLASS_FILE_KEYS))
    if unknown:
        raise DataCheckError(f'class file {path}: unknown key(s) {unknown}; expected '
                             f'{list(CLASS_FILE_KEYS)}')
    return data


def parse_names(data, path):
    names = data.get('classes')
    if not isinstance(names, list) or not names or \
            not all(isinstance(n, str) and n for n in names):
        raise DataCheckError(f"class file {path}: 'classes' must be a non-empty list of "
                             f'class names, got {names!r}')
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataCheckError(f'class file {path}: class names {duplicates} appear twice')
    if len(names) >= IGNORE_INDEX:
        raise DataCheckError(f'class file {path}: {len(names)} classes; at most '
                             f'{IGNORE_INDEX - 1} fit 8-bit labels with ignore {IGNORE_INDEX}')
    return tuple(names)


def parse_palette(data, path, num_classes):
    """The given palette (checked), else fixed random colours."""
    palette = data.get('palette')
    if palette is None:
        return random_palette(num_classes).tolist()
    if not isinstance(palette, list) or len(palette) != num_classes or not all(
            isinstance(c, list) and len(c) == 3 and
            all(isinstance(v, int) and 0 <= v <= 255 for v in c) for c in palette):
        raise DataCheckError(f"class file {path}: 'palette' must list one [r, g, b] (0-255) "
                             f'per class ({num_classes}), got {palette!r}')
    return palette


def parse_id_mapping(data, path, names):
    """``{label file value: train id}`` from values → class names or train ids."""
    mapping = data.get('id_mapping')
    if mapping is None:
        return None
    if not isinstance(mapping, dict) or not mapping:
        raise DataCheckError(f"class file {path}: 'id_mapping' must map label file values "
                             f'to class names or train ids, got {mapping!r}')
    parsed = {}
    for value, target in mapping.items():
        try:
            value = int(value)  # JSON keys are strings
        except ValueError:
            raise DataCheckError(f'class file {path}: id_mapping key {value!r} is not an '
                                 'integer label value') from None
        if isinstance(target, str) and target in names:
            parsed[value] = names.index(target)
        elif isinstance(target, int) and 0 <= target < len(names):
            parsed[value] = target
        else:
            raise DataCheckError(f'class file {path}: id_mapping {value}: {target!r} is '
                                 f'neither a class name of {list(names)} nor a train id '
                                 f'0..{len(names) - 1}')
    return parsed


def parse_ignore_index(data, path, names, id_mapping):
    ignore = data.get('ignore_index', IGNORE_INDEX)
    if not isinstance(ignore, int) or ignore < 0:
        raise DataCheckError(f"class file {path}: 'ignore_index' must be a label value "
                             f'(integer >= 0), got {ignore!r}')
    if id_mapping is not None and ignore in id_mapping:
        raise DataCheckError(f'class file {path}: the ignore value {ignore} is also an '
                             'id_mapping key')
    if id_mapping is None and ignore < len(names):
        raise DataCheckError(f'class file {path}: the ignore value {ignore} is the train id '
                             f'of {names[ignore]!r}; give an id_mapping or another ignore '
                             'value')
    return ignore


def parse_thing_classes(data, path, names):
    things = data.get('thing_classes') or []
    unknown = [t for t in things if t not in names] if isinstance(things, list) else things
    if unknown:
        raise DataCheckError(f"class file {path}: 'thing_classes' must be names of "
                             f'{list(names)}; unknown: {unknown!r}')
    return tuple(things)


def load_class_spec(path):
    """The checked :class:`ClassSpec` of a class file."""
    data = read_class_file(path)
    names = parse_names(data, path)
    id_mapping = parse_id_mapping(data, path, names)
    return ClassSpec(names=names, palette=parse_palette(data, path, len(names)),
                     id_mapping=id_mapping,
                     ignore_index=parse_ignore_index(data, path, names, id_mapping),
                     thing_classes=parse_thing_classes(data, path, names))


# ---------------------------------------------------------------------- file pairing
class Domain(NamedTuple):
    """One folder pair of the inputs: ``name`` is 'source', 'target' or 'val'."""
    name: str
    img_dir: str
    img_suffix: str
    label_dir: Optional[str] = None
    label_suffix: Optional[str] = None


def listed(items):
    items = list(items)
    shown = '\n  '.join(items[:MAX_LISTED])
    more = f'\n  ... and {len(items) - MAX_LISTED} more' if len(items) > MAX_LISTED else ''
    return f'\n  {shown}{more}'


def scan_domain_folder(domain, folder, suffix, what):
    """``{relative path without suffix: file}`` of the ``suffix`` files under ``folder``."""
    if not osp.isdir(folder):
        raise DataCheckError(f'{domain.name} {what} folder {folder} does not exist')
    files = scan(folder, suffix)
    if not files:
        endings = sorted({osp.splitext(f)[1] for f in scan(folder, '')})
        raise DataCheckError(f'{domain.name} {what} folder {folder} holds no *{suffix} '
                             f'files (file endings found: {endings or "none"})')
    return {osp.relpath(f, folder)[:-len(suffix)]: f for f in files}


def check_separable(domain):
    """Images and labels in one folder must be told apart by their suffixes."""
    if domain.label_dir is None or osp.abspath(domain.img_dir) != osp.abspath(domain.label_dir):
        return
    if domain.img_suffix.endswith(domain.label_suffix) or \
            domain.label_suffix.endswith(domain.img_suffix):
        raise DataCheckError(
            f'{domain.name} images (*{domain.img_suffix}) and labels (*{domain.label_suffix}) '
            f'are both in {domain.img_dir} and their suffixes overlap; move the labels to '
            'their own folder or give suffixes that tell them apart')


def pair_files(domain):
    """``[(image, label or None), ...]`` sorted by image; images without a label and labels
    without an image raise, naming them."""
    check_separable(domain)
    images = scan_domain_folder(domain, domain.img_dir, domain.img_suffix, 'image')
    if domain.label_dir is None:
        return [(images[k], None) for k in sorted(images)]
    labels = scan_domain_folder(domain, domain.label_dir, domain.label_suffix, 'label')
    if images.keys() != labels.keys():
        no_label = sorted(images[k] for k in images.keys() - labels.keys())
        no_image = sorted(labels[k] for k in labels.keys() - images.keys())
        message = (f'{domain.name}: {len(images)} images (*{domain.img_suffix}) in '
                   f'{domain.img_dir} but {len(labels)} labels (*{domain.label_suffix}) in '
                   f'{domain.label_dir}; a label pairs with the image of the same relative '
                   'path and name.')
        if no_label:
            message += f'\nimages without a label ({len(no_label)}):{listed(no_label)}'
        if no_image:
            message += f'\nlabels without an image ({len(no_image)}):{listed(no_image)}'
        raise DataCheckError(message)
    return [(images[k], labels[k]) for k in sorted(images)]


def check_unique_label_names(pairs):
    """Rare Class Sampling finds source label files by their file name."""
    seen = {}
    clashes = []
    for _, label in pairs:
        name = osp.basename(label)
        if name in seen:
            clashes.append(f'{seen[name]} and {label}')
        seen.setdefault(name, label)
    if clashes:
        raise DataCheckError('source label files in different folders share a file name, '
                             'but Rare Class Sampling identifies them by name; rename '
                             f'them:{listed(clashes)}')


# --------------------------------------------------------------------- file checks
def read_label(path):
    """H×W label values (palette PNGs read as their indices)."""
    with Image.open(path) as img:
        return np.asarray(img)


def read_image_size(path):
    """(width, height) of an image, decoding it fully (truncated files fail here)."""
    with Image.open(path) as img:
        img.load()
        return img.size


class PairReport(NamedTuple):
    problems: list  # [(kind, text)]
    uint8: bool = True  # the label is an 8-bit map (or there is none)
    area: int = 0  # image pixels


def inspect_pair(pair, allowed):
    """The :class:`PairReport` of one (image, label or None) pair."""
    image, label = pair
    try:
        width, height = read_image_size(image)
    except (OSError, ValueError, SyntaxError) as err:
        return PairReport([('unreadable', f'{image}: {err}')])
    if label is None:
        return PairReport([], area=width * height)
    try:
        values = read_label(label)
    except (OSError, ValueError, SyntaxError) as err:
        return PairReport([('unreadable', f'{label}: {err}')])
    if values.ndim != 2:
        return PairReport([('channels', f'{label}: shape {values.shape}; expected a '
                            'single-channel map of label values (not colours)')])
    report = PairReport([], values.dtype == np.uint8, width * height)
    if values.shape != (height, width):
        report.problems.append(('size', f'{label} is {values.shape[1]}x{values.shape[0]} '
                                f'but its image {image} is {width}x{height}'))
        return report
    found, counts = np.unique(values, return_counts=True)
    bad = ~np.isin(found, allowed)
    if bad.any():
        counted = ', '.join(f'{v} ({n} px)' for v, n in zip(found[bad], counts[bad]))
        report.problems.append(('values', f'{label}: {counted}'))
    return report


PROBLEM_TITLES = {
    'unreadable': 'unreadable files',
    'channels': 'label files that are not single-channel maps',
    'size': 'label files whose size differs from their image',
    'values': 'label files with values outside the class list ({allowed}; value (pixel '
              'count) per file)',
}


def check_domains(domains_pairs, spec, nproc):
    """Inspect every file; raise one error listing all problems. Returns the
    :class:`PairReport` lists, per domain name."""
    inspect = partial(inspect_pair, allowed=np.asarray(spec.allowed_values()))
    problems = defaultdict(list)
    reports = {}
    for domain, pairs in domains_pairs:
        reports[domain.name] = run_parallel(inspect, pairs, nproc, f'checking {domain.name}')
        for report in reports[domain.name]:
            for kind, text in report.problems:
                problems[(domain.name, kind)].append(text)
    if problems:
        sections = [f'{name}: {len(texts)} '
                    f'{PROBLEM_TITLES[kind].format(allowed=spec.describe_allowed())}:'
                    f'{listed(texts)}' for (name, kind), texts in problems.items()]
        raise DataCheckError('the data has problems (nothing was written):\n' +
                             '\n'.join(sections))
    return reports


# ------------------------------------------------------------------------- writing
def train_id_file(label, domain, out_root):
    """Where the train-id map of ``label`` goes: ``<out_root>/labels/<path>_labelTrainIds.png``."""
    rel = osp.relpath(label, domain.label_dir)[:-len(domain.label_suffix)]
    return osp.join(out_root, 'labels', rel + TRAIN_ID_SUFFIX)


def convert_label(item, id_mapping, num_classes):
    """Write the train-id map of one label file (when ``out_file``); returns the class
    statistics of the file that training reads."""
    label, out_file = item
    values = read_label(label)
    if out_file is None:
        return class_counts(values, label, num_classes)
    train_ids = remap_ids(values, id_mapping, label)
    os.makedirs(osp.dirname(out_file), exist_ok=True)
    write_train_ids(train_ids, out_file)
    return class_counts(train_ids, out_file, num_classes)


def convert_domain(domain, pairs, out_root, spec, convert, nproc):
    """Train-id labels of a labelled domain (when ``convert``); returns the statistics and
    the :class:`DomainFiles` training reads."""
    items = [(label, train_id_file(label, domain, out_root) if convert else None)
             for _, label in pairs]
    stats = run_parallel(partial(convert_label, id_mapping=spec.train_id_mapping(),
                                 num_classes=len(spec.names)),
                         items, nproc, f'converting {domain.name}')
    files = DomainFiles(
        img_dir=osp.abspath(domain.img_dir), img_suffix=domain.img_suffix,
        ann_dir=osp.abspath(osp.join(out_root, 'labels') if convert else domain.label_dir),
        seg_map_suffix=TRAIN_ID_SUFFIX if convert else domain.label_suffix)
    return stats, files


def check_outputs_apart_from_inputs(outputs, domains):
    """Label folders written inside an input folder (or around one) would be read as
    inputs by the next scan."""
    inputs = [d for domain in domains for d in (domain.img_dir, domain.label_dir) if d]
    for out in outputs:
        for folder in inputs:
            a, b = osp.abspath(out), osp.abspath(folder)
            if a == b or a.startswith(b + os.sep) or b.startswith(a + os.sep):
                raise DataCheckError(f'output folder {out} overlaps the input folder '
                                     f'{folder}; choose another --out-dir')


# ---------------------------------------------------------------------- command line
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Check your own source / target data, convert the labels to train ids, '
        'write the Rare Class Sampling statistics and DAFormer / HRDA / MIC configs')
    parser.add_argument('class_file', help='class list (.json, .yaml or .yml)')
    parser.add_argument('--source-images', required=True, help='source image folder')
    parser.add_argument('--source-labels', required=True, help='source label folder')
    parser.add_argument('--target-images', required=True,
                        help='target image folder (training, unlabelled)')
    parser.add_argument('--val-images', help='target validation image folder')
    parser.add_argument('--val-labels', help='target validation label folder')
    parser.add_argument('--source-img-suffix', default='.png')
    parser.add_argument('--target-img-suffix', default='.png',
                        help='target (and validation) image suffix')
    parser.add_argument('--label-suffix', default='.png',
                        help='source and validation label suffix')
    parser.add_argument('--name', help='dataset name (default: the class file name)')
    parser.add_argument('--out-dir', help='converted labels and statistics (default: '
                        'data/<name>)')
    parser.add_argument('--config-dir', help='generated configs (default: '
                        'configs/generated/<name>)')
    parser.add_argument('--crop-size', type=int, default=1024,
                        help='HRDA context crop at full resolution (default 1024; HRDA '
                        'detail crop and DAFormer crop at half resolution: half of it)')
    parser.add_argument('--nproc', default=1, type=int, help='number of processes')
    args = parser.parse_args(argv)
    if (args.val_images is None) != (args.val_labels is None):
        parser.error('--val-images and --val-labels go together')
    if args.crop_size < 64 or args.crop_size % 16:
        parser.error(f'--crop-size must be a multiple of 16 and at least 64, got '
                     f'{args.crop_size}')
    args.name = args.name or osp.splitext(osp.basename(args.class_file))[0]
    args.out_dir = args.out_dir or osp.join('data', args.name)
    args.config_dir = args.config_dir or osp.join('configs', 'generated', args.name)
    return args


def domains_of(args):
    source = Domain('source', args.source_images, args.source_img_suffix, args.source_labels,
                    args.label_suffix)
    target = Domain('target', args.target_images, args.target_img_suffix)
    val = None if args.val_images is None else Domain(
        'val', args.val_images, args.target_img_suffix, args.val_labels, args.label_suffix)
    return source, target, val


def convert(args):
    """Check everything, then write labels, statistics and configs; returns the written
    config paths."""
    spec = load_class_spec(args.class_file)
    source, target, val = domains_of(args)
    domains = [d for d in (source, target, val) if d is not None]
    check_outputs_apart_from_inputs(
        [osp.join(args.out_dir, 'source'), osp.join(args.out_dir, 'val')], domains)
    pairs = {d.name: pair_files(d) for d in domains}
    check_unique_label_names(pairs['source'])
    reports = check_domains([(d, pairs[d.name]) for d in domains], spec, args.nproc)

    all_uint8 = all(r.uint8 for domain_reports in reports.values() for r in domain_reports)
    convert_labels = (spec.id_mapping is not None or spec.ignore_index != IGNORE_INDEX or
                      not all_uint8)
    source_root = osp.join(args.out_dir, 'source')
    stats, source_files = convert_domain(source, pairs['source'], source_root, spec,
                                         convert_labels, args.nproc)
    save_class_stats(source_root, stats)
    val_files = None
    if val is not None:
        _, val_files = convert_domain(val, pairs['val'], osp.join(args.out_dir, 'val'), spec,
                                      convert_labels, args.nproc)
    layout = ConfigLayout(
        name=args.name, class_file=args.class_file, classes=spec.names,
        palette=spec.palette, thing_classes=spec.thing_classes,
        source=source_files._replace(data_root=osp.abspath(source_root)),
        target=DomainFiles(img_dir=osp.abspath(target.img_dir), img_suffix=target.img_suffix),
        val=val_files)
    source_area = float(np.mean([r.area for r in reports['source']]))
    return write_configs(layout, args.config_dir, args.crop_size, stats, source_area)


def main(argv=None):
    args = parse_args(argv)
    try:
        configs = convert(args)
    except DataCheckError as err:
        sys.exit(f'error: {err}')
    print(f'labels and Rare Class Sampling statistics in {args.out_dir}')
    print('configs:\n  ' + '\n  '.join(configs))
    print(f'train: python tools/train.py {configs[-1]}')


if __name__ == '__main__':
    main()
