"""Tests of the matplotlib displays."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sklipo.metrics import (
    FoldConfusionMatrixDisplay,
    PerClassScoreDisplay,
    fold_confusion_matrices,
    mean_confusion_matrix,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

X, Y = make_classification(n_samples=150, n_classes=3, n_informative=4, random_state=0)
CV = StratifiedKFold(3, shuffle=True, random_state=0)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_fold_confusion_matrix_display_from_estimator_cv():
    """Check that from_estimator with cv shows the fold-averaged normalised matrix."""
    display = FoldConfusionMatrixDisplay.from_estimator(
        LogisticRegression(max_iter=1000), X, Y, cv=CV, normalize="true",
        display_labels=["a", "b", "c"],
    )
    predicted = cross_val_predict(LogisticRegression(max_iter=1000), X, Y, cv=CV)
    folds = [test for _, test in CV.split(X, Y)]
    mean, std = mean_confusion_matrix(fold_confusion_matrices(Y, predicted, folds), normalize="true")
    np.testing.assert_allclose(display.confusion_matrix, mean)
    assert display.text_[0, 0].get_text() == f"{mean[0, 0]:.2f}\n± {std[0, 0]:.2f}"
    assert [t.get_text() for t in display.ax_.get_xticklabels()] == ["a", "b", "c"]


def test_fold_confusion_matrix_display_from_fitted_estimator():
    """Check that without cv a fitted estimator predicts X, one matrix, no spread."""
    model = LogisticRegression(max_iter=1000).fit(X, Y)
    display = FoldConfusionMatrixDisplay.from_estimator(model, X, Y, values_format=".0f")
    assert display.std is None
    assert display.confusion_matrix.sum() == len(Y)


def test_fold_confusion_matrix_display_rejects_unfitted_or_regressor():
    """Check the errors for a regressor and for an unfitted estimator without cv."""
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="not a classifier"):
        FoldConfusionMatrixDisplay.from_estimator(LinearRegression(), X, Y)
    with pytest.raises(NotFittedError):
        FoldConfusionMatrixDisplay.from_estimator(LogisticRegression(), X, Y)


def test_per_class_score_display_bars():
    """Check one bar group per model with the given heights."""
    scores = np.array([[0.9, 0.5, 0.2], [0.8, 0.6, 0.4]])
    display = PerClassScoreDisplay(
        scores, errors=np.full((2, 3), 0.05), model_names=["cnn", "svm"],
        class_names=["full", "uncertain", "empty"],
    ).plot(title="F1")
    assert len(display.bars_) == 2
    np.testing.assert_allclose([b.get_height() for b in display.bars_[1]], scores[1])
    assert display.ax_.get_title() == "F1"


def test_per_class_score_display_shape_mismatch():
    """Check the error when scores do not match the names."""
    with pytest.raises(ValueError, match="expected"):
        PerClassScoreDisplay([[0.5, 0.5]], model_names=["a", "b"], class_names=["x", "y"]).plot()
