"""Tests of compare(): same folds, per-class numbers, failures kept apart."""

import re
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.tree import DecisionTreeClassifier

from sklipo import ParticleSet
from sklipo.compare import compare
from sklipo.metrics import per_class_scorers

X, Y = make_classification(
    n_samples=300, n_classes=3, n_informative=5, weights=[0.7, 0.2, 0.1], random_state=0
)
NAMES = ["full", "uncertain", "empty"]


class FailOnFold(ClassifierMixin, BaseEstimator):
    """Logistic regression that raises `error` when its training set holds sample 0."""

    def __init__(self, error=RuntimeError):
        self.error = error

    def fit(self, X, y):
        if np.any(np.all(X == _MARKER, axis=1)):
            raise self.error("diverged")
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
    """Check that a fold failure is warned about and kept with model and fold, the rest kept."""
    models = {"good": LogisticRegression(max_iter=1000), "flaky": FailOnFold()}
    with pytest.warns(FitFailedWarning, match="Model 'flaky' failed on fold") as record:
        result = compare(models, X, Y, cv=3)
    # Sample 0 is in the training set of the two folds that do not test it.
    failed = sorted(e["fold"] for e in result.errors)
    test_fold = next(k for k, t in enumerate(result.test_indices) if 0 in t)
    assert failed == sorted(set(range(3)) - {test_fold})
    messages = [str(w.message) for w in record if w.category is FitFailedWarning]
    assert [int(re.search(r"fold (\d) of 3", m)[1]) - 1 for m in messages] == failed
    assert all("RuntimeError: diverged" in m for m in messages)
    assert result.status[1, test_fold] == "ok" and (result.status[1, failed] == "failed").all()
    assert {e["model"] for e in result.errors} == {"flaky"}
    assert all("RuntimeError: diverged" in e["error"] for e in result.errors)
    assert "Traceback" in result.errors[0]["traceback"]
    f1 = result.fold_scores("f1")
    assert not np.isnan(f1[0]).any()
    assert np.isnan(f1[1, failed]).all() and not np.isnan(f1[1, test_fold]).any()
    np.testing.assert_allclose(result.mean_scores("f1")[1], f1[1, test_fold])
    assert np.isnan(result.fit_times[1, failed]).all()
    assert "flaky fold" in result.table() and "1 of 3 folds ran" in result.table()


def test_compare_interrupted_returns_finished_folds():
    """Check that Ctrl-C keeps the folds that finished and marks the rest not run."""
    models = {"good": LogisticRegression(max_iter=1000), "stops": FailOnFold(KeyboardInterrupt)}
    # Unshuffled folds: sample 0 is tested in fold 1, so the model stops in fold 2;
    # the fits run fold by fold, so "good" has finished folds 1 and 2 by then.
    with pytest.warns(UserWarning, match="Interrupted: returning the 3 of 6 fits"):
        result = compare(models, X, Y, cv=KFold(3))
    assert result.status[0].tolist() == ["ok", "ok", "not run"]
    assert result.status[1].tolist() == ["ok", "not run", "not run"]
    assert result.errors == []
    assert result.not_run() == [
        {"model": "good", "fold": 2}, {"model": "stops", "fold": 1}, {"model": "stops", "fold": 2}
    ]
    assert np.isnan(result.fold_scores("f1")[1, 1:]).all()
    assert not np.isnan(result.fold_scores("f1")[:, 0]).any()
    assert "Not run (interrupted): good fold 3, stops fold 2, stops fold 3." in result.table()
    assert "1 of 3 folds ran" in result.table() and "2 of 3 folds ran" in result.table()
    assert result.to_dict()["models"]["stops"]["status"] == ["ok", "not run", "not run"]


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_compare_balanced_accuracy_is_sklearns_on_each_fold(capsys):
    """Check per-fold balanced accuracy, printed and stored, against balanced_accuracy_score."""
    y = np.where(Y == 2, 1, Y)
    y[:2] = 2  # class 2 only in the first test fold
    cv = KFold(3)
    models = {"logistic": LogisticRegression(max_iter=1000), "dummy": DummyClassifier()}
    with pytest.warns(UserWarning, match="Class 'empty' is absent from the test set of fold"):
        result = compare(models, X, y, cv=cv, target_names=NAMES, verbose=1)
    printed = re.findall(r"(\w+) fold (\d)/3: balanced accuracy ([\d.]+)", capsys.readouterr().out)
    scores = result.fold_scores("balanced_accuracy")
    assert len(printed) == 6
    for model, k, value in printed:
        expected = scores[list(models).index(model), int(k) - 1]
        assert float(value) == pytest.approx(expected, abs=5e-4)
    for m, model in enumerate(models.values()):
        for k, (train, test) in enumerate(cv.split(X, y)):
            y_pred = clone(model).fit(X[train], y[train]).predict(X[test])
            assert scores[m, k] == pytest.approx(balanced_accuracy_score(y[test], y_pred))


