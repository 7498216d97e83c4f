from .aspp_head import ASPPHead
from .da_head import DAHead
from .daformer_head import DAFormerHead
from .decode_head import BaseDecodeHead
from .dlv2_head import DLV2Head
from .dlv2_proj_head import DLV2ProjHead
from .hrda_head import HRDAHead
from .isa_head import ISAHead
from .psp_head import PSPHead
from .segformer_head import SegFormerHead
from .sep_aspp_head import DepthwiseSeparableASPPHead
from .uper_head import UPerHead

__all__ = ['ASPPHead', 'BaseDecodeHead', 'DAFormerHead', 'DAHead', 'DepthwiseSeparableASPPHead',
           'DLV2Head', 'DLV2ProjHead', 'HRDAHead', 'ISAHead', 'PSPHead', 'SegFormerHead', 'UPerHead']
