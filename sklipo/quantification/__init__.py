"""Population answers: class shares with intervals, prediction sets, calibration."""

# License: BSD 3 clause

from sklipo.quantification._conformal import (
    ConformalClassifier,
    class_coverage,
    label_prediction_sets,
)
from sklipo.quantification._prevalence import PrevalenceEstimator
from sklipo.quantification._result import PrevalenceResult
from sklipo.quantification._solvers import solve_adjusted
from sklipo.quantification._temperature import apply_temperature, fit_temperature

__all__ = [
    "ConformalClassifier",
    "PrevalenceEstimator",
    "PrevalenceResult",
    "apply_temperature",
    "class_coverage",
    "fit_temperature",
    "label_prediction_sets",
    "solve_adjusted",
]
