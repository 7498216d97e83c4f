"""The output folder of ``tools/cpsl_prepare.py`` (CPSL pre-computation, SPEC-more-uda.md
§2.2 (a)-(c)), written from the warm-up model and read by the ``CPSL`` wrapper:

    soft_labels/<target image>.npy   P_ST: the warm-up softmax, K×h×w float16 at the
                                     decoder's output size of the full training image
    prototypes.pth                   {'prototypes': K×D (L2-normalised class means of the
                                     pre-classifier features), 'missing_classes': [...]}
    class_prior.json                 r (K shares of the warm-up argmax pixels), the image
                                     count; written last, so its presence marks a complete
                                     folder
"""
import json
import os
import os.path as osp

import numpy as np
import torch

from .checkpoint import atomic_save, replaced_atomically

SOFT_LABEL_DIR = 'soft_labels'
PROTOTYPES_FILE = 'prototypes.pth'
PRIOR_FILE = 'class_prior.json'
PREPARE_COMMAND = 'python tools/cpsl_prepare.py WARMUP_CONFIG WARMUP_CHECKPOINT --out DIR'


class CPSLPrepareError(ValueError):
    """A prepare folder that cannot be used (names the file and what is wrong)."""


def soft_label_path(prepare_dir, ori_filename):
    """``<prepare_dir>/soft_labels/<ori_filename without extension>.npy``."""
    return osp.join(prepare_dir, SOFT_LABEL_DIR, osp.splitext(ori_filename)[0] + '.npy')


def write_soft_label(path, probs):
    """probs: K×h×w float tensor → float16 ``.npy``, written atomically."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with replaced_atomically(path) as tmp:
        with open(tmp, 'wb') as f:
            np.save(f, probs.detach().cpu().numpy().astype(np.float16))


def write_prepare_record(prepare_dir, prior, prototypes, record):
    """prototypes.pth, then class_prior.json (``record`` + ``prior``), both atomically."""
    atomic_save({'prototypes': prototypes.cpu(),
                 'missing_classes': record.get('missing_classes', [])},
                osp.join(prepare_dir, PROTOTYPES_FILE))
    with replaced_atomically(osp.join(prepare_dir, PRIOR_FILE)) as tmp:
        with open(tmp, 'w') as f:
            json.dump(dict(record, prior=[float(p) for p in prior]), f, indent=1)


def read_prepare_dir(prepare_dir, num_classes, feat_dim):
    """(prior K float tensor, prototypes K×D tensor, record) of a complete prepare folder
    matching the model (``num_classes`` classes, ``feat_dim`` pre-classifier channels)."""
    prior_file = osp.join(prepare_dir, PRIOR_FILE)
    if not osp.isfile(prior_file):
        raise FileNotFoundError(f'CPSL: {prior_file} not found (uda.prepare_dir={prepare_dir!r}'
                                f' is missing or incomplete); write it with {PREPARE_COMMAND}')
    with open(prior_file) as f:
        record = json.load(f)
    prior = torch.as_tensor(record.get('prior', []), dtype=torch.float32)
    if prior.numel() != num_classes or (prior < 0).any() or abs(float(prior.sum()) - 1) > 1e-4:
        raise CPSLPrepareError(f'{prior_file}: key "prior" must be {num_classes} non-negative '
                               f'shares summing to 1 (the model has {num_classes} classes), '
                               f'got {record.get("prior")}')
    protos_file = osp.join(prepare_dir, PROTOTYPES_FILE)
    if not osp.isfile(protos_file):
        raise FileNotFoundError(f'CPSL: {protos_file} not found; re-run {PREPARE_COMMAND}')
    prototypes = torch.load(protos_file, map_location='cpu', weights_only=True)['prototypes']
    if tuple(prototypes.shape) != (num_classes, feat_dim):
        raise CPSLPrepareError(
            f'{protos_file}: prototypes of shape {tuple(prototypes.shape)}, the model needs '
            f'({num_classes}, {feat_dim}) (classes x decoder feature channels): was it '
            'prepared with another architecture?')
    return prior, prototypes.float(), record


def load_soft_labels(prepare_dir, img_metas, size):
    """P_ST of the target images ``img_metas`` (their ``ori_filename``) → N×K×h×w float32;
    ``size`` (h, w): the decoder output size the training images give."""
    maps = []
    for meta in img_metas:
        path = soft_label_path(prepare_dir, meta['ori_filename'])
        if not osp.isfile(path):
            raise FileNotFoundError(f'CPSL: soft pseudo-label {path} not found for target '
                                    f'image {meta["ori_filename"]}; re-run {PREPARE_COMMAND} '
                                    'on this target set')
        soft = torch.from_numpy(np.load(path).astype(np.float32))
        if tuple(soft.shape[1:]) != tuple(size):
            raise CPSLPrepareError(
                f'{path}: P_ST of size {tuple(soft.shape[1:])}, the training images give '
                f'decoder outputs of {tuple(size)}: prepare with the same target image size')
        maps.append(soft)
    return torch.stack(maps)
