"""A download-free stand-in for VGG16 in ProCST's style/content loss: the encoder of a
segmentor trained on the source (SynthShift)."""
from .builder import TRANSLATION
from .frozen_module import FrozenModule
from .segmentor_io import build_config_segmentor, freeze, normalize_for_segmentor

MIN_SIZE = 32  # the total stride of this codebase's encoders (MiT, ResNet)


@TRANSLATION.register_module()
class SegmentorFeatures(FrozenModule):
    """The frozen backbone of a trained segmentor of this codebase; its stage k's output is
    named ``layers[k]`` (VGG16's names, so that a config only swaps the type). Unlike
    random conv features, trained features tell classes apart, so the content loss
    penalises a translation that gives a class another class's look; they are not
    ImageNet features.

    Args:
        config (str): training config of the segmentor (its ``model``, ``img_norm_cfg``).
        checkpoint (str): its trained weights.
        layers (list[str]): one name per backbone stage, shallow to deep.
    Shapes: image N×3×H×W in [-1, 1] -> {name: N×C_k×H/s_k×W/s_k} (the stage strides).
    """

    STAND_IN = "the frozen encoder of a segmentor trained on the source"

    def __init__(self, config, checkpoint,
                 layers=('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3')):
        super().__init__()
        segmentor, self.img_norm_cfg = build_config_segmentor(
            config, checkpoint, 'SegmentorFeatures (style_loss.feature_extractor)')
        self.backbone = freeze(segmentor.backbone)
        self.layers = list(layers)

    def forward(self, image):
        if min(image.shape[-2:]) < MIN_SIZE:
            raise ValueError(f'SegmentorFeatures: a {image.shape[-2]}x{image.shape[-1]} image '
                             f'is below the {MIN_SIZE} px per side its encoder needs (total '
                             'stride 32); make the coarsest pyramid level at least that large')
        stages = self.backbone(normalize_for_segmentor(image, self.img_norm_cfg))
        if len(stages) != len(self.layers):
            raise ValueError(f'SegmentorFeatures: the backbone gives {len(stages)} stages, '
                             f'the config names {len(self.layers)} layers {self.layers}')
        return dict(zip(self.layers, stages))
