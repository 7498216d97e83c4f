"""ProCST image translation (SPEC-more-uda.md §4): per-level generators and critics, the
coarse-to-fine translator pair, WGAN-GP, L1 cycle, style/content/TV and label losses."""
from .builder import TRANSLATION, build_translation
from .cycle_loss import cycle_loss
from .gradient_penalty import gradient_penalty
from .label_cycle_loss import LabelCycleLoss
from .procst_critic import ProCSTCritic
from .procst_generator import ProCSTGenerator
from .procst_translator import ProCSTTranslator, image_pyramid
from .random_conv_features import RandomConvFeatures
from .segmentor_features import SegmentorFeatures
from .sit_segmentor import SiTSegmentor
from .style_content_loss import StyleContentLoss, gram, tv_loss
from .vgg16_features import VGG16Features

__all__ = ['TRANSLATION', 'build_translation', 'cycle_loss', 'gradient_penalty',
           'LabelCycleLoss', 'ProCSTCritic', 'ProCSTGenerator', 'ProCSTTranslator',
           'image_pyramid', 'RandomConvFeatures', 'SegmentorFeatures', 'SiTSegmentor',
           'StyleContentLoss', 'gram', 'tv_loss', 'VGG16Features']
