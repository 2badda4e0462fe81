"""Tests of the per-class scorers."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict, cross_validate

from sklipo.metrics import per_class_metrics, per_class_scorers

X, Y = make_classification(
    n_samples=240, n_classes=3, n_informative=4, weights=[0.7, 0.2, 0.1], random_state=0
)
NAMES = ["full", "uncertain", "empty"]
CV = StratifiedKFold(4, shuffle=True, random_state=0)


def test_per_class_scorers_names():
    """Check the scorer names: metric_class plus the two summaries."""
    scorers = per_class_scorers(target_names=NAMES)
    assert len(scorers) == 5 * 3 + 2
    assert {"f1_uncertain", "tpr_empty", "npv_full", "f1_macro", "balanced_accuracy"} <= set(
        scorers
    )


def test_per_class_scorers_equal_per_class_metrics_in_cross_validate():
    """Check that cross_validate's fold scores equal per_class_metrics on each fold."""
    model = LogisticRegression(max_iter=1000)
    result = cross_validate(
        model, X, Y, cv=CV, scoring=per_class_scorers(target_names=NAMES), return_indices=True
    )
    predicted = cross_val_predict(model, X, Y, cv=CV)
    for k, test in enumerate(result["indices"]["test"]):
        table = per_class_metrics(Y[test], predicted[test], labels=[0, 1, 2])
        for c, name in enumerate(NAMES):
            for metric in ("tpr", "tnr", "ppv", "npv", "f1"):
                assert result[f"test_{metric}_{name}"][k] == pytest.approx(table[metric][c])
        assert result["test_f1_macro"][k] == pytest.approx(table["f1"].mean())
        assert result["test_balanced_accuracy"][k] == pytest.approx(
            balanced_accuracy_score(Y[test], predicted[test])
        )


def test_per_class_scorers_refit_in_grid_search():
    """Check that GridSearchCV can select by a rare class's F1."""
    search = GridSearchCV(
        LogisticRegression(max_iter=1000),
        {"C": [0.001, 1.0]},
        scoring=per_class_scorers(labels=[0, 1, 2], target_names=NAMES, metrics=["f1"]),
        refit="f1_empty",
        cv=CV,
    ).fit(X, Y)
    scores = search.cv_results_["mean_test_f1_empty"]
    assert search.best_index_ == int(np.argmax(scores))


def test_per_class_scorers_string_labels():
    """Check scorers on string labels, named from the labels."""
    y = np.array(NAMES)[Y]
    scorers = per_class_scorers(labels=["full", "uncertain", "empty"], metrics=["tpr"])
    model = LogisticRegression(max_iter=1000).fit(X, y)
    expected = per_class_metrics(y, model.predict(X), labels=NAMES)["tpr"][2]
    assert scorers["tpr_empty"](model, X, y) == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "needs the classes"),
        ({"labels": [0]}, "at least 2 classes"),
        ({"target_names": NAMES, "metrics": ["recall"]}, "Unknown metric"),
        ({"target_names": ["a b", "a_b"]}, "must differ"),
    ],
)
def test_per_class_scorers_bad_input(kwargs, match):
    """Check the errors on missing classes, unknown metrics and clashing names."""
    with pytest.raises(ValueError, match=match):
        per_class_scorers(**kwargs)
