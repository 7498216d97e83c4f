"""Registry building with helpful errors: an unknown ``type`` suggests the closest name."""
import difflib

from mmcv.utils import Registry, build_from_cfg


def closest_names(name, candidates, n=3):
    """Return up to ``n`` registered names that look like ``name``."""
    return difflib.get_close_matches(str(name), list(candidates), n=n, cutoff=0.5)


def build_with_suggestion(cfg, registry, default_args=None):
    """``mmcv.build_from_cfg`` that names the closest registered types on a typo."""
    if isinstance(cfg, dict) and isinstance(cfg.get('type'), str) \
            and registry.get(cfg['type']) is None:
        suggestions = closest_names(cfg['type'], registry.module_dict)
        hint = f' Did you mean {", ".join(repr(s) for s in suggestions)}?' \
            if suggestions else ''
        raise KeyError(
            f"Unknown {registry.name} type '{cfg['type']}' in config {dict(cfg)}.{hint} "
            f'Registered: {sorted(registry.module_dict)}')
    return build_from_cfg(cfg, registry, default_args)


def make_registry(name):
    return Registry(name, build_func=build_with_suggestion)
