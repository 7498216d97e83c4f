from .class_names import get_classes, get_palette
from .eval_hooks import DistEvalHook, EvalHook
from .metrics import eval_metrics, intersect_and_union, mean_iou, pre_eval_to_metrics

__all__ = ['EvalHook', 'DistEvalHook', 'eval_metrics', 'intersect_and_union', 'mean_iou',
           'pre_eval_to_metrics', 'get_classes', 'get_palette']
