"""Chain data transforms."""
import collections.abc

from ..builder import PIPELINES


@PIPELINES.register_module()
class Compose:
    """Apply transforms in order.

    Args:
        transforms (Sequence[dict | callable]): transform configs (built from
            ``PIPELINES``) or callables ``results dict -> results dict``.
    """

    def __init__(self, transforms):
        if not isinstance(transforms, collections.abc.Sequence):
            raise TypeError(f'pipeline must be a list of transforms, got {type(transforms)}')
        self.transforms = []
        for transform in transforms:
            if isinstance(transform, dict):
                self.transforms.append(PIPELINES.build(transform))
            elif callable(transform):
                self.transforms.append(transform)
            else:
                raise TypeError(f'pipeline entry must be a config dict or a callable, got '
                                f'{transform!r}')

    def __call__(self, data):
        """Run the transforms; a transform returning None stops the chain (→ None)."""
        for t in self.transforms:
            data = t(data)
            if data is None:
                return None
        return data

    def __repr__(self):
        body = ''.join(f'\n    {t}' for t in self.transforms)
        return f'{self.__class__.__name__}({body}\n)'
