"""Registry building with helpful errors: an unknown ``type`` or an unknown config key
names the closest valid ones."""
import difflib
import inspect

from mmcv.utils import Registry, build_from_cfg


def closest_names(name, candidates, n=3):
    """Return up to ``n`` names from ``candidates`` that look like ``name``."""
    return difflib.get_close_matches(str(name), list(candidates), n=n, cutoff=0.5)


def _did_you_mean(name, candidates):
    suggestions = closest_names(name, candidates)
    return f' Did you mean {", ".join(repr(s) for s in suggestions)}?' if suggestions else ''


def accepted_keys(obj_cls):
    """Keyword names ``obj_cls`` accepts (across its MRO while ``**kwargs`` is forwarded),
    or None when any key is accepted."""
    names = set()
    for klass in inspect.getmro(obj_cls) if inspect.isclass(obj_cls) else [obj_cls]:
        init = klass.__init__ if inspect.isclass(obj_cls) else klass
        if init is object.__init__:
            break
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names.update(p.name for p in params
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
        if getattr(klass, 'ACCEPTS_ANY_KEYS', False):
            return None
    return None


def check_config_keys(cfg, obj_cls, registry_name):
    """Raise a TypeError naming the unknown keys of ``cfg`` and their closest valid ones."""
    valid = accepted_keys(obj_cls)
    if valid is None:
        return
    unknown = [k for k in cfg if k != 'type' and k not in valid]
    if unknown:
        details = '; '.join(f"'{k}'.{_did_you_mean(k, valid)}" for k in unknown)
        raise TypeError(f"Unknown key(s) in the {registry_name} config of type "
                        f"'{cfg['type']}': {details} Valid keys: {sorted(valid - {'self'})}")


def build_with_suggestion(cfg, registry, default_args=None):
    """``mmcv.build_from_cfg`` that names the closest registered types / keys on a typo."""
    if isinstance(cfg, dict) and isinstance(cfg.get('type'), str):
        obj_cls = registry.get(cfg['type'])
        if obj_cls is None:
            raise KeyError(
                f"Unknown {registry.name} type '{cfg['type']}' in config {dict(cfg)}."
                f"{_did_you_mean(cfg['type'], registry.module_dict)} "
                f'Registered: {sorted(registry.module_dict)}')
        merged = dict(cfg)
        for key, value in (default_args or {}).items():
            merged.setdefault(key, value)
        check_config_keys(merged, obj_cls, registry.name)
    return build_from_cfg(cfg, registry, default_args)


def make_registry(name):
    return Registry(name, build_func=build_with_suggestion)
