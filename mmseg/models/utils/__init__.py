from .aspp import ASPPModule, ASPPWrapper
from .embed import MLP
from .fusion_layers import build_layer
from .interlaced_attention import ISALayer, RelationBlock

__all__ = ['ASPPModule', 'ASPPWrapper', 'MLP', 'build_layer', 'ISALayer', 'RelationBlock']
