"""Single-image inference: build a segmentor from a config + checkpoint, predict, draw."""
import warnings

import mmcv
import torch
from mmcv.parallel import collate, scatter

from mmseg.core.evaluation.class_names import get_classes, get_palette
from mmseg.datasets.pipelines import Compose
from mmseg.models import build_segmentor
from mmseg.utils.checkpoint import (UDA_TEACHER_TO_SEGMENTOR_KEYS, UDA_TO_SEGMENTOR_KEYS,
                                    load_checkpoint)

DEFAULT_DATASET = 'cityscapes'
# Which network of a UDA checkpoint a segmentor loads: key renaming rules by name.
SEGMENTOR_WEIGHTS = {'student': UDA_TO_SEGMENTOR_KEYS, 'teacher': UDA_TEACHER_TO_SEGMENTOR_KEYS}


def load_config(config, cfg_options=None):
    """``mmcv.Config`` from a path (``.py``, or the legacy ``.json`` that the authors' runs
    saved) or a Config; ``cfg_options`` (dict) merged in; legacy entries updated."""
    if isinstance(config, str):
        config = mmcv.Config.fromfile(config)
    elif not isinstance(config, mmcv.Config):
        raise TypeError(f'config must be a file path or an mmcv.Config, got {type(config)}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    return update_legacy_cfg(config)


def update_legacy_cfg(cfg):
    """Make configs saved as JSON by the original runs usable: JSON turns tuples into lists
    (``img_scale`` must be a tuple for keep-ratio resizing), and old runs named the DAFormer
    head ``UniHead``."""
    for split in ('val', 'test'):
        data_cfg = cfg.get('data', {}).get(split)
        if data_cfg is None:
            continue
        for step in data_cfg.get('pipeline', []):
            if step.get('type') == 'MultiScaleFlipAug' and isinstance(step.get('img_scale'),
                                                                       list):
                scale = step['img_scale']
                step['img_scale'] = ([tuple(s) for s in scale] if scale and isinstance(
                    scale[0], list) else tuple(scale))
    head = cfg.get('model', {}).get('decode_head')
    if head is not None and head.get('type') == 'UniHead':
        head['type'] = 'DAFormerHead'
        head.get('decoder_params', {}).get('fusion_cfg', {}).pop('fusion', None)
    backbone = cfg.get('model', {}).get('backbone')
    if backbone is not None:
        backbone.pop('ema_drop_path_rate', None)
    return cfg


def build_test_segmentor(cfg):
    """The plain segmentor of ``cfg.model`` for testing: no pretrained-weight loading, no
    training settings (a UDA config's wrapper is not built; its checkpoints load into this
    model through the ``model.`` key rule)."""
    cfg.model.pretrained = None
    if isinstance(cfg.model.get('backbone'), dict) and 'pretrained' in cfg.model.backbone:
        cfg.model.backbone.pretrained = None
    cfg.model.train_cfg = None
    return build_segmentor(cfg.model, test_cfg=cfg.get('test_cfg'))


def load_segmentor_checkpoint(model, checkpoint, dataset_classes=None, dataset_palette=None,
                              trusted=False, logger=None, weights='student'):
    """Load ``checkpoint`` (plain or UDA wrapper; the student ``model.`` part, or with
    ``weights='teacher'`` the EMA teacher ``ema_model.`` of a DACS-family run) and set
    ``model.CLASSES`` / ``model.PALETTE`` from its meta, else from the given dataset
    values, else Cityscapes. Returns the checkpoint dict."""
    if weights not in SEGMENTOR_WEIGHTS:
        raise ValueError(f'weights must be one of {list(SEGMENTOR_WEIGHTS)}, got {weights!r}')
    try:
        ckpt = load_checkpoint(model, checkpoint, SEGMENTOR_WEIGHTS[weights], strict=False,
                               logger=logger, trusted=trusted)
    except RuntimeError as err:
        if weights != 'teacher':
            raise
        raise RuntimeError(f'checkpoint {checkpoint!r} has no EMA teacher (no ema_model.* '
                           'keys; only DACS-family runs keep one): load its student '
                           f"(weights='student') instead ({err})") from err
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    model.CLASSES = meta.get('CLASSES') or dataset_classes
    model.PALETTE = meta.get('PALETTE') or dataset_palette
    if model.CLASSES is None:
        warnings.warn(f'checkpoint {checkpoint!r} has no class names in its meta; '
                      f'assuming {DEFAULT_DATASET} classes')
        model.CLASSES = get_classes(DEFAULT_DATASET)
    if model.PALETTE is None:
        model.PALETTE = get_palette(DEFAULT_DATASET)
    return ckpt


def config_classes(cfg):
    """``(classes, palette)`` named by the config's test set (``data.test.classes`` /
    ``palette``, e.g. in the configs of tools/convert_datasets/custom.py); None for each
    it does not name."""
    test = cfg.get('data', {}).get('test') or {}
    return test.get('classes'), test.get('palette')


def init_segmentor(config, checkpoint=None, device='cuda:0', trusted=False, cfg_options=None):
    """Build a segmentor for inference.

    Args:
        config (str | mmcv.Config): config file (``.py`` / legacy ``.json``) or object.
        checkpoint (str | None): weights; UDA checkpoints (``model.*``, ``ema_model.*``,
            ``imnet_model.*``) load their ``model.`` part. A checkpoint without any
            matching key raises. Class names and palette come from its meta, else from
            the config's test set, else Cityscapes.
        device (str): e.g. ``'cuda:0'`` or ``'cpu'``.
    Returns:
        nn.Module: the segmentor in eval mode, with ``cfg``, ``CLASSES``, ``PALETTE``.
    """
    config = load_config(config, cfg_options)
    model = build_test_segmentor(config)
    classes, palette = config_classes(config)
    if checkpoint is not None:
        load_segmentor_checkpoint(model, checkpoint, dataset_classes=classes,
                                  dataset_palette=palette, trusted=trusted)
    else:
        model.CLASSES = classes or get_classes(DEFAULT_DATASET)
        model.PALETTE = palette or get_palette(DEFAULT_DATASET)
    model.cfg = config
    model.to(device)
    model.eval()
    return model


class LoadImage:
    """First test-pipeline step for an in-memory image or a path (replaces
    ``LoadImageFromFile``)."""

    def __call__(self, results):
        img = results['img']
        name = img if isinstance(img, str) else None
        results['filename'] = results['ori_filename'] = name
        img = mmcv.imread(img)
        if img is None:
            raise FileNotFoundError(f'cannot read image {name!r}')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape
        return results


def test_pipeline_for(cfg):
    """The config's test pipeline with its image loading replaced by :class:`LoadImage`."""
    steps = list(cfg.data.test.pipeline)
    if steps and steps[0].get('type') in ('LoadImageFromFile', 'LoadImage'):
        steps = steps[1:]
    transforms = Compose(steps)
    load = LoadImage()
    return lambda results: transforms(load(results))


def inference_segmentor(model, img):
    """Predict one image (path or BGR ndarray) with ``model`` from :func:`init_segmentor`.

    Returns:
        list[np.ndarray]: one H×W class-id map at the original image size.
    """
    device = next(model.parameters()).device
    data = collate([test_pipeline_for(model.cfg)(dict(img=img))], samples_per_gpu=1)
    if device.type == 'cuda':
        data = scatter(data, [device])[0]
    else:
        data['img_metas'] = [dc.data[0] for dc in data['img_metas']]
    with torch.no_grad():
        return model(return_loss=False, rescale=True, **data)


def show_result_pyplot(model, img, result, palette=None, fig_size=(15, 10), opacity=0.5,
                       title='', block=True, out_file=None):
    """Show (matplotlib) and/or write the prediction drawn over ``img``; returns the BGR
    drawing."""
    import matplotlib.pyplot as plt
    model = getattr(model, 'module', model)
    drawn = model.show_result(img, result, palette=palette, show=False, opacity=opacity)
    plt.figure(figsize=fig_size)
    plt.imshow(mmcv.bgr2rgb(drawn))
    plt.title(title)
    plt.axis('off')
    plt.tight_layout()
    if plt.get_backend().lower() != 'agg':
        plt.show(block=block)
    plt.close()
    if out_file is not None:
        mmcv.imwrite(drawn, out_file)
    return drawn


__all__ = ['init_segmentor', 'inference_segmentor', 'show_result_pyplot', 'LoadImage',
           'load_config', 'update_legacy_cfg', 'build_test_segmentor',
           'load_segmentor_checkpoint']
