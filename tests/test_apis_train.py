"""``mmseg.apis.train`` helpers: seeding, logger hooks, model wrapping."""
import numpy as np
import torch
from mmcv import Config
from mmcv.parallel import MMDataParallel

from mmseg.apis import init_random_seed, set_random_seed
from mmseg.apis.parallel import wrap_model
from mmseg.apis.train import log_hooks_config


def test_set_random_seed_is_reproducible():
    set_random_seed(5)
    a = (np.random.rand(), torch.rand(3))
    set_random_seed(5, deterministic=True)
    b = (np.random.rand(), torch.rand(3))
    assert a[0] == b[0] and torch.equal(a[1], b[1])


def test_init_random_seed_keeps_given_seed():
    assert init_random_seed(7) == 7
    assert isinstance(init_random_seed(None), int)


def test_log_hooks_config_adds_tensorboard_and_drops_img_interval():
    log_config = dict(interval=50, img_interval=1000,
                      hooks=[dict(type='TextLoggerHook', by_epoch=False)])
    resolved = log_hooks_config(log_config)
    assert [h['type'] for h in resolved['hooks']] == ['TextLoggerHook',
                                                       'TensorboardLoggerHook']
    assert 'img_interval' not in resolved
    assert log_config['img_interval'] == 1000  # the config itself is untouched
    again = log_hooks_config(resolved)
    assert [h['type'] for h in again['hooks']] == ['TextLoggerHook', 'TensorboardLoggerHook']
    assert log_hooks_config(None) is None


def test_wrap_model_on_cpu():
    model = torch.nn.Linear(2, 2)
    wrapped = wrap_model(model, Config(dict()))
    assert isinstance(wrapped, MMDataParallel)
    if not torch.cuda.is_available():
        assert wrapped.device_ids == []


def test_fix_mmcv_scatter_streams_accepts_gpu_ids(monkeypatch):
    from mmcv.parallel import _functions

    from mmseg.apis.parallel import fix_mmcv_scatter_streams
    seen = []
    monkeypatch.setattr(_functions, '_get_stream', lambda device: seen.append(device))
    fix_mmcv_scatter_streams()
    fix_mmcv_scatter_streams()  # idempotent: wraps once
    _functions._get_stream(1)
    _functions._get_stream(torch.device('cuda', 0))
    assert seen == [torch.device('cuda', 1), torch.device('cuda', 0)]


def test_fused_adamw_only_on_cuda(monkeypatch):
    from mmseg.apis.train import optimizer_config
    cfg = dict(type='AdamW', lr=6e-5)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert 'fused' not in optimizer_config(cfg)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert optimizer_config(cfg)['fused'] is True
    assert optimizer_config(dict(cfg, fused=False))['fused'] is False
    assert 'fused' not in optimizer_config(dict(type='SGD', lr=0.01))
    assert 'fused' not in cfg  # the config itself is left alone
