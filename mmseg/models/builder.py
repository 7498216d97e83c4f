"""Model registries and builders (mmseg 0.x API)."""
import warnings

from mmseg.utils.registry import make_registry

BACKBONES = make_registry('backbone')
NECKS = make_registry('neck')
HEADS = make_registry('head')
LOSSES = make_registry('loss')
SEGMENTORS = make_registry('segmentor')
UDA = make_registry('uda')


def build_backbone(cfg):
    return BACKBONES.build(cfg)


def build_neck(cfg):
    return NECKS.build(cfg)


def build_head(cfg):
    return HEADS.build(cfg)


def build_loss(cfg):
    return LOSSES.build(cfg)


def build_segmentor(cfg, train_cfg=None, test_cfg=None):
    """Build a segmentor; ``train_cfg``/``test_cfg`` belong inside ``cfg`` (the old
    positional form still works)."""
    if train_cfg is not None or test_cfg is not None:
        warnings.warn('train_cfg and test_cfg are deprecated, please specify them in model',
                      UserWarning)
    assert cfg.get('train_cfg') is None or train_cfg is None, \
        'train_cfg specified in both outer field and model field '
    assert cfg.get('test_cfg') is None or test_cfg is None, \
        'test_cfg specified in both outer field and model field '
    return SEGMENTORS.build(cfg, default_args=dict(train_cfg=train_cfg, test_cfg=test_cfg))


NONFINITE_LOSS_POLICIES = ('stop', 'skip')


def build_train_model(cfg, train_cfg=None, test_cfg=None):
    """The model that training optimises: the UDA wrapper when ``cfg.uda`` exists (with
    ``cfg.model`` injected as ``uda.model``), the plain segmentor otherwise; the speed
    switches of ``cfg.optimization`` applied (see ``mmseg.models.utils.optimization``)."""
    if 'uda' in cfg and cfg.uda is not None:
        uda_cfg = dict(cfg.uda)
        uda_cfg['model'] = cfg.model
        uda_cfg['max_iters'] = cfg.get('runner', {}).get('max_iters')
        model = UDA.build(uda_cfg, default_args=dict(train_cfg=train_cfg, test_cfg=test_cfg))
    else:
        model = build_segmentor(cfg.model, train_cfg=train_cfg, test_cfg=test_cfg)
    from mmseg.models.utils.optimization import apply_optimization
    apply_optimization(model, cfg.get('optimization'))
    model.nonfinite_loss = cfg.get('nonfinite_loss', 'stop')
    if model.nonfinite_loss not in NONFINITE_LOSS_POLICIES:
        raise ValueError(f'cfg.nonfinite_loss must be one of {NONFINITE_LOSS_POLICIES}, got '
                         f'{model.nonfinite_loss!r}')
    return model
