"""Tests of compare's population numbers: calibration error and shifted-prior share errors."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from sklipo.compare import compare
from sklipo.compare._population import shifted_share_errors
from sklipo.compare._report import to_markdown

X, Y = load_iris(return_X_y=True)


def test_compare_reports_ece_where_the_model_has_predict_proba():
    """Check that ECE is measured per fold for predict_proba models, NaN otherwise."""
    result = compare(
        {"logistic": LogisticRegression(max_iter=500), "svc": LinearSVC()}, X, Y, cv=3
    )
    scores = result.population_scores()
    assert np.isfinite(scores["ece"]["folds"][0]).all()
    assert 0 < scores["ece"]["mean"][0] < 0.5
    assert np.isnan(scores["ece"]["folds"][1]).all()
    for name in ("cc_error", "acc_error"):
        assert np.isfinite(scores[name]["folds"]).all()
    table = result.table()
    assert table.count("ECE") == 1 and table.count("share error (CC)") == 2
    population = result.to_dict()["models"]["logistic"]["population"]
    assert population["ece"]["mean"] == pytest.approx(scores["ece"]["mean"][0])
    assert "ECE" in to_markdown(result)


def test_shifted_share_errors_adjusted_count_removes_a_systematic_bias():
    """Check that ACC corrects a classifier that moves 40 % of class 0 to class 1."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 200)
    y_pred = y.copy()
    y_pred[(y == 0) & (rng.rand(len(y)) < 0.4)] = 1
    cc, acc = shifted_share_errors(y, y_pred, np.array([0, 1, 2]))
    assert cc > 0.05
    assert acc < cc / 2
    assert shifted_share_errors(y, y, np.array([0, 1, 2])) == pytest.approx((0.0, 0.0))
