"""DeepLabV2 classifier (Chen et al. 2017) as used by DAFormer/HRDA/MIC."""
from mmseg.models.builder import HEADS
from mmseg.models.utils.aspp import ASPPModule

from .decode_head import BaseDecodeHead

FIXED_ARGS = dict(channels=1, dropout_ratio=0, norm_cfg=None)


@HEADS.register_module()
class DLV2Head(BaseDecodeHead):
    """ASPP classifier: the SUM of parallel dilated 3×3 convs (with bias, no norm or
    activation) from ``in_channels`` straight to ``num_classes``.

    ``dilations=(6, 12, 18, 24)`` is DeepLabV2; the 'red' (reduced) variant of the
    experiments uses ``(6, 12)``. The head has no ``conv_seg`` (deleted), no dropout; its
    ``channels`` / ``dropout_ratio`` / ``norm_cfg`` are fixed and must not be configured.
    State dict: ``aspp_modules.{i}.conv.weight/bias``.
    """

    def __init__(self, dilations=(6, 12, 18, 24), **kwargs):
        given = sorted(k for k in FIXED_ARGS if k in kwargs)
        if given:
            raise ValueError(f'DLV2Head: {given} are fixed by the DeepLabV2 classifier '
                             f'({FIXED_ARGS}); remove them from the config')
        if not isinstance(dilations, (list, tuple)):
            raise TypeError(f'DLV2Head: dilations must be a list/tuple, got {dilations!r}')
        super().__init__(**FIXED_ARGS, **kwargs)
        del self.conv_seg
        self.dilations = dilations
        self.aspp_modules = ASPPModule(dilations, self.in_channels, self.num_classes,
                                       conv_cfg=self.conv_cfg, norm_cfg=None, act_cfg=None)

    def forward(self, inputs):
        """inputs: backbone features; the selected one N×in_channels×H×W → logits
        N×num_classes×H×W."""
        x = self._transform_inputs(inputs)
        branches = self.aspp_modules(x)
        out = branches[0]
        for branch in branches[1:]:
            out = out + branch
        return out
