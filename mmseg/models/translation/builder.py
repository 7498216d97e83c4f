"""The registry of the image-translation components (ProCST, SPEC-more-uda.md §4)."""
from mmseg.utils.registry import make_registry

TRANSLATION = make_registry('translation')


def build_translation(cfg, default_args=None):
    return TRANSLATION.build(cfg, default_args=default_args)
