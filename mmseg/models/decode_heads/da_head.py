"""DANet head (Fu et al. 2019): position and channel attention, mmseg 0.x layout."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, Scale

from mmseg.models.builder import HEADS
from mmseg.models.segmentors.encoder_decoder import add_prefix

from .decode_head import BaseDecodeHead


class PAM(nn.Module):
    """Position attention: each pixel attends to all pixels,
    ``x + γ · softmax(qᵀk) v`` with 1×1 conv projections (query/key to ``channels``,
    value keeps ``in_channels``) and a learnable scalar ``gamma`` starting at 0.
    x: N×C×H×W → N×C×H×W."""

    def __init__(self, in_channels, channels):
        super().__init__()
        self.key_project = nn.Conv2d(in_channels, channels, 1)
        self.query_project = nn.Conv2d(in_channels, channels, 1)
        self.value_project = nn.Conv2d(in_channels, in_channels, 1)
        self.gamma = Scale(0)

    def forward(self, x):
        n, c = x.shape[:2]
        query = self.query_project(x).flatten(2).transpose(1, 2)   # N×HW×c'
        key = self.key_project(x).flatten(2)                        # N×c'×HW
        value = self.value_project(x).flatten(2).transpose(1, 2)   # N×HW×C
        sim = F.softmax(torch.matmul(query, key), dim=-1)          # no 1/√c scaling (DANet)
        context = torch.matmul(sim, value).transpose(1, 2).reshape(n, c, *x.shape[2:])
        return self.gamma(context) + x


class CAM(nn.Module):
    """Channel attention: ``x + γ · softmax(max(E) − E) x`` with the channel Gram matrix
    ``E = x xᵀ`` and a learnable scalar ``gamma`` starting at 0. x: N×C×H×W → N×C×H×W."""

    def __init__(self):
        super().__init__()
        self.gamma = Scale(0)

    def forward(self, x):
        n, c, h, w = x.size()
        flat = x.view(n, c, -1)
        energy = torch.bmm(flat, flat.permute(0, 2, 1))
        energy = torch.max(energy, -1, keepdim=True)[0].expand_as(energy) - energy
        attention = F.softmax(energy, dim=-1)
        out = torch.bmm(attention, flat).view(n, c, h, w)
        return self.gamma(out) + x


@HEADS.register_module()
class DAHead(BaseDecodeHead):
    """Dual attention: PAM and CAM branches (3×3 ``*_in_conv`` → attention → 3×3
    ``*_out_conv``), each with its own classifier (``pam_conv_seg`` / ``cam_conv_seg``); their
    feature sum goes through ``conv_seg``.

    Training: ``forward`` returns (pam_cam, pam, cam) logits, losses are prefixed
    ``pam_cam.``, ``pam.``, ``cam.``; test: only the fused ``pam_cam`` logits.

    Args:
        pam_channels (int): query/key channels of the position attention.
    """

    def __init__(self, pam_channels, **kwargs):
        super().__init__(**kwargs)
        self.pam_channels = pam_channels
        conv_args = dict(padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                         act_cfg=self.act_cfg)
        self.pam_in_conv = ConvModule(self.in_channels, self.channels, 3, **conv_args)
        self.pam = PAM(self.channels, pam_channels)
        self.pam_out_conv = ConvModule(self.channels, self.channels, 3, **conv_args)
        self.pam_conv_seg = nn.Conv2d(self.channels, self.num_classes, kernel_size=1)
        self.cam_in_conv = ConvModule(self.in_channels, self.channels, 3, **conv_args)
        self.cam = CAM()
        self.cam_out_conv = ConvModule(self.channels, self.channels, 3, **conv_args)
        self.cam_conv_seg = nn.Conv2d(self.channels, self.num_classes, kernel_size=1)

    def _classify(self, conv_seg, feat):
        if self.dropout is not None:
            feat = self.dropout(feat)
        return conv_seg(feat)

    def forward(self, inputs):
        """inputs: features → (pam_cam, pam, cam) logits, each N×num_classes×H×W."""
        x = self._transform_inputs(inputs)
        # order of the (dropout) calls as in mmseg 0.x: pam, cam, then the fused output
        pam_feat = self.pam_out_conv(self.pam(self.pam_in_conv(x)))
        pam_out = self._classify(self.pam_conv_seg, pam_feat)
        cam_feat = self.cam_out_conv(self.cam(self.cam_in_conv(x)))
        cam_out = self._classify(self.cam_conv_seg, cam_feat)
        return self.cls_seg(pam_feat + cam_feat), pam_out, cam_out

    def forward_test(self, inputs, img_metas, test_cfg):
        return self.forward(inputs)[0]

    def losses(self, seg_logit, seg_label, seg_weight=None):
        """CE + accuracy of each of the three outputs (``pam_cam.``, ``pam.``, ``cam.``)."""
        losses = dict()
        for name, logit in zip(('pam_cam', 'pam', 'cam'), seg_logit):
            losses.update(add_prefix(super().losses(logit, seg_label, seg_weight), name))
        return losses
