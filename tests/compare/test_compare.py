"""Tests of compare(): same folds, per-class numbers, failures kept apart."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.tree import DecisionTreeClassifier

from sklipo import ParticleSet
from sklipo.compare import compare
from sklipo.metrics import per_class_scorers

X, Y = make_classification(
    n_samples=300, n_classes=3, n_informative=5, weights=[0.7, 0.2, 0.1], random_state=0
)
NAMES = ["full", "uncertain", "empty"]


class FailOnFold(ClassifierMixin, BaseEstimator):
    """Logistic regression that raises when its training set holds sample 0."""

    def fit(self, X, y):
        if np.any(np.all(X == _MARKER, axis=1)):
            raise RuntimeError("diverged")
        self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


_MARKER = X[0]


def test_compare_equals_cross_validate_with_same_folds():
    """Check that every per-class number equals cross_validate's on the same folds."""
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    models = {"logistic": LogisticRegression(max_iter=1000), "tree": DecisionTreeClassifier(random_state=0)}
    result = compare(models, X, Y, cv=cv, target_names=NAMES)
    scoring = per_class_scorers(target_names=NAMES)
    for m, (name, model) in enumerate(models.items()):
        expected = cross_validate(model, X, Y, cv=cv, scoring=scoring)
        for metric in ("tpr", "tnr", "ppv", "npv", "f1"):
            for c, class_name in enumerate(NAMES):
                np.testing.assert_allclose(
                    result.fold_scores(metric)[m, :, c], expected[f"test_{metric}_{class_name}"]
                )
        for summary in ("f1_macro", "balanced_accuracy"):
            np.testing.assert_allclose(result.fold_scores(summary)[m], expected[f"test_{summary}"])


def test_compare_same_splits_for_all_models():
    """Check that the folds are shared and stratified, and seeded by random_state."""
    result = compare({"a": DummyClassifier(), "b": DummyClassifier()}, X, Y, cv=3)
    again = compare({"c": DummyClassifier()}, X, Y, cv=3)
    assert result.n_folds == 3
    for t1, t2 in zip(result.test_indices, again.test_indices):
        np.testing.assert_array_equal(t1, t2)
    support = result.fold_scores("support")
    np.testing.assert_array_equal(support[0], support[1])
    np.testing.assert_array_equal(np.sort(np.concatenate(result.test_indices)), np.arange(len(Y)))
    other = compare({"c": DummyClassifier()}, X, Y, cv=3, random_state=1)
    assert not np.array_equal(other.test_indices[0], result.test_indices[0])


def test_compare_keeps_results_when_a_model_fails_on_one_fold():
    """Check that a fold failure is reported with model and fold, the rest kept."""
    models = {"good": LogisticRegression(max_iter=1000), "flaky": FailOnFold()}
    result = compare(models, X, Y, cv=3)
    # Sample 0 is in the training set of the two folds that do not test it.
    failed = sorted(e["fold"] for e in result.errors)
    test_fold = next(k for k, t in enumerate(result.test_indices) if 0 in t)
    assert failed == sorted(set(range(3)) - {test_fold})
    assert {e["model"] for e in result.errors} == {"flaky"}
    assert all("RuntimeError: diverged" in e["error"] for e in result.errors)
    assert "Traceback" in result.errors[0]["traceback"]
    f1 = result.fold_scores("f1")
    assert not np.isnan(f1[0]).any()
    assert np.isnan(f1[1, failed]).all() and not np.isnan(f1[1, test_fold]).any()
    np.testing.assert_allclose(result.mean_scores("f1")[1], f1[1, test_fold])
    assert np.isnan(result.fit_times[1, failed]).all()
    assert "flaky fold" in result.table() and "1 of 3 folds ran" in result.table()


def test_compare_on_particle_sets():
    """Check that a ParticleSet is split like an array."""
    rng = np.random.RandomState(0)
    images = [rng.rand(8 + k % 3, 9) + (k % 2) for k in range(40)]
    y = np.arange(40) % 2
    particles = ParticleSet(images)

    class MeanIntensity(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return (np.array([im.mean() for im in X.images]) > 1).astype(int)

    result = compare({"mean": MeanIntensity()}, particles, y, cv=4)
    np.testing.assert_allclose(result.mean_scores("f1"), [[1.0, 1.0]])


def test_compare_verbose_prints_each_fold(capsys):
    """Check one progress line per fold."""
    compare({"dummy": DummyClassifier()}, X, Y, cv=2, verbose=1)
    out = capsys.readouterr().out
    assert "dummy fold 1/2" in out and "dummy fold 2/2" in out


@pytest.mark.parametrize(
    "models, error, match",
    [
        ({}, TypeError, "non-empty dict"),
        ([LogisticRegression()], TypeError, "non-empty dict"),
        ({"x": object()}, TypeError, "Model 'x' must be an estimator"),
        ({1: DummyClassifier()}, TypeError, "names must be strings"),
    ],
)
def test_compare_bad_models(models, error, match):
    """Check the errors for models that are not a dict of estimators."""
    with pytest.raises(error, match=match):
        compare(models, X, Y)


def test_compare_bad_data():
    """Check the errors for mismatched X and y."""
    with pytest.raises(ValueError, match="300 samples but y 10 labels"):
        compare({"d": DummyClassifier()}, X, Y[:10])
    with pytest.raises(ValueError, match="target_names must hold one name per class"):
        compare({"d": DummyClassifier()}, X, Y, target_names=["a"])
