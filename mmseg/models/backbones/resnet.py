"""ResNet encoders (He et al. 2016) with the mmseg 0.x options and state-dict names.

``ResNetV1c`` replaces the 7×7 stem by three 3×3 convs (``stem.0/1/3/4/6/7``), ``ResNetV1d``
adds the average-pool shortcut (``avg_down``). The DeepLab configs use them dilated:
``strides=(1, 2, 1, 1)``, ``dilations=(1, 1, 2, 4)`` → output stride 8.
"""
import json
import os
import re

import mmcv
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer, constant_init, kaiming_init
from mmcv.runner import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.models.builder import BACKBONES
from mmseg.models.utils.res_layer import ResLayer
from mmseg.utils import get_root_logger
from mmseg.utils.checkpoint import extract_state_dict, load_state_dict_checked, load_weights_file

PRETRAINED_DIR = 'pretrained'


def _check_supported(dcn, plugins):
    if dcn is not None:
        raise NotImplementedError(
            f'ResNet: deformable convolutions (dcn={dcn}) need the compiled mmcv ops, which '
            'this package does not use; set dcn=None')
    if plugins is not None:
        raise NotImplementedError(f'ResNet: block plugins are not supported, got {plugins}')


class ResidualBlock(BaseModule):
    """``relu(branch(x) + shortcut(x))``; the shortcut is ``downsample`` or the identity.
    ``with_cp`` recomputes the block in the backward pass (saves memory)."""

    def _branch(self, x):
        raise NotImplementedError

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    @property
    def norm2(self):
        return getattr(self, self.norm2_name)

    def _residual(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return self._branch(x) + identity

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3×3 convs + identity (ResNet-18/34). x: N×inplanes×H×W → N×planes×H/s×W/s."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, style='pytorch',
                 with_cp=False, conv_cfg=None, norm_cfg=dict(type='BN'), dcn=None, plugins=None,
                 init_cfg=None):
        super().__init__(init_cfg)
        _check_supported(dcn, plugins)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 3, stride=stride,
                                      padding=dilation, dilation=dilation, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation
        self.with_cp = with_cp

    def _branch(self, x):
        return self.norm2(self.conv2(self.relu(self.norm1(self.conv1(x)))))


