"""ResNeXt encoders (Xie et al. 2017): ResNet bottlenecks with a grouped 3×3 conv."""
from mmseg.models.builder import BACKBONES

from .resnet import Bottleneck, ResNet


@BACKBONES.register_module()
class ResNeXt(ResNet):
    """ResNeXt-``depth``-``groups``×``base_width``d (e.g. ResNeXt-101-32×4d).

    The 3×3 conv of a stage with ``planes`` has ``floor(planes · base_width /
    base_channels) · groups`` channels in ``groups`` groups (ResNeXt-50-32×4d, first
    stage: 128 channels). Plain 7×7 stem; other arguments as :class:`ResNet`.
    """

    arch_settings = {
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }
    zero_init_applies = False

    def __init__(self, groups=1, base_width=4, **kwargs):
        self.groups = groups
        self.base_width = base_width
        super().__init__(**kwargs)

    def block_args(self):
        return dict(groups=self.groups, base_width=self.base_width,
                    base_channels=self.base_channels)
