from .advseg import AdvSeg
from .cond_advseg import CondAdvSeg
from .cpsl import CPSL
from .dacs import DACS
from .ema_teacher import EMATeacher
from .label_shift_cr import LabelShiftCR
from .masking_consistency_module import MaskingConsistencyModule
from .minent import MinEnt
from .ripu import RIPU
from .uda_decorator import UDADecorator

__all__ = ['AdvSeg', 'CondAdvSeg', 'CPSL', 'DACS', 'EMATeacher', 'LabelShiftCR',
           'MaskingConsistencyModule', 'MinEnt', 'RIPU', 'UDADecorator']
