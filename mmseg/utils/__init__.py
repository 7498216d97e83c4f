from .logger import get_root_logger
from .registry import build_with_suggestion, closest_names, make_registry

__all__ = ['get_root_logger', 'build_with_suggestion', 'closest_names', 'make_registry']
