"""Source / target pairs for unsupervised domain adaptation, with Rare Class Sampling
(DAFormer, Sec. 3.3) and HRDA's synchronised crop."""
import json
import os.path as osp

import numpy as np
import torch
from mmcv.parallel import DataContainer as DC

from .builder import DATASETS
from .pipelines.active_annotations import LoadActiveAnnotations
from .pipelines.transforms import as_scale, random_crop_bbox


def rcs_class_probs(sample_class_stats, temperature):
    """Rare Class Sampling distribution (DAFormer Eq. 6).

    Args:
        sample_class_stats (list[dict]): ``sample_class_stats.json`` entries, one per label
            file: ``{"<trainId>": pixel count, ..., "file": path}``.
        temperature (float): T; smaller values favour rare classes more.
    Returns:
        tuple: ``classes`` (list[int], ascending total pixel count; ties keep their order of
        first appearance: file order, then key order) and ``probs`` (float32 ndarray,
        ``softmax((1 - f_c) / T)`` with ``f_c = n_c / sum_c n_c``).
    """
    totals = {}
    for stats in sample_class_stats:
        for key, count in stats.items():
            if key == 'file':
                continue
            totals[int(key)] = totals.get(int(key), 0) + count
    # sorted() is stable: equal totals keep first-appearance order.
    classes = sorted(totals, key=lambda c: totals[c])
    counts = torch.tensor([totals[c] for c in classes], dtype=torch.int64)
    freq = counts / counts.sum()  # float32, like the original
    probs = torch.softmax((1 - freq) / temperature, dim=-1)
    return classes, probs.numpy()


def files_with_class(samples_with_class, classes, min_pixels):
    """Per class, the basenames of the label files holding more than ``min_pixels``
    pixels of it (``samples_with_class.json`` order).

    Args:
        samples_with_class (dict): ``{"<trainId>": [[file, count], ...]}``.
        classes (list[int]): the classes to keep.
        min_pixels (int): exclusive lower bound of the per-file count.
    Returns:
        dict[int, list[str]]
    """
    by_class = {int(k): v for k, v in samples_with_class.items()}
    return {c: [osp.basename(file) for file, count in by_class.get(c, []) if count > min_pixels]
            for c in classes}


def _data(value):
    return value.data if isinstance(value, DC) else value


