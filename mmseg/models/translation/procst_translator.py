"""ProCST's coarse-to-fine translator pair: per pyramid level a generator for each
direction (source->target 'st', target->source 'ts') and a critic for each domain
(SPEC-more-uda.md §4.2 steps 1-2)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.utils.seeded_rngs import seeded_global_rngs
from .builder import TRANSLATION
from .procst_critic import ProCSTCritic
from .procst_generator import ProCSTGenerator

DIRECTIONS = ('st', 'ts')
# The domain a direction's output lives in: its critic.
OUTPUT_DOMAIN = {'st': 'target', 'ts': 'source'}
REVERSE = {'st': 'ts', 'ts': 'st'}


def image_pyramid(image, levels, scale_factor=0.5):
    """Coarse-to-fine list of ``levels`` images, the last one ``image`` itself, level k
    resized by ``scale_factor ** (levels - 1 - k)`` (bicubic, antialiased, kept in [-1, 1]).

    Shapes: image N×C×H×W -> [N×C×round(H f^(L-1))×round(W f^(L-1)), ..., N×C×H×W].
    """
    height, width = image.shape[-2:]
    pyramid = []
    for k in range(levels - 1):
        factor = scale_factor ** (levels - 1 - k)
        size = (max(1, round(height * factor)), max(1, round(width * factor)))
        pyramid.append(F.interpolate(image, size=size, mode='bicubic', align_corners=False,
                                     antialias=True).clamp(-1, 1))
    return pyramid + [image]


def upsample_to(image, size):
    """The output of a level as the next level's input: bicubic with align_corners
    (official ``imresize_torch``) straight to the next level's size."""
    return F.interpolate(image, size=tuple(size), mode='bicubic', align_corners=True)


@TRANSLATION.register_module()
class ProCSTTranslator(nn.Module):
    """Generators G_st/G_ts and critics D_target/D_source for levels 0..num_scales.

    Args:
        num_scales (int): levels above the coarsest (official ``num_scales``; 2 -> 3 levels).
        scale_factor (float): size ratio between neighbouring levels.
        base_channels (list[int]): block width per level.
        body_layers (int): official count of layers: levels below ``num_scales - 1`` have
            ``body_layers - 2`` body blocks, the others ``body_layers`` (3 / 5 / 5).
        images_per_gpu (list[int]): batch size per level (chooses BatchNorm/GroupNorm).
        groups (int), kernel_size (int): block settings.
        seed (int): each level's weights are drawn from ``(seed, level)`` only, so a run
            that resumes at a later level builds the same networks.
    """

    def __init__(self, num_scales=2, scale_factor=0.5, base_channels=(64, 64, 64),
                 body_layers=5, images_per_gpu=(32, 16, 3), groups=8, kernel_size=3, seed=0):
        super().__init__()
        levels = num_scales + 1
        for key, value in (('base_channels', base_channels),
                           ('images_per_gpu', images_per_gpu)):
            if len(value) != levels:
                raise ValueError(f'ProCSTTranslator: {key} needs one value per level '
                                 f'({levels} for num_scales={num_scales}), got {list(value)}')
        self.num_scales = num_scales
        self.scale_factor = scale_factor
        self.generators = nn.ModuleDict({d: nn.ModuleList() for d in DIRECTIONS})
        self.critics = nn.ModuleDict({d: nn.ModuleList() for d in ('target', 'source')})
        for level in range(levels):
            body = body_layers - 2 if level < num_scales - 1 else body_layers
            common = dict(channels=base_channels[level], body_blocks=body,
                          images_per_gpu=images_per_gpu[level], groups=groups,
                          kernel_size=kernel_size)
            with seeded_global_rngs((seed, level)):
                for d in DIRECTIONS:
                    self.generators[d].append(ProCSTGenerator(level, **common))
                for domain in ('target', 'source'):
                    self.critics[domain].append(ProCSTCritic(**common))

    @property
    def levels(self):
        return self.num_scales + 1

    def pyramid(self, image, scale=None):
        """The input pyramid of levels 0..``scale`` (default: all) of ``image``, which is at
        the resolution of level ``scale``."""
        scale = self.num_scales if scale is None else scale
        return image_pyramid(image, scale + 1, self.scale_factor)

    def level_modules(self, level):
        return [self.generators[d][level] for d in DIRECTIONS] + \
            [self.critics[domain][level] for domain in ('target', 'source')]

    def freeze_below(self, scale):
        """Levels below ``scale`` frozen (no gradients, eval-mode norms): the coarse-to-fine
        schedule trains one level at a time."""
        for level in range(self.levels):
            for module in self.level_modules(level):
                module.requires_grad_(level >= scale)
                if level < scale:
                    module.eval()

    def translate(self, pyramid, direction, scale=None):
        """Translate through levels 0..``scale`` (default: the last of ``pyramid``); the
        levels below ``scale`` run without gradients (frozen).

        Args:
            pyramid (list[Tensor]): the input pyramid, coarse to fine, N×3×h_k×w_k.
            direction (str): 'st' or 'ts'.
        Returns:
            Tensor: N×3×h_scale×w_scale in [-1, 1].
        """
        scale = len(pyramid) - 1 if scale is None else scale
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        previous = None
        with torch.no_grad():
            for level in range(scale):
                previous = self._level(pyramid, direction, level, previous)
        return self._level(pyramid, direction, scale, previous)

    def _level(self, pyramid, direction, level, previous):
        if previous is not None:
            previous = upsample_to(previous, pyramid[level].shape[-2:])
        return self.generators[direction][level](pyramid[level], previous)

    def cycle(self, pyramid, direction, scale=None):
        """(translated, reconstructed): ``pyramid`` through ``direction`` and back, the way
        back starting from the pyramid of the translated image (official
        ``cycle_consistency_loss``). Both N×3×h_scale×w_scale."""
        scale = len(pyramid) - 1 if scale is None else scale
        translated = self.translate(pyramid, direction, scale)
        back = self.translate(self.pyramid(translated, scale), REVERSE[direction], scale)
        return translated, back

    def critic(self, domain, level):
        return self.critics[domain][level]
