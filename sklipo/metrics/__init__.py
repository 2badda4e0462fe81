"""Per-class metrics, scorers, fold-averaged confusion matrices and their plots."""

# License: BSD 3 clause

from sklipo.metrics._confusion import fold_confusion_matrices, mean_confusion_matrix
from sklipo.metrics._display import FoldConfusionMatrixDisplay, PerClassScoreDisplay
from sklipo.metrics._per_class import per_class_metrics
from sklipo.metrics._scorers import per_class_scorers

__all__ = [
    "FoldConfusionMatrixDisplay",
    "PerClassScoreDisplay",
    "fold_confusion_matrices",
    "mean_confusion_matrix",
    "per_class_metrics",
    "per_class_scorers",
]
