"""Tests of per-fold and fold-averaged confusion matrices."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_validate

from sklipo.metrics import fold_confusion_matrices, mean_confusion_matrix

X, Y = make_classification(
    n_samples=200, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1], random_state=0
)
CV = StratifiedKFold(5, shuffle=True, random_state=0)


def test_fold_confusion_matrices_from_cross_val_predict():
    """Check that the per-fold matrices sum to the matrix of all predictions."""
    predicted = cross_val_predict(LogisticRegression(max_iter=1000), X, Y, cv=CV)
    folds = [test for _, test in CV.split(X, Y)]
    matrices = fold_confusion_matrices(Y, predicted, folds)
    assert matrices.shape == (5, 3, 3)
    np.testing.assert_array_equal(matrices.sum(axis=0), confusion_matrix(Y, predicted))
    np.testing.assert_array_equal(matrices.sum(axis=(1, 2)), [len(t) for t in folds])


def test_fold_confusion_matrices_from_cross_validate_estimators():
    """Check the per-fold-predictions form with a cross_validate result, no refit."""
    result = cross_validate(
        LogisticRegression(max_iter=1000), X, Y, cv=CV, return_estimator=True, return_indices=True
    )
    tests = result["indices"]["test"]
    per_fold = [est.predict(X[t]) for est, t in zip(result["estimator"], tests)]
    matrices = fold_confusion_matrices(Y, per_fold, result, labels=[0, 1, 2])
    predicted = cross_val_predict(LogisticRegression(max_iter=1000), X, Y, cv=CV)
    np.testing.assert_array_equal(matrices, fold_confusion_matrices(Y, predicted, tests))


def test_mean_confusion_matrix_raw_and_normalised():
    """Check the raw mean and the mean of row-normalised matrices by hand."""
    matrices = np.array([[[3, 1], [0, 2]], [[4, 0], [1, 1]]])
    mean, std = mean_confusion_matrix(matrices)
    np.testing.assert_allclose(mean, [[3.5, 0.5], [0.5, 1.5]])
    np.testing.assert_allclose(std, [[0.5, 0.5], [0.5, 0.5]])
    mean, _ = mean_confusion_matrix(matrices, normalize="true")
    np.testing.assert_allclose(mean, [[0.875, 0.125], [0.25, 0.75]])
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)


def test_mean_confusion_matrix_skips_failed_and_absent():
    """Check that NaN folds are dropped and absent-class rows do not count."""
    matrices = np.array(
        [[[2, 0], [0, 0]], [[1, 1], [1, 1]], np.full((2, 2), np.nan)], dtype=float
    )
    mean, _ = mean_confusion_matrix(matrices, normalize="true")
    np.testing.assert_allclose(mean, [[0.75, 0.25], [0.5, 0.5]])
    mean, _ = mean_confusion_matrix(matrices)
    np.testing.assert_allclose(mean, [[1.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize(
    "y_pred, folds, match",
    [
        (Y[:10], [np.arange(5)], "one prediction per sample"),
        ([Y[:5]], [np.arange(5), np.arange(5, 10)], "predictions of 1 folds"),
        ([Y[:4]], [np.arange(5)], "Fold 0 has 5 test samples but 4"),
        (Y, {"test_score": [1.0]}, "return_indices=True"),
        (Y, [], "no fold"),
    ],
)
def test_fold_confusion_matrices_bad_input(y_pred, folds, match):
    """Check the errors on predictions that do not fit the folds."""
    with pytest.raises(ValueError, match=match):
        fold_confusion_matrices(Y, y_pred, folds)


def test_mean_confusion_matrix_bad_input():
    """Check the errors on a wrong shape and on all-failed folds."""
    with pytest.raises(ValueError, match="n_folds, n_classes, n_classes"):
        mean_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="nothing to average"):
        mean_confusion_matrix(np.full((2, 2, 2), np.nan))
