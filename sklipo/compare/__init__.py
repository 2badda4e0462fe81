"""Cross-validate several models on the same folds, side by side."""

# License: BSD 3 clause

from sklipo.compare._compare import compare
from sklipo.compare._result import ComparisonResult

__all__ = ["ComparisonResult", "compare"]
