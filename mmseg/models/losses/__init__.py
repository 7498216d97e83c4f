from .accuracy import Accuracy, accuracy
from .cross_entropy_loss import CrossEntropyLoss, cross_entropy

__all__ = ['accuracy', 'Accuracy', 'cross_entropy', 'CrossEntropyLoss']