class Bottleneck(ResidualBlock):
    """1×1 reduce → 3×3 (dilated, grouped) → 1×1 expand (×4) + identity.

    ``style='pytorch'`` puts the stride on the 3×3 conv, ``'caffe'`` on the first 1×1.
    The 3×3 conv has ``width`` channels: ``planes``, or for ResNeXt (``groups`` > 1)
    ``floor(planes · base_width / base_channels) · groups``.
    x: N×inplanes×H×W → N×(4·planes)×H/s×W/s.
    """

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None, style='pytorch',
                 with_cp=False, conv_cfg=None, norm_cfg=dict(type='BN'), dcn=None, plugins=None,
                 groups=1, base_width=4, base_channels=64, init_cfg=None):
        super().__init__(init_cfg)
        _check_supported(dcn, plugins)
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"Bottleneck: style must be 'pytorch' or 'caffe', got {style!r}")
        self.inplanes = inplanes
        self.planes = planes
        self.stride = stride
        self.dilation = dilation
        self.style = style
        self.with_cp = with_cp
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.conv1_stride, self.conv2_stride = (1, stride) if style == 'pytorch' else (stride, 1)
        width = planes if groups == 1 else (planes * base_width // base_channels) * groups

        self.conv1 = build_conv_layer(conv_cfg, inplanes, width, kernel_size=1,
                                      stride=self.conv1_stride, bias=False)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, width, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.norm2_name = None
        self._make_conv2(width, groups)
        self.conv3 = build_conv_layer(conv_cfg, width, planes * self.expansion, kernel_size=1,
                                      bias=False)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, planes * self.expansion, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def _make_conv2(self, width, groups):
        """The 3×3 stage of the block: ``conv2`` + ``bn2`` here (ResNeSt replaces it)."""
        self.conv2 = build_conv_layer(self.conv_cfg, width, width, 3, stride=self.conv2_stride,
                                      padding=self.dilation, dilation=self.dilation,
                                      groups=groups, bias=False)
        self.norm2_name, norm2 = build_norm_layer(self.norm_cfg, width, postfix=2)
        self.add_module(self.norm2_name, norm2)

    def _conv2_forward(self, x):
        return self.relu(self.norm2(self.conv2(x)))

    @property
    def norm3(self):
        return getattr(self, self.norm3_name)

    def _branch(self, x):
        out = self.relu(self.norm1(self.conv1(x)))
        out = self._conv2_forward(out)
        return self.norm3(self.conv3(out))


def open_mmlab_url(name):
    """Download URL of an ``open-mmlab://name`` checkpoint (mmcv's model-zoo list), or None."""
    path = os.path.join(os.path.dirname(mmcv.__file__), 'model_zoo', 'open_mmlab.json')
    try:
        with open(path) as f:
            return json.load(f).get(name)
    except (OSError, ValueError):
        return None


def resolve_pretrained(pretrained):
    """Local file for ``pretrained``: a path as is; ``open-mmlab://name`` (or another
    ``scheme://name``) → ``pretrained/name.pth``, which must have been downloaded beforehand
    (no network access at training time). Raises FileNotFoundError saying what to download
    and where to put it."""
    match = re.match(r"^([a-z][a-z0-9+.-]*)://(.+)$", pretrained)
    if match is None:
        if not os.path.isfile(pretrained):
            raise FileNotFoundError(
                f'Pretrained backbone weights not found: {pretrained!r}. Download them (e.g. '
                'the open-mmlab ImageNet checkpoint of this backbone) to that path, or set '
                '`model.pretrained=None` to train from scratch.')
        return pretrained
    scheme, name = match.groups()
    local = os.path.join(PRETRAINED_DIR, f'{name.replace("/", "_")}.pth')
    if os.path.isfile(local):
        return local
    url = open_mmlab_url(name) if scheme == 'open-mmlab' else None
    source = f'Download {url}' if url else f'Download the {scheme} checkpoint {name!r}'
    raise FileNotFoundError(
        f'Pretrained backbone weights {pretrained!r} need a download, which is not done '
        f'automatically (offline). {source} and save it as {local!r} (relative to the '
        'working directory), or set `model.pretrained` to the local file, or to None to '
        'train from scratch.')


@BACKBONES.register_module()
class ResNet(BaseModule):
    """ResNet backbone (mmseg 0.x options); ``forward`` returns the ``out_indices`` stages.

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        in_channels (int): image channels; stem_channels (int): stem output channels
            (the deep stem's first two convs have half of them).
        base_channels (int): width of the first stage (doubles per stage).
        num_stages (int): 1–4 stages; strides, dilations (Sequence[int]): per stage.
        out_indices (Sequence[int]): stages whose outputs are returned.
        style (str): 'pytorch' (stride on the 3×3 conv) or 'caffe' (on the first 1×1).
        deep_stem (bool): three 3×3 convs instead of the 7×7 conv (V1c).
        avg_down (bool): average-pool shortcut downsampling (V1d).
        frozen_stages (int): stem (0) and stages 1..n frozen; -1 freezes nothing.
        norm_eval (bool): keep BatchNorms in eval mode while training.
        multi_grid (Sequence[int] | None): per-block dilations of the last stage.
        contract_dilation (bool): halve the first block's dilation in dilated stages.
        with_cp (bool): gradient checkpointing of the blocks.
        zero_init_residual (bool): zero the last norm of every block in the default init.
        pretrained (str | None): file path or ``open-mmlab://name`` (see
            :func:`resolve_pretrained`).
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }
    # mmseg 0.x applied ``zero_init_residual`` only to the plain ResNet blocks (ResNeXt and
    # ResNeSt define their own block classes, which its ``block is Bottleneck`` test missed).
    zero_init_applies = True

    def __init__(self, depth, in_channels=3, stem_channels=64, base_channels=64, num_stages=4,
                 strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1), out_indices=(0, 1, 2, 3),
                 style='pytorch', deep_stem=False, avg_down=False, frozen_stages=-1,
                 conv_cfg=None, norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
                 dcn=None, stage_with_dcn=(False, False, False, False), plugins=None,
                 multi_grid=None, contract_dilation=False, with_cp=False,
                 zero_init_residual=True, pretrained=None, init_cfg=None):
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'{type(self).__name__}: invalid depth {depth}, expected one of '
                           f'{sorted(self.arch_settings)}')
        if pretrained is not None and init_cfg is not None:
            raise ValueError('ResNet: give either pretrained or init_cfg, not both')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(f'ResNet: pretrained must be a str or None, got {pretrained!r}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'ResNet: num_stages must be 1..4, got {num_stages}')
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise ValueError(f'ResNet: strides {strides} and dilations {dilations} need '
                             f'{num_stages} entries (num_stages)')
        if max(out_indices) >= num_stages:
            raise ValueError(f'ResNet: out_indices {out_indices} exceed num_stages '
                             f'{num_stages}')
        _check_supported(dcn, plugins)  # stage_with_dcn only matters with a dcn config
        self.pretrained = pretrained
        self.depth = depth
        self.stem_channels = stem_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.strides = strides
        self.dilations = dilations
        self.out_indices = out_indices
        self.style = style
        self.deep_stem = deep_stem
        self.avg_down = avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.multi_grid = multi_grid
        self.contract_dilation = contract_dilation
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        self.block, stage_blocks = self.arch_settings[depth]
        self.stage_blocks = stage_blocks[:num_stages]

        self._make_stem_layer(in_channels, stem_channels)
        self.res_layers = []
        inplanes = stem_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            res_layer = self.make_res_layer(
                block=self.block, inplanes=inplanes, planes=planes, num_blocks=num_blocks,
                stride=strides[i], dilation=dilations[i], style=style, avg_down=avg_down,
                with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                # multi-grid dilations apply to the last stage only
                multi_grid=multi_grid if i == len(self.stage_blocks) - 1 else None,
                contract_dilation=contract_dilation)
            inplanes = planes * self.block.expansion
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
        self._freeze_stages()
        self.feat_dim = inplanes

    def block_args(self):
        """Extra keyword arguments of every block (ResNeXt/ResNeSt add theirs)."""
        return {}

    def make_res_layer(self, **kwargs):
        return ResLayer(**self.block_args(), **kwargs)

    @property
    def norm1(self):
        return getattr(self, self.norm1_name)

    def _make_stem_layer(self, in_channels, stem_channels):
        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                build_conv_layer(self.conv_cfg, in_channels, half, 3, stride=2, padding=1,
                                 bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, half, 3, stride=1, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, stem_channels, 3, stride=1, padding=1,
                                 bias=False),
                build_norm_layer(self.norm_cfg, stem_channels)[1],
                nn.ReLU(inplace=True))
        else:
            self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels, 7,
                                          stride=2, padding=3, bias=False)
            self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        stem = [self.stem] if self.deep_stem else [self.conv1, self.norm1]
        return stem + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def _freeze_stages(self):
        for m in self._frozen_modules():
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def init_weights(self):
        """Load ``pretrained`` (non-strict, like mmcv's ``load_checkpoint``), else the
        mmseg 0.x default init: Kaiming (fan_out) convs, norms 1/0, last norm of each block 0
        with ``zero_init_residual``. An explicit ``init_cfg`` is applied by mmcv."""
        if isinstance(self.pretrained, str):
            self._load_pretrained()
        elif self.init_cfg is not None:
            super().init_weights()
        else:
            self._default_init()

    def _default_init(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                kaiming_init(m, mode='fan_out', nonlinearity='relu', distribution='normal')
            elif isinstance(m, (_BatchNorm, nn.GroupNorm)):
                constant_init(m, 1)
        if self.zero_init_residual and self.zero_init_applies:
            for m in self.modules():
                if isinstance(m, Bottleneck):
                    constant_init(m.norm3, 0)
                elif isinstance(m, BasicBlock):
                    constant_init(m.norm2, 0)

    def _load_pretrained(self):
        path = resolve_pretrained(self.pretrained)
        state_dict = extract_state_dict(load_weights_file(path, 'Pretrained backbone weights'))
        revised = {}
        for key, value in state_dict.items():
            key = re.sub(r'^module\.', '', key)
            revised[re.sub(r'^backbone\.', '', key)] = value
        # ImageNet checkpoints also hold the classifier ('fc.*'): loaded non-strictly
        load_state_dict_checked(self, revised, f'pretrained weights {self.pretrained!r}',
                                strict=False, logger=get_root_logger())

    def forward(self, x):
        """x: N×3×H×W → tuple of stage outputs (``out_indices``), N×C_i×H/s_i×W/s_i."""
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode=True):
        """Train mode that keeps frozen stages (and with ``norm_eval`` all BatchNorms) in
        eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self


@BACKBONES.register_module()
class ResNetV1c(ResNet):
    """ResNet-V1c: deep stem (three 3×3 convs) instead of the 7×7 conv."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=False, **kwargs)


@BACKBONES.register_module()
class ResNetV1d(ResNet):
    """ResNet-V1d: deep stem and average-pool shortcut downsampling."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=True, **kwargs)
