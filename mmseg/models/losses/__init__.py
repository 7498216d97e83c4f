from .accuracy import Accuracy, accuracy
from .cross_entropy_loss import CrossEntropyLoss, cross_entropy
from .logit_adjusted_cross_entropy_loss import LogitAdjustedCrossEntropyLoss

__all__ = ['accuracy', 'Accuracy', 'cross_entropy', 'CrossEntropyLoss',
           'LogitAdjustedCrossEntropyLoss']
