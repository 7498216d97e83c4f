"""Segmentors of this codebase inside ProCST's label losses: built from a config file,
fed the translator's [-1, 1] images."""
import os.path as osp

import torch.nn.functional as F


def build_config_segmentor(config, checkpoint=None, what='segmentor'):
    """(segmentor, img_norm_cfg) from a training config file (its ``model`` and
    ``img_norm_cfg``), with the weights of ``checkpoint`` (a training checkpoint of a
    segmentor or UDA run) when given."""
    from mmcv import Config

    from mmseg.models.builder import build_segmentor
    from mmseg.utils.checkpoint import load_checkpoint
    if not osp.isfile(config):
        raise FileNotFoundError(f'{what}: config file {config} not found')
    cfg = Config.fromfile(config)
    if 'img_norm_cfg' not in cfg:
        raise KeyError(f'{what}: {config} has no img_norm_cfg (the normalisation the '
                       'segmentor was trained with)')
    model_cfg = cfg.model
    if checkpoint is not None:
        model_cfg.pretrained = None
    segmentor = build_segmentor(model_cfg)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'{what}: checkpoint {checkpoint} not found')
        load_checkpoint(segmentor, checkpoint)
    return segmentor, dict(cfg.img_norm_cfg)


def normalize_for_segmentor(image, img_norm_cfg):
    """Translator images (N×3×H×W RGB in [-1, 1]) in the normalisation ``img_norm_cfg``
    (``mean``/``std`` of 0-255 RGB) a segmentor was trained with; same shape."""
    mean = image.new_tensor(img_norm_cfg['mean']).view(1, -1, 1, 1)
    std = image.new_tensor(img_norm_cfg['std']).view(1, -1, 1, 1)
    return ((image + 1) * 127.5 - mean) / std


def segmentor_logits(segmentor, image, img_norm_cfg):
    """Logits of ``segmentor`` for translator images.

    Args:
        image (Tensor): N×3×H×W RGB in [-1, 1].
        img_norm_cfg (dict): ``mean``/``std`` (0-255 RGB) the segmentor expects.
    Returns:
        Tensor: N×K×H×W.
    """
    normalized = normalize_for_segmentor(image, img_norm_cfg)
    n, _, h, w = image.shape
    metas = [dict(img_shape=(h, w, 3), ori_shape=(h, w, 3), pad_shape=(h, w, 3), flip=False)
             for _ in range(n)]
    return segmentor.encode_decode(normalized, metas)


def label_cross_entropy(logits, labels, ignore_index=255):
    """CE of N×K×H×W logits against N×1×H×W (or N×H×W) labels."""
    if labels.dim() == 4:
        labels = labels[:, 0]
    return F.cross_entropy(logits, labels.long(), ignore_index=ignore_index)


def freeze(module):
    module.requires_grad_(False)
    return module.eval()


