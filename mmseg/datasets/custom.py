"""Generic semantic segmentation dataset: images and label maps in two folders."""
import logging
import os
import os.path as osp
from collections import OrderedDict

import mmcv
import numpy as np
from mmcv.utils import print_log
from prettytable import PrettyTable
from torch.utils.data import Dataset

from mmseg.utils.logger import get_root_logger
from mmseg.utils.visualization import random_palette

from .builder import DATASETS
from .pipelines import Compose, LoadAnnotations


def scan_files(root, suffix):
    """Paths (relative to ``root``, sorted) of the files under ``root`` (recursively,
    following links) whose names end with ``suffix``."""
    found = []
    for dirpath, _, filenames in os.walk(root, followlinks=True):
        rel_dir = osp.relpath(dirpath, root)
        for name in filenames:
            if name.endswith(suffix):
                found.append(name if rel_dir == '.' else osp.join(rel_dir, name))
    return sorted(found)


def _preview(items, n=5):
    items = list(items)
    return ', '.join(items[:n]) + (f', ... ({len(items)} in all)' if len(items) > n else '')


@DATASETS.register_module()
class CustomDataset(Dataset):
    """Images ``img_dir/**/<name><img_suffix>`` with label maps
    ``ann_dir/**/<name><seg_map_suffix>`` (same relative path).

    Each item is the ``pipeline`` output for one image (train: image + labels; test mode:
    image only). ``img_infos`` lists ``dict(filename=<relative image path>,
    ann=dict(seg_map=<relative label path>))`` sorted by filename (or in split-file order).

    Args:
        pipeline (list[dict]): transform configs.
        img_dir (str): image folder (relative to ``data_root`` unless absolute).
        img_suffix (str): image file name ending.
        ann_dir (str | None): label folder (relative to ``data_root`` unless absolute).
        seg_map_suffix (str): label file name ending.
        split (str | None): file listing one image name per line (without suffix);
            default: scan ``img_dir``.
        data_root (str | None): root joined to the relative folders above.
        test_mode (bool): items come from ``prepare_test_img`` (no labels).
        ignore_index (int): label value that is not evaluated / trained on.
        reduce_zero_label (bool): label 0 is background (→ ignore) and others shift by −1
            (applied when loading ground truth for evaluation).
        classes (Sequence[str] | str | None): a subset of ``CLASSES`` (or a file with one
            name per line) to train / evaluate on; other classes become ignored.
        palette (Sequence | None): colours of ``classes``.
        gt_seg_map_loader_cfg (dict | None): ``LoadAnnotations`` arguments for the ground
            truth used by ``pre_eval`` / ``evaluate``.
    """

    CLASSES = None
    PALETTE = None
    # What the data folders should contain, for the error messages of subclasses.
    LAYOUT = None
    CONVERTER = None

    def __init__(self, pipeline, img_dir, img_suffix='.jpg', ann_dir=None,
                 seg_map_suffix='.png', split=None, data_root=None, test_mode=False,
                 ignore_index=255, reduce_zero_label=False, classes=None, palette=None,
                 gt_seg_map_loader_cfg=None):
        self.pipeline = Compose(pipeline)
        self.img_dir = img_dir
        self.img_suffix = img_suffix
        self.ann_dir = ann_dir
        self.seg_map_suffix = seg_map_suffix
        self.split = split
        self.data_root = data_root
        self.test_mode = test_mode
        self.ignore_index = ignore_index
        self.reduce_zero_label = reduce_zero_label
        self.label_map = None
        self.CLASSES, self.PALETTE = self.get_classes_and_palette(classes, palette)
        loader_cfg = dict(gt_seg_map_loader_cfg or {})
        loader_cfg.setdefault('reduce_zero_label', reduce_zero_label)
        self.gt_seg_map_loader = LoadAnnotations(**loader_cfg)

        if self.data_root is not None:
            if not osp.isabs(self.img_dir):
                self.img_dir = osp.join(self.data_root, self.img_dir)
            if not (self.ann_dir is None or osp.isabs(self.ann_dir)):
                self.ann_dir = osp.join(self.data_root, self.ann_dir)
            if not (self.split is None or osp.isabs(self.split)):
                self.split = osp.join(self.data_root, self.split)
        self.img_infos = self.load_annotations(self.img_dir, self.img_suffix, self.ann_dir,
                                               self.seg_map_suffix, self.split)

    def __len__(self):
        return len(self.img_infos)

    # ----------------------------------------------------------------- file listing
    def _layout_hint(self):
        hint = ''
        if self.LAYOUT:
            hint += f' Expected layout under data_root: {self.LAYOUT}.'
        if self.CONVERTER:
            hint += f' {self._converter_hint()}'
        return hint

    def _converter_hint(self):
        if self.CONVERTER:
            return (f'Run `python {self.CONVERTER} {self.data_root or "<data_root>"}` to '
                    f'write the trainId label files (*{self.seg_map_suffix}).')
        return ''

    def _check_dirs(self, img_dir, split):
        name = self.__class__.__name__
        if self.data_root is not None and not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'{name}: data_root {self.data_root!r} does not exist (working directory '
                f'{os.getcwd()}).{self._layout_hint()}')
        if not osp.isdir(img_dir):
            raise FileNotFoundError(
                f'{name}: image folder {img_dir!r} does not exist; it should hold the '
                f'*{self.img_suffix} images.{self._layout_hint()}')
        if split is not None and not osp.isfile(split):
            raise FileNotFoundError(f'{name}: split file {split!r} does not exist; it '
                                    'should list one image name (without suffix) per line.')

    def load_annotations(self, img_dir, img_suffix, ann_dir, seg_map_suffix, split):
        """List the samples.

        Returns:
            list[dict]: ``dict(filename=..., ann=dict(seg_map=...))`` per image (``ann``
            only with ``ann_dir``); paths relative to ``img_dir`` / ``ann_dir``.
        Raises:
            FileNotFoundError: a folder / split file / image / label file is missing.
            ValueError: no images found, or labels without their image.
        """
        self._check_dirs(img_dir, split)
        name = self.__class__.__name__
        if split is not None:
            with open(split) as f:
                names = [line.strip() for line in f if line.strip()]
            img_files = [n + img_suffix for n in names]
            missing = [f for f in img_files if not osp.isfile(osp.join(img_dir, f))]
            if missing:
                raise FileNotFoundError(f'{name}: split file {split} lists images missing '
                                        f'from {img_dir}: {_preview(missing)}')
        else:
            img_files = scan_files(img_dir, img_suffix)
        if not img_files:
            raise FileNotFoundError(f'{name}: no images ending in {img_suffix!r} found in '
                                    f'{img_dir!r}.{self._layout_hint()}')
        img_infos = []
        for img in img_files:
            info = dict(filename=img)
            if ann_dir is not None:
                info['ann'] = dict(seg_map=img[:-len(img_suffix)] + seg_map_suffix)
            img_infos.append(info)
        if ann_dir is not None:
            self._check_labels(img_infos, ann_dir, seg_map_suffix, check_extra=split is None)
        print_log(f'Loaded {len(img_infos)} images from {img_dir}', logger=get_root_logger())
        return img_infos

    def _check_labels(self, img_infos, ann_dir, seg_map_suffix, check_extra):
        name = self.__class__.__name__
        if not osp.isdir(ann_dir):
            # Unlabelled target sets (e.g. Dark Zurich train) name a label folder that
            # does not exist; only loading a label from it is an error.
            print_log(f'{name}: label folder {ann_dir} does not exist; this dataset can only '
                      'be used without labels.', logger=get_root_logger(),
                      level=logging.WARNING)
            return
        label_files = set(scan_files(ann_dir, seg_map_suffix))
        missing = [info for info in img_infos if info['ann']['seg_map'] not in label_files]
        if missing:
            first = missing[0]
            raise FileNotFoundError(
                f'{name}: {len(missing)} of {len(img_infos)} images have no label file, e.g. '
                f"image {osp.join(self.img_dir, first['filename'])} expects label "
                f"{osp.join(ann_dir, first['ann']['seg_map'])}. {self._converter_hint()}")
        if check_extra and len(label_files) != len(img_infos):
            extra = sorted(label_files - {info['ann']['seg_map'] for info in img_infos})
            raise ValueError(
                f'{name}: {len(label_files)} label files (*{seg_map_suffix}) in {ann_dir} but '
                f'{len(img_infos)} images (*{self.img_suffix}) in {self.img_dir}; labels '
                f'without an image: {_preview(extra)}')

    # ------------------------------------------------------------------ items
    def get_ann_info(self, idx):
        """``dict(seg_map=<relative label path>)`` of sample ``idx``."""
        info = self.img_infos[idx]
        if 'ann' not in info:
            raise KeyError(f'{self.__class__.__name__} was built without ann_dir: sample '
                           f"{info['filename']} has no label")
        return info['ann']

    def pre_pipeline(self, results):
        """Add what the transforms need besides the sample infos: ``seg_fields``,
        ``img_prefix``, ``seg_prefix``, ``label_map`` and ``label_check``."""
        results['seg_fields'] = []
        results['img_prefix'] = self.img_dir
        results['seg_prefix'] = self.ann_dir
        if self.label_map:
            results['label_map'] = self.label_map
        if self.CLASSES is not None:
            results['label_check'] = dict(num_classes=len(self.CLASSES),
                                          ignore_index=self.ignore_index,
                                          hint=self._converter_hint())

    def prepare_train_img(self, idx):
        """Pipeline output of sample ``idx`` with its annotation."""
        results = dict(img_info=self.img_infos[idx])
        if 'ann' in self.img_infos[idx]:
            results['ann_info'] = self.img_infos[idx]['ann']
        self.pre_pipeline(results)
        return self.pipeline(results)

    def prepare_test_img(self, idx):
        """Pipeline output of sample ``idx`` without annotation."""
        results = dict(img_info=self.img_infos[idx])
        self.pre_pipeline(results)
        return self.pipeline(results)

    def __getitem__(self, idx):
        if self.test_mode:
            return self.prepare_test_img(idx)
        return self.prepare_train_img(idx)

    # --------------------------------------------------------------- classes
    def get_classes_and_palette(self, classes=None, palette=None):
        """``(CLASSES, PALETTE)`` for a ``classes`` subset (sets ``label_map``: old id →
        new id, −1 for dropped classes), or the defaults when ``classes`` is None."""
        if classes is None:
            return self.CLASSES, self.PALETTE
        if isinstance(classes, str):
            class_names = mmcv.list_from_file(classes)
        elif isinstance(classes, (tuple, list)):
            class_names = list(classes)
        else:
            raise ValueError(f'classes must be a list of names or a file name, got '
                             f'{type(classes).__name__}')
        if self.CLASSES:
            unknown = [c for c in class_names if c not in self.CLASSES]
            if unknown:
                raise ValueError(f'classes {unknown} are not classes of '
                                 f'{self.__class__.__name__} ({list(self.CLASSES)})')
            self.label_map = {i: (class_names.index(c) if c in class_names else -1)
                              for i, c in enumerate(self.CLASSES)}
        return class_names, self.get_palette_for_custom_classes(class_names, palette)

    def get_palette_for_custom_classes(self, class_names, palette=None):
        if self.label_map is not None:
            kept = sorted((new, old) for old, new in self.label_map.items() if new != -1)
            return [self.PALETTE[old] for _, old in kept]
        if palette is None:
            if self.PALETTE is None:
                palette = random_palette(len(class_names))
            else:
                palette = self.PALETTE
        return palette

    # ------------------------------------------------------------- evaluation
    def get_gt_seg_map_by_idx(self, index):
        """Ground-truth H×W uint8 label map of sample ``index`` (label map / reduce zero
        label applied, values checked)."""
        results = dict(img_info=self.img_infos[index], ann_info=self.get_ann_info(index))
        self.pre_pipeline(results)
        self.gt_seg_map_loader(results)
        return results['gt_semantic_seg']

    def get_gt_seg_maps(self, efficient_test=None):
        """Generator of the ground-truth label maps, in dataset order."""
        for idx in range(len(self)):
            yield self.get_gt_seg_map_by_idx(idx)

    def pre_eval(self, preds, indices):
        """Per-image ``intersect_and_union`` areas of predictions.

        Args:
            preds (ndarray | list[ndarray]): H×W predicted class ids.
            indices (int | list[int]): their dataset indices.
        Returns:
            list[tuple[Tensor]]: 4 per-class area tensors per image.
        """
        from mmseg.core.evaluation.metrics import intersect_and_union
        if not isinstance(indices, list):
            indices = [indices]
        if not isinstance(preds, list):
            preds = [preds]
        num_classes = len(self.CLASSES)
        return [intersect_and_union(pred, self.get_gt_seg_map_by_idx(index), num_classes,
                                    self.ignore_index)
                for pred, index in zip(preds, indices)]

    def evaluate(self, results, metric='mIoU', logger=None, gt_seg_maps=None, **kwargs):
        """Evaluate and log a per-class table and a summary.

        Args:
            results (list): per-image ``pre_eval`` tuples, or H×W predictions (arrays or
                ``.npy`` paths) in dataset order.
            metric (str | list[str]): 'mIoU', 'mDice' and / or 'mFscore'.
            logger (logging.Logger | str | None): where the tables go.
            gt_seg_maps (list[ndarray] | None): raw ground truth for prediction ``results``
                (default: the dataset's label files).
        Returns:
            dict[str, float]: ``aAcc``, ``mIoU``, ``mAcc`` (... for other metrics) as
            fractions in [0, 1] (rounded to 4 decimals, like mmseg 0.x), plus
            ``IoU.<class>`` / ``Acc.<class>`` per class.
        """
        from mmseg.core.evaluation.metrics import (ALLOWED_METRICS, eval_metrics,
                                                   pre_eval_to_metrics)
        metrics = [metric] if isinstance(metric, str) else list(metric)
        unknown = set(metrics) - set(ALLOWED_METRICS)
        if unknown:
            raise KeyError(f'metric {sorted(unknown)} is not supported; choose from '
                           f'{list(ALLOWED_METRICS)}')
        num_classes = len(self.CLASSES)
        if mmcv.is_list_of(results, np.ndarray) or mmcv.is_list_of(results, str):
            if gt_seg_maps is None:
                ret_metrics = eval_metrics(results, self.get_gt_seg_maps(), num_classes,
                                           self.ignore_index, metrics)
            else:
                ret_metrics = eval_metrics(results, gt_seg_maps, num_classes,
                                           self.ignore_index, metrics,
                                           label_map=self.label_map or dict(),
                                           reduce_zero_label=self.reduce_zero_label)
        else:
            ret_metrics = pre_eval_to_metrics(results, metrics)
        return self._summarize(ret_metrics, logger)

    def _summarize(self, ret_metrics, logger):
        class_names = self.CLASSES
        summary = OrderedDict(
            (key, np.round(np.nanmean(value) * 100, 2)) for key, value in ret_metrics.items())
        per_class = OrderedDict(
            (key, np.round(value * 100, 2)) for key, value in ret_metrics.items()
            if key != 'aAcc')

        class_table = PrettyTable()
        class_table.add_column('Class', list(class_names))
        for key, value in per_class.items():
            class_table.add_column(key, list(value))
        summary_table = PrettyTable()
        for key, value in summary.items():
            summary_table.add_column(key if key == 'aAcc' else 'm' + key, [value])
        print_log('per class results:', logger)
        print_log('\n' + class_table.get_string(), logger=logger)
        print_log('Summary:', logger)
        print_log('\n' + summary_table.get_string(), logger=logger)

        eval_results = {}
        for key, value in summary.items():
            eval_results[key if key == 'aAcc' else 'm' + key] = float(value) / 100.0
        for key, value in per_class.items():
            for idx, name in enumerate(class_names):
                eval_results[f'{key}.{name}'] = float(value[idx]) / 100.0
        return eval_results

    # ------------------------------------------------------------- formatting
    def results2img(self, results, imgfile_prefix, indices=None, to_label_id=False):
        """Write each H×W prediction as ``<imgfile_prefix>/<image stem>.png`` (palette PNG
        of the ids from :meth:`convert_prediction`). Returns the written paths."""
        from PIL import Image
        if indices is None:
            indices = list(range(len(self)))
        mmcv.mkdir_or_exist(imgfile_prefix)
        palette = np.zeros((256, 3), np.uint8)
        if self.PALETTE is not None:
            palette[:len(self.PALETTE)] = np.asarray(self.PALETTE, np.uint8)
        files = []
        for result, idx in zip(results, indices):
            filename = osp.basename(self.img_infos[idx]['filename'])
            if filename.endswith(self.img_suffix):
                stem = filename[:-len(self.img_suffix)]
            else:
                stem = osp.splitext(filename)[0]
            png = osp.join(imgfile_prefix, f'{stem}.png')
            ids = self.convert_prediction(result, to_label_id).astype(np.uint8)
            output = Image.fromarray(ids).convert('P')
            output.putpalette(palette.ravel().tolist())
            output.save(png)
            files.append(png)
        return files

    def convert_prediction(self, result, to_label_id=False):
        """Predicted class ids → the ids written by :meth:`results2img` (identity here;
        datasets with an official label-id encoding override this)."""
        return np.asarray(result)

    def format_results(self, results, imgfile_prefix=None, indices=None, to_label_id=False,
                       **kwargs):
        """Write predictions as PNG files (see :meth:`results2img`), by default into
        ``.format_results``. Returns the written paths."""
        if not isinstance(results, list):
            results = [results]
        if indices is not None and not isinstance(indices, list):
            indices = [indices]
        return self.results2img(results, imgfile_prefix or '.format_results', indices,
                                to_label_id)
