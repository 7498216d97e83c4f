from .advseg import AdvSeg
from .dacs import DACS
from .ema_teacher import EMATeacher
from .masking_consistency_module import MaskingConsistencyModule
from .minent import MinEnt
from .uda_decorator import UDADecorator

__all__ = ['AdvSeg', 'DACS', 'EMATeacher', 'MaskingConsistencyModule', 'MinEnt',
           'UDADecorator']
