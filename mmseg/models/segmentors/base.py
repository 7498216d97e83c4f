import math
import warnings
from abc import ABCMeta, abstractmethod
from collections import OrderedDict

import mmcv
import torch
import torch.distributed as dist
from mmcv.runner import BaseModule


class BaseSegmentor(BaseModule, metaclass=ABCMeta):
    """Base class of segmentors: the mmseg 0.x ``forward`` / ``train_step`` / ``show_result``
    protocol shared by plain and multi-resolution segmentors."""

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg)
        self.fp16_enabled = False
        # What a NaN/Inf loss term does (cfg.nonfinite_loss): 'stop' raises, 'skip' drops
        # the optimizer step and the step's BatchNorm statistics. Either way nothing
        # non-finite reaches the weights.
        self.nonfinite_loss = 'stop'
        self.train_steps = 0  # iterations run by this process (for messages)

    @property
    def with_neck(self):
        return getattr(self, 'neck', None) is not None

    @property
    def with_auxiliary_head(self):
        return getattr(self, 'auxiliary_head', None) is not None

    @property
    def with_decode_head(self):
        return getattr(self, 'decode_head', None) is not None

    @abstractmethod
    def extract_feat(self, imgs):
        """Backbone (+ neck) features."""

    @abstractmethod
    def encode_decode(self, img, img_metas):
        """Logits at the input resolution."""

    @abstractmethod
    def forward_train(self, imgs, img_metas, **kwargs):
        """Dict of losses."""

    @abstractmethod
    def simple_test(self, img, img_meta, **kwargs):
        """Prediction for a single test-time augmentation."""

    @abstractmethod
    def aug_test(self, imgs, img_metas, **kwargs):
        """Prediction averaged over test-time augmentations."""

    def forward_test(self, imgs, img_metas, **kwargs):
        """imgs / img_metas: lists over augmentations (each N×C×H×W / list of N dicts)."""
        for var, name in ((imgs, 'imgs'), (img_metas, 'img_metas')):
            if not isinstance(var, list):
                raise TypeError(f'{name} must be a list, but got {type(var)}')
        if len(imgs) != len(img_metas):
            raise ValueError(f'num of augmentations ({len(imgs)}) != num of image meta '
                             f'({len(img_metas)})')
        for img_meta in img_metas:
            ori_shapes = [_['ori_shape'] for _ in img_meta]
            img_shapes = [_['img_shape'] for _ in img_meta]
            pad_shapes = [_['pad_shape'] for _ in img_meta]
            assert all(s == ori_shapes[0] for s in ori_shapes)
            assert all(s == img_shapes[0] for s in img_shapes)
            assert all(s == pad_shapes[0] for s in pad_shapes)
        if len(imgs) == 1:
            return self.simple_test(imgs[0], img_metas[0], **kwargs)
        return self.aug_test(imgs, img_metas, **kwargs)

    def forward(self, img, img_metas, return_loss=True, **kwargs):
        """Training (``return_loss=True``: tensors) or testing (lists over augmentations)."""
        if return_loss:
            return self.forward_train(img, img_metas, **kwargs)
        return self.forward_test(img, img_metas, **kwargs)

    def train_step(self, data_batch, optimizer, **kwargs):
        """One forward pass returning ``dict(loss, log_vars, num_samples)``; the runner's
        optimizer hook does backward and step."""
        buffers = self.buffers_before_step()
        losses = self(**data_batch)
        loss, log_vars = self._parse_losses(losses)
        self.train_steps += 1
        if not self.losses_are_finite(log_vars, self.train_steps, buffers):
            # A fresh zero with no path to the weights: backward leaves every gradient
            # None and the optimizer skips the parameters.
            loss = torch.zeros((), device=loss.device, requires_grad=True)
        return dict(loss=loss, log_vars=log_vars, num_samples=len(data_batch['img_metas']))

    def buffers_before_step(self):
        """With ``nonfinite_loss='skip'``, a copy of every buffer by name (the BatchNorm
        running statistics of the student, the EMA teachers and the ImageNet copy), for
        :meth:`losses_are_finite` to put back if the step is dropped; None (no copy)
        otherwise."""
        if self.nonfinite_loss != 'skip':
            return None
        return {name: buffer.clone() for name, buffer in self.named_buffers()}

    @torch.no_grad()
    def restore_buffers(self, saved):
        """Copy the values of :meth:`buffers_before_step` back into the buffers."""
        for name, buffer in self.named_buffers():
            buffer.copy_(saved[name])

    def losses_are_finite(self, log_vars, iteration, buffers=None):
        """False (``nonfinite_loss='skip'``, with a warning; ``buffers``, from
        :meth:`buffers_before_step`, are restored) or FloatingPointError ('stop') when a
        logged term is NaN/Inf; the message names the terms and the iteration (counted from
        the start of this process, or the UDA ``local_iter``)."""
        bad = {k: v for k, v in log_vars.items() if not math.isfinite(v)}
        if not bad:
            return True
        terms = ', '.join(f'{k}={v}' for k, v in bad.items())
        if self.nonfinite_loss == 'skip':
            warnings.warn(f'non-finite loss at iteration {iteration} ({terms}); the optimizer '
                          'step is skipped and the BatchNorm statistics are put back '
                          "(cfg.nonfinite_loss='skip')")
            if buffers is not None:
                self.restore_buffers(buffers)
            return False
        raise FloatingPointError(
            f'non-finite loss at iteration {iteration}: {terms}. Training stops before the '
            'optimizer step, so the weights and checkpoints stay finite. Lower the learning '
            "rate or enable mixed precision carefully; cfg.nonfinite_loss='skip' skips such "
            'steps instead.')

    def val_step(self, data_batch, **kwargs):
        return self(**data_batch, **kwargs)

    @staticmethod
    def _parse_losses(losses):
        """Sum the terms whose name contains 'loss'; every term becomes a logged float.

        Returns:
            (Tensor, OrderedDict[str, float])
        """
        log_vars = OrderedDict()
        for name, value in losses.items():
            if isinstance(value, torch.Tensor):
                log_vars[name] = value.mean()
            elif isinstance(value, list):
                log_vars[name] = sum(v.mean() for v in value)
            else:
                raise TypeError(f'{name} is not a tensor or list of tensors')
        loss = sum(v for k, v in log_vars.items() if 'loss' in k)
        log_vars['loss'] = loss
        for name, value in log_vars.items():
            if dist.is_available() and dist.is_initialized():
                value = value.data.clone()
                dist.all_reduce(value.div_(dist.get_world_size()))
            log_vars[name] = value.item()
        return loss, log_vars

    def show_result(self, img, result, palette=None, win_name='', show=False, wait_time=0,
                    out_file=None, opacity=0.5):
        """Draw the prediction ``result[0]`` (H×W class ids) over ``img`` (path or BGR array).

        Returns the drawn BGR image when neither shown nor written.
        """
        from mmseg.utils.visualization import draw_segmentation, random_palette
        img = mmcv.imread(img).copy()
        seg = result[0]
        if palette is None:
            palette = getattr(self, 'PALETTE', None)
        if palette is None:
            palette = random_palette(len(self.CLASSES))
        img = draw_segmentation(img, seg, palette, opacity)
        if show:
            mmcv.imshow(img, win_name, wait_time)
        if out_file is not None:
            mmcv.imwrite(img, out_file)
        if not (show or out_file):
            return img
