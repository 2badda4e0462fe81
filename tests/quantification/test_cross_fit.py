"""Tests of cross_fit, the fold models and out-of-fold predictions behind the quantifiers."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

from sklipo.quantification._cross_fit import cross_fit, predicted_probabilities

RND_SEED = 0
X, Y = make_blobs(300, centers=3, random_state=RND_SEED)


def test_cross_fit_matches_cross_val_predict():
    """Check the predictions are cross_val_predict's and each model skipped its fold."""
    cv = StratifiedKFold(4, shuffle=True, random_state=RND_SEED)
    models, proba, folds = cross_fit(
        LogisticRegression(), X, Y, cv, predict=predicted_probabilities, n_jobs=2
    )
    expected = cross_val_predict(LogisticRegression(), X, Y, cv=cv, method="predict_proba")
    np.testing.assert_allclose(proba, expected)
    assert len(models) == 4
    for k, (_, test) in enumerate(cv.split(X, Y)):
        np.testing.assert_array_equal(np.flatnonzero(folds == k), np.sort(test))
        np.testing.assert_allclose(models[k].predict_proba(X[test]), proba[test])


def test_cross_fit_keeps_string_labels_whole():
    """Check labels of different lengths from different folds are not truncated."""
    y = np.where(Y == 0, "a", "a much longer label")
    _, labels, _ = cross_fit(
        LogisticRegression(), X, y, KFold(3), predict=lambda model, X: model.predict(X)
    )
    assert set(labels) == {"a", "a much longer label"}


def test_cross_fit_refuses_folds_that_are_not_a_partition():
    """Check folds that test a sample twice, or never, raise a clear error."""
    halves = [(np.arange(150, 300), np.arange(150)), (np.arange(100), np.arange(100, 300))]
    with pytest.raises(ValueError, match="test every training sample exactly once"):
        cross_fit(LogisticRegression(), X, Y, _Fixed(halves[:1]), predict=predicted_probabilities)
    overlapping = [(np.arange(150, 300), np.arange(160)), (np.arange(150), np.arange(150, 300))]
    with pytest.raises(ValueError, match="covering 300 of 300 samples in 310 places"):
        cross_fit(LogisticRegression(), X, Y, _Fixed(overlapping), predict=predicted_probabilities)


class _Fixed:
    def __init__(self, splits):
        self.splits = splits

    def split(self, X, y):
        return iter(self.splits)
