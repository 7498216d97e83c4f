from .dacs import DACS
from .ema_teacher import EMATeacher
from .masking_consistency_module import MaskingConsistencyModule
from .uda_decorator import UDADecorator

__all__ = ['DACS', 'EMATeacher', 'MaskingConsistencyModule', 'UDADecorator']