def test_compare_warns_about_absent_classes_naming_the_folds():
    """Check one warning per class missing from test folds, naming them."""
    y = np.where(Y == 2, 1, Y)
    y[:2] = 2
    with pytest.warns(UserWarning) as record:
        compare({"d": DummyClassifier()}, X, y, cv=KFold(3), target_names=NAMES)
    messages = [str(w.message) for w in record if "absent" in str(w.message)]
    assert messages == [
        "Class 'empty' is absent from the test set of fold(s) 2, 3: balanced accuracy "
        "leaves it out there, and its TPR is zero_division."
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare({"d": DummyClassifier()}, X, Y, cv=3)


def test_compare_n_jobs_gives_the_same_numbers():
    """Check that parallel (model, fold) fits give the sequential result."""
    models = {"logistic": LogisticRegression(max_iter=1000), "dummy": DummyClassifier()}
    sequential = compare(models, X, Y, cv=3)
    parallel = compare(models, X, Y, cv=3, n_jobs=2)
    np.testing.assert_array_equal(parallel.confusion_matrices, sequential.confusion_matrices)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_compare_raises_fold_warnings_in_the_caller(n_jobs):
    """Check that a fit's warnings reach the caller, named by model, from any worker."""
    models = {"short": LogisticRegression(max_iter=1), "dummy": DummyClassifier()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare(models, X, Y, cv=3, n_jobs=n_jobs)
    converge = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(converge) == 3  # one per fold under "always"
    assert all(str(w.message).startswith("Model 'short': lbfgs failed") for w in converge)
    assert all(w.filename == __file__ for w in converge)


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


def test_compare_warns_about_a_class_with_one_test_sample_per_fold():
    """Check the warning and the report's note for a class with 1 test sample per fold."""
    y = np.where(Y == 2, 1, Y)
    y[[0, 100, 200]] = 2  # one sample of class 2 in each unshuffled fold
    with pytest.warns(UserWarning, match="Class 'empty' has only 1 test sample per fold") as record:
        result = compare({"d": DummyClassifier()}, X, y, cv=KFold(3), target_names=NAMES)
    assert not any("'full'" in str(w.message) or "'uncertain'" in str(w.message) for w in record)
    assert [c["class"] for c in result.unreliable_classes()] == ["empty"]
    assert result.unreliable_classes()[0]["support"] == [1, 1, 1]
    table = result.table()
    assert "empty *" in table and "full *" not in table
    assert "empty: 1 test sample per fold; over folds: d TPR 0.00 to 0.00" in table
    assert result.verdict()["text"].endswith(
        "The numbers of empty rest on fewer than 10 test samples per fold and are unreliable."
    )


def test_compare_min_test_support_sets_the_threshold():
    """Check that min_test_support decides which classes are flagged."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = compare({"d": DummyClassifier()}, X, Y, cv=3, min_test_support=5)
    assert result.unreliable_classes() == []
    with pytest.warns(UserWarning, match="Class '0' has only .* \\(fewer than 1000\\)"):
        result = compare({"d": DummyClassifier()}, X, Y, cv=3, min_test_support=1000)
    assert len(result.unreliable_classes()) == 3


def test_compare_records_provenance():
    """Check the data, folds, models, seeds, versions and wall time compare records."""
    import sklearn

    models = {
        "logistic": LogisticRegression(C=0.5, max_iter=1000),
        "tree": DecisionTreeClassifier(random_state=3),
    }
    result = compare(models, X, Y, cv=3, target_names=NAMES, data_description="make_classification")
    provenance = result.provenance
    assert provenance["data"] == {
        "description": "make_classification",
        "n_samples": 300,
        "class_counts": {name: int(np.sum(Y == k)) for k, name in enumerate(NAMES)},
    }
    assert provenance["folds"]["n_folds"] == 3
    assert provenance["folds"]["splitter"].startswith("StratifiedKFold(n_splits=3")
    assert provenance["folds"]["test_sizes"] == [len(t) for t in result.test_indices]
    estimator = provenance["models"]["logistic"]["estimator"]
    assert estimator == "LogisticRegression(C=0.5, max_iter=1000)"
    assert provenance["models"]["logistic"]["params"]["C"] == 0.5
    assert provenance["seeds"] == {
        "folds": 0, "logistic": {"random_state": None}, "tree": {"random_state": 3}
    }
    assert provenance["versions"]["scikit-learn"] == sklearn.__version__
    assert provenance["wall_time"] > 0 and provenance["machine"]["cpu_count"] >= 1
    assert result.to_dict()["provenance"] == provenance
    assert "of make_classification" in result.table().splitlines()[0]


def test_compare_verbose_estimates_the_time_left(capsys):
    """Check that, off a terminal, each fit prints a line, with the time left after the first."""
    compare({"a": DummyClassifier(), "b": DummyClassifier()}, X, Y, cv=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"[compare] fit {k}/4" for k in range(1, 5)]
    assert lines[0].startswith("[compare] fit 1/4: a fold 1/2: balanced accuracy")
    assert lines[1].startswith("[compare] fit 2/4: b fold 1/2")
    assert all("left)" in line for line in lines[:3]) and "left" not in lines[3]


def test_compare_verdict_names_the_best_model_and_the_test():
    """Check the verdict against the mean scores and the paired tests."""
    models = {"dummy": DummyClassifier(), "logistic": LogisticRegression(max_iter=1000)}
    result = compare(models, X, Y, cv=5, target_names=NAMES)
    verdict = result.verdict(alpha=0.01)
    assert verdict["best"] == {"balanced_accuracy": "logistic", "f1_macro": "logistic"}
    assert verdict["runner_up"] == "dummy" and verdict["alpha"] == 0.01
    test = result.paired_test("logistic", "dummy", metric="balanced_accuracy")
    assert verdict["tests"]["balanced_accuracy"] == test
    difference = result.mean_scores("balanced_accuracy") @ [-1, 1]
    assert verdict["text"].startswith("logistic is the best model on both balanced accuracy")
    assert f"{difference:+.3f}" in verdict["text"] and "At the 0.01 level" in verdict["text"]
    word = "significant" if test.p_value < 0.01 else "not significant"
    expected = f"balanced accuracy {word} (p = {test.p_value:.3f}; logistic better on"
    assert expected in verdict["text"]
    assert set(verdict["tests"]["f1_per_class"]) == set(NAMES)
    assert compare({"d": DummyClassifier()}, X, Y, cv=2).verdict()["text"].startswith("Only d ran")
