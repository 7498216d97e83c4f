"""Data-parallel wrappers of a segmentor or UDA model (single device, DDP)."""
import torch
from mmcv.parallel import MMDataParallel, MMDistributedDataParallel


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


def wrap_model(model, cfg, distributed=False):
    """Data-parallel wrapper: DDP when distributed, else ``MMDataParallel`` on the first of
    ``cfg.gpu_ids`` (CUDA) or on the CPU (``device_ids=None``: mmcv scatters to CPU)."""
    if torch.cuda.is_available():
        fix_mmcv_scatter_streams()
    if distributed:
        return MMDistributedDataParallel(
            model.cuda(), device_ids=[torch.cuda.current_device()], broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    if torch.cuda.is_available():
        gpu_id = (cfg.get('gpu_ids') or [0])[0]
        return MMDataParallel(model.cuda(gpu_id), device_ids=[gpu_id])
    return MMDataParallel(model, device_ids=None)
