"""Tests of the per-class one-vs-rest metrics."""

import numpy as np
import pytest
from imblearn.metrics import sensitivity_specificity_support
from sklearn.metrics import (
    confusion_matrix,
    multilabel_confusion_matrix,
    precision_recall_fscore_support,
)

from sklipo.metrics import METRICS, check_target_names, metrics_from_confusion, per_class_metrics

rng = np.random.RandomState(0)
Y_TRUE = rng.randint(0, 3, 300)
Y_PRED = np.where(rng.rand(300) < 0.7, Y_TRUE, rng.randint(0, 3, 300))


def test_per_class_metrics_match_sklearn():
    """Check that PPV, TPR, F1 and support equal scikit-learn's."""
    table = per_class_metrics(Y_TRUE, Y_PRED)
    precision, recall, f1, support = precision_recall_fscore_support(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(table["ppv"], precision)
    np.testing.assert_allclose(table["tpr"], recall)
    np.testing.assert_allclose(table["f1"], f1)
    np.testing.assert_array_equal(table["support"], support)


def test_per_class_metrics_match_imblearn_and_multilabel_confusion_matrix():
    """Check TPR, TNR and support against imblearn, and NPV against sklearn's counts."""
    table = per_class_metrics(Y_TRUE, Y_PRED)
    sensitivity, specificity, support = sensitivity_specificity_support(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(table["tpr"], sensitivity)
    np.testing.assert_allclose(table["tnr"], specificity)
    np.testing.assert_array_equal(table["support"], support)
    tn, _, fn, _ = multilabel_confusion_matrix(Y_TRUE, Y_PRED).reshape(-1, 4).T
    np.testing.assert_allclose(table["npv"], tn / (tn + fn))


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
@pytest.mark.parametrize(
    "y_true, y_pred, labels",
    [
        (Y_TRUE, Y_PRED, None),
        ([0, 0, 1, 2], [0, 0, 0, 0], [0, 1, 2, 3]),
        (["a", "b", "b"], ["b", "b", "c"], ["c", "b", "a"]),
    ],
)
def test_per_class_metrics_equal_metrics_from_confusion(y_true, y_pred, labels, zero_division):
    """Check that the table from labels equals the one from the confusion matrix."""
    table = per_class_metrics(y_true, y_pred, labels=labels, zero_division=zero_division)
    labels = np.unique(np.concatenate([y_true, y_pred])) if labels is None else labels
    expected = metrics_from_confusion(
        confusion_matrix(y_true, y_pred, labels=labels), zero_division=zero_division
    )
    for metric in (*METRICS, "support"):
        np.testing.assert_array_equal(table[metric], expected[metric])


def test_check_target_names():
    """Check the default names and the error on a wrong count."""
    assert check_target_names([2, 5]).tolist() == ["2", "5"]
    assert check_target_names([2, 5], ["x", "y"]).tolist() == ["x", "y"]
    with pytest.raises(ValueError, match="one name per class: 2 classes"):
        check_target_names([2, 5], ["x"])


def test_per_class_metrics_tnr_npv_by_hand():
    """Check TNR and NPV against the counts of a hand-written example."""
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "a", "b", "b", "c", "c"]
    table = per_class_metrics(y_true, y_pred, labels=["a", "b", "c"])
    # class a: TP 2, FN 1, FP 0, TN 3; class b: TP 1, FN 1, FP 1, TN 3;
    # class c: TP 1, FN 0, FP 1, TN 4.
    np.testing.assert_allclose(table["tnr"], [3 / 3, 3 / 4, 4 / 5])
    np.testing.assert_allclose(table["npv"], [3 / 4, 3 / 4, 4 / 4])
    np.testing.assert_allclose(table["tpr"], [2 / 3, 1 / 2, 1])
    assert table["class"].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
def test_per_class_metrics_zero_division(zero_division):
    """Check that a class never predicted gets zero_division as PPV but F1 = 0."""
    y_true = [0, 0, 1, 2]
    y_pred = [0, 0, 0, 0]
    table = per_class_metrics(y_true, y_pred, zero_division=zero_division)
    np.testing.assert_equal(table["ppv"][1:], [zero_division, zero_division])
    np.testing.assert_equal(table["f1"][1:], [0.0, 0.0])
    assert table["tpr"][0] == 1.0


def test_per_class_metrics_absent_class():
    """Check that a listed class absent from both arrays has support 0."""
    table = per_class_metrics([0, 1], [0, 1], labels=[0, 1, 2], zero_division=np.nan)
    assert table["support"].tolist() == [1, 1, 0]
    assert np.isnan(table["f1"][2]) and np.isnan(table["tpr"][2])
    assert table["tnr"][2] == 1.0


def test_per_class_metrics_target_names_and_frame():
    """Check that target_names name the rows of the DataFrame."""
    pytest.importorskip("pandas")
    frame = per_class_metrics(Y_TRUE, Y_PRED, target_names=["x", "y", "z"], as_frame=True)
    assert frame.index.tolist() == ["x", "y", "z"]
    assert frame.columns.tolist() == ["tpr", "tnr", "ppv", "npv", "f1", "support"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y_pred": [0, 1]}, "same length"),
        ({"target_names": ["a"]}, "one name per class"),
        ({"labels": []}, "non-empty"),
        ({"zero_division": 0.5}, "zero_division"),
    ],
)
def test_per_class_metrics_bad_input(kwargs, match):
    """Check the errors on inconsistent input."""
    params = {"y_true": Y_TRUE, "y_pred": Y_PRED, **kwargs}
    with pytest.raises(ValueError, match=match):
        per_class_metrics(params.pop("y_true"), params.pop("y_pred"), **params)


def test_metrics_from_confusion_keeps_leading_axes():
    """Check that stacked matrices give metrics per matrix."""
    matrices = np.stack([confusion_matrix(Y_TRUE[:150], Y_PRED[:150]), confusion_matrix(Y_TRUE[150:], Y_PRED[150:])])
    stacked = metrics_from_confusion(matrices)
    second = per_class_metrics(Y_TRUE[150:], Y_PRED[150:])
    assert stacked["f1"].shape == (2, 3)
    np.testing.assert_allclose(stacked["npv"][1], second["npv"])
