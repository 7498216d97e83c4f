"""Data-parallel wrappers of a segmentor or UDA model (single device, distributed) and
the ``torch.distributed`` set-up of ``torchrun`` launches."""
import os

import torch
import torch.distributed as dist
from mmcv.parallel import MMDataParallel, MMDistributedDataParallel
from mmcv.parallel.scatter_gather import scatter_kwargs

from mmseg.models.uda.uda_decorator import UDADecorator
from mmseg.models.utils.gradient_sync import broadcast_module


def fix_mmcv_scatter_streams():
    """Let mmcv 1.7's GPU scatter run on current PyTorch.

    mmcv's ``Scatter`` (used by ``MMDataParallel`` / ``MMDistributedDataParallel`` for
    ``DataContainer`` inputs) hands integer GPU ids to ``torch.nn.parallel._functions.
    _get_stream``, which now expects a ``torch.device``. Idempotent.
    """
    from mmcv.parallel import _functions
    get_stream = _functions._get_stream
    if getattr(get_stream, 'accepts_gpu_ids', False):
        return

    def get_stream_of(device):
        if isinstance(device, int):
            device = torch.device('cuda', device)
        return get_stream(device)

    get_stream_of.accepts_gpu_ids = True
    _functions._get_stream = get_stream_of


def init_distributed(launcher, backend=None):
    """Join the process group of a ``torchrun`` launch (``--launcher pytorch``).

    NCCL with one GPU per process (``LOCAL_RANK``) when CUDA is available, else gloo on
    the CPU; ``backend`` (``cfg.dist_params.backend``) is used only with CUDA.
    """
    if launcher != 'pytorch':
        from mmcv.runner import init_dist
        init_dist(launcher, backend=backend or 'nccl')
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
        dist.init_process_group(backend=backend or 'nccl')
    else:
        dist.init_process_group(backend='gloo')


class CPUDistributedDataParallel(MMDistributedDataParallel):
    """mmcv's DDP for CPU ranks (gloo): unpacks the ``DataContainer`` inputs onto the CPU
    the way ``MMDataParallel(device_ids=None)`` does, then the usual DDP step."""

    def _cpu_inputs(self, inputs, kwargs):
        inputs, kwargs = scatter_kwargs(inputs, kwargs, [-1], dim=self.dim)
        return inputs[0], kwargs[0]

    def train_step(self, *inputs, **kwargs):
        inputs, kwargs = self._cpu_inputs(inputs, kwargs)
        return super().train_step(*inputs, **kwargs)

    def val_step(self, *inputs, **kwargs):
        inputs, kwargs = self._cpu_inputs(inputs, kwargs)
        return super().val_step(*inputs, **kwargs)

    def forward(self, *inputs, **kwargs):
        inputs, kwargs = self._cpu_inputs(inputs, kwargs)
        return super().forward(*inputs, **kwargs)


def local_device():
    if torch.cuda.is_available():
        return torch.device('cuda', torch.cuda.current_device())
    return torch.device('cpu')


def wrap_model(model, cfg, distributed=False):
    """Data-parallel wrapper of a segmentor or UDA model.

    Single process: ``MMDataParallel`` on the first of ``cfg.gpu_ids`` (CUDA) or on the CPU
    (``device_ids=None``: mmcv unpacks the inputs on the CPU).

    Distributed (one process per GPU, or per CPU rank with gloo): a plain segmentor gets
    mmcv's DDP. A UDA wrapper runs several student passes per step and steps its
    optimizer itself, so it stays un-wrapped on the rank's device: rank 0's weights are
    broadcast once, and the wrapper averages the student's gradients over the ranks
    before each step (``mmseg.models.utils.gradient_sync``); the EMA teachers and the
    ImageNet copy follow identically on every rank. ``cfg.sync_bn`` converts the student's
    BatchNorm layers to ``SyncBatchNorm`` (CUDA only).
    """
    if torch.cuda.is_available():
        fix_mmcv_scatter_streams()
    if not distributed:
        if torch.cuda.is_available():
            gpu_id = (cfg.get('gpu_ids') or [0])[0]
            return MMDataParallel(model.cuda(gpu_id), device_ids=[gpu_id])
        return MMDataParallel(model, device_ids=None)
    device = local_device()
    if cfg.get('sync_bn', False):
        if device.type != 'cuda':
            raise ValueError('cfg.sync_bn=True needs CUDA (SyncBatchNorm); drop it for CPU '
                             'ranks')
        target = model.get_model() if isinstance(model, UDADecorator) else model
        torch.nn.SyncBatchNorm.convert_sync_batchnorm(target)
    model = model.to(device)
    if isinstance(model, UDADecorator):
        broadcast_module(model)
        return MMDataParallel(model, device_ids=[device.index] if device.type == 'cuda'
                              else None)
    if device.type == 'cpu':
        return CPUDistributedDataParallel(
            model, device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return MMDistributedDataParallel(
        model, device_ids=[device.index], broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
