"""Per-class metrics, scorers, fold-averaged confusion matrices and their plots."""

# License: BSD 3 clause

from sklipo.metrics._calibration import ReliabilityDisplay, expected_calibration_error
from sklipo.metrics._confusion import fold_confusion_matrices, mean_confusion_matrix
from sklipo.metrics._detection import (
    box_iou,
    detection_f1_score,
    detection_scores,
    match_boxes,
)
from sklipo.metrics._display import FoldConfusionMatrixDisplay, PerClassScoreDisplay
from sklipo.metrics._per_class import (
    METRICS,
    check_target_names,
    metrics_from_confusion,
    per_class_metrics,
)
from sklipo.metrics._scorers import per_class_scorers

__all__ = [
    "FoldConfusionMatrixDisplay",
    "METRICS",
    "PerClassScoreDisplay",
    "ReliabilityDisplay",
    "box_iou",
    "check_target_names",
    "detection_f1_score",
    "detection_scores",
    "expected_calibration_error",
    "fold_confusion_matrices",
    "match_boxes",
    "mean_confusion_matrix",
    "metrics_from_confusion",
    "per_class_metrics",
    "per_class_scorers",
]