@DATASETS.register_module()
class UDADataset:
    """Labelled source sample + unlabelled target sample.

    Without Rare Class Sampling item ``idx`` pairs ``source[idx // len(target)]`` with
    ``target[idx % len(target)]``; with it, each item draws a class ``c ~ P(c)``, a source
    file holding ``c`` and a uniformly random target sample (numpy's global RNG, which the
    training loader seeds for every sample: see ``SeededSampleDataset``).

    Args:
        source (Dataset): labelled dataset (its ``data_root`` holds the converter's
            ``sample_class_stats.json`` / ``samples_with_class.json`` for RCS).
        target (Dataset): unlabelled dataset with the same classes / palette / ignore index.
        cfg (dict): the ``UDADataset`` config; read: ``rare_class_sampling`` =
            ``dict(min_pixels, class_temp, min_crop_ratio)`` or None, ``sync_crop_size`` =
            (h, w) or None.
    Items:
        dict: the source sample's keys (``img``, ``img_metas``, ``gt_semantic_seg``) plus
        ``target_img``, ``target_img_metas`` and, when the target provides it,
        ``valid_pseudo_mask``; ``target_gt_semantic_seg`` only when the target pipeline
        loads active labels (``LoadActiveAnnotations``, RIPU), never the target's ground
        truth.
    """

    def __init__(self, source, target, cfg):
        self.source = source
        self.target = target
        self._check_compatible(source, target)
        self.ignore_index = target.ignore_index
        self.CLASSES = target.CLASSES
        self.PALETTE = target.PALETTE
        self.target_active_labels = any(isinstance(t, LoadActiveAnnotations) for t in
                                        getattr(target.pipeline, 'transforms', []))
        sync_crop_size = cfg.get('sync_crop_size')
        self.sync_crop_size = None if sync_crop_size is None else as_scale(sync_crop_size)

        rcs_cfg = cfg.get('rare_class_sampling')
        self.rcs_enabled = rcs_cfg is not None
        if self.rcs_enabled:
            missing = {'min_pixels', 'class_temp', 'min_crop_ratio'} - set(rcs_cfg)
            if missing:
                raise KeyError(f'UDADataset: rare_class_sampling needs {sorted(missing)} '
                               f'(got {dict(rcs_cfg)})')
            self.rcs_class_temp = rcs_cfg['class_temp']
            self.rcs_min_crop_ratio = rcs_cfg['min_crop_ratio']
            self.rcs_min_pixels = rcs_cfg['min_pixels']
            sample_class_stats, samples_with_class = self._load_rcs_stats()
            self.rcs_classes, self.rcs_classprob = rcs_class_probs(sample_class_stats,
                                                                   self.rcs_class_temp)
            self.samples_with_class = files_with_class(samples_with_class, self.rcs_classes,
                                                       self.rcs_min_pixels)
            self._check_rcs_files(samples_with_class)
            self.file_to_idx = {osp.basename(info['ann']['seg_map']): i
                                for i, info in enumerate(self.source.img_infos)}
            self._check_stats_match_source()

    @staticmethod
    def _check_compatible(source, target):
        for attr in ('CLASSES', 'ignore_index'):
            s, t = getattr(source, attr), getattr(target, attr)
            if (list(s) if attr == 'CLASSES' else s) != (list(t) if attr == 'CLASSES' else t):
                raise ValueError(f'UDADataset: source and target differ in {attr}: '
                                 f'{s} vs {t}')
        s, t = source.PALETTE, target.PALETTE
        if (s is None) != (t is None) or (s is not None and np.asarray(s).tolist() !=
                                          np.asarray(t).tolist()):
            raise ValueError(f'UDADataset: source and target differ in PALETTE: {s} vs {t}')

    def _load_rcs_stats(self):
        data_root = getattr(self.source, 'data_root', None)
        if data_root is None:
            raise ValueError('UDADataset: rare_class_sampling reads the class statistics from '
                             "the source's data_root, but the source config has no data_root")
        converter = getattr(self.source, 'CONVERTER', None) or 'tools/convert_datasets/<x>.py'
        loaded = []
        for name in ('sample_class_stats.json', 'samples_with_class.json'):
            path = osp.join(data_root, name)
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'UDADataset: rare_class_sampling needs {path}, which does not exist. '
                    f'Run `python {converter} {data_root}` to write the class statistics '
                    '(or remove rare_class_sampling from the config).')
            with open(path) as f:
                loaded.append(json.load(f))
        return loaded

    def _class_name(self, c):
        return f'{c} ({self.CLASSES[c]})' if self.CLASSES and 0 <= c < len(self.CLASSES) \
            else str(c)

    def _check_rcs_files(self, samples_with_class):
        empty = [c for c in self.rcs_classes if not self.samples_with_class[c]]
        if not empty:
            return
        by_class = {int(k): v for k, v in samples_with_class.items()}
        # The largest min_pixels for which every class keeps a file.
        limit = min(max((count for _, count in by_class.get(c, [])), default=0)
                    for c in self.rcs_classes) - 1
        raise ValueError(
            f'UDADataset: Rare Class Sampling keeps no source file for class(es) '
            f'{", ".join(self._class_name(c) for c in empty)}: no file has more than '
            f'min_pixels={self.rcs_min_pixels} pixels of them. Lower '
            f'rare_class_sampling.min_pixels (at most {max(limit, 0)} works for this data).')

    def _check_stats_match_source(self):
        missing = sorted({f for files in self.samples_with_class.values() for f in files
                          if f not in self.file_to_idx})
        if missing:
            raise ValueError(
                f'UDADataset: samples_with_class.json in {self.source.data_root} lists label '
                f'files that are not in the source dataset: {missing[:5]}'
                f'{" ..." if len(missing) > 5 else ""}. Are the statistics stale? Re-run the '
                'converter.')

    def __len__(self):
        return len(self.source) * len(self.target)

    def synchronized_crop(self, s1, s2):
        """Cut the same random ``sync_crop_size`` window (placed within the source image)
        out of ``img``, ``gt_semantic_seg`` and ``valid_pseudo_mask`` of both samples."""
        if self.sync_crop_size is None:
            return s1, s2
        crop_y1, crop_y2, crop_x1, crop_x2 = random_crop_bbox(
            _data(s1['img']).shape[1:], self.sync_crop_size)
        for sample in (s1, s2):
            for key in ('img', 'gt_semantic_seg', 'valid_pseudo_mask'):
                if key not in sample:
                    continue
                value = sample[key]
                cropped = _data(value)[:, crop_y1:crop_y2, crop_x1:crop_x2]
                if isinstance(value, DC):
                    cropped = DC(cropped, stack=value.stack, padding_value=value.padding_value,
                                 cpu_only=value.cpu_only, pad_dims=value.pad_dims)
                sample[key] = cropped
        return s1, s2

    def _merge(self, s1, s2):
        out = {**s1, 'target_img_metas': s2['img_metas'], 'target_img': s2['img']}
        if 'valid_pseudo_mask' in s2:
            out['valid_pseudo_mask'] = s2['valid_pseudo_mask']
        if self.target_active_labels:
            out['target_gt_semantic_seg'] = s2['gt_semantic_seg']
        return out

    def _class_pixels(self, sample, c):
        if 'gt_semantic_seg' not in sample:
            raise KeyError('UDADataset: Rare Class Sampling counts the sampled class in the '
                           "source's gt_semantic_seg, but the source pipeline does not "
                           'collect it')
        return int((torch.as_tensor(_data(sample['gt_semantic_seg'])) == c).sum())

    def get_rare_class_sample(self):
        """One RCS item: class ``c ~ P(c)``, a source file holding ``c`` (uniform), its crop
        redrawn up to 10 times until it holds more than ``min_pixels * min_crop_ratio``
        pixels of ``c``, and a uniformly random target sample."""
        c = self.rcs_classes[np.random.choice(len(self.rcs_classes), p=self.rcs_classprob)]
        files = self.samples_with_class[c]
        source_idx = self.file_to_idx[files[np.random.randint(len(files))]]
        s1 = self.source[source_idx]
        if self.rcs_min_crop_ratio > 0:
            for _ in range(10):
                if self._class_pixels(s1, c) > self.rcs_min_pixels * self.rcs_min_crop_ratio:
                    break
                s1 = self.source[source_idx]
        s2 = self.target[np.random.randint(len(self.target))]
        return self._merge(*self.synchronized_crop(s1, s2))

    def __getitem__(self, idx):
        if self.rcs_enabled:
            return self.get_rare_class_sample()
        s1 = self.source[idx // len(self.target)]
        s2 = self.target[idx % len(self.target)]
        return self._merge(*self.synchronized_crop(s1, s2))
