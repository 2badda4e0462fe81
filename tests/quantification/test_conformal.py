"""Tests of ConformalClassifier, label_prediction_sets and class_coverage."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklipo.datasets import make_liposomes
from sklipo.preprocessing import Flatten, Resize
from sklipo.quantification import ConformalClassifier, class_coverage, label_prediction_sets

RND_SEED = 0
CENTERS = [[0, 0], [2, 0], [0, 2]]
# Imbalanced, overlapping classes: the rare one is the hard one.
X_TRAIN, Y_TRAIN = make_blobs([600, 250, 150], centers=CENTERS, random_state=RND_SEED)
X_TEST, Y_TEST = make_blobs([2000, 2000, 2000], centers=CENTERS, random_state=RND_SEED + 1)


@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_conformal_class_conditional_coverage(coverage):
    """Check that every class, the rare one too, reaches the coverage asked."""
    model = ConformalClassifier(LogisticRegression(), coverage=coverage).fit(X_TRAIN, Y_TRAIN)
    per_class = class_coverage(Y_TEST, model.predict_set(X_TEST), model.classes_)
    assert np.all(per_class >= coverage - 0.04), per_class


def test_conformal_prefit_uses_calibration_data():
    """Check split conformal on a fitted classifier and separate calibration data."""
    classifier = LogisticRegression().fit(X_TRAIN[::2], Y_TRAIN[::2])
    model = ConformalClassifier(classifier, cv="prefit").fit(X_TRAIN[1::2], Y_TRAIN[1::2])
    assert model.estimator_ is classifier
    np.testing.assert_array_equal(model.calibration_counts_, np.bincount(Y_TRAIN[1::2]))
    per_class = class_coverage(Y_TEST, model.predict_set(X_TEST), model.classes_)
    assert np.all(per_class >= 0.86), per_class


def test_conformal_prefit_sets_are_the_conformal_quantile():
    """Check the p-value sets of one model against the split-conformal threshold."""
    classifier = LogisticRegression().fit(X_TRAIN[::2], Y_TRAIN[::2])
    model = ConformalClassifier(classifier, cv="prefit").fit(X_TRAIN[1::2], Y_TRAIN[1::2])
    scores = 1 - classifier.predict_proba(X_TRAIN[1::2])[np.arange(500), Y_TRAIN[1::2]]
    thresholds = []
    for c in range(3):
        ranked = np.sort(scores[Y_TRAIN[1::2] == c])
        thresholds.append(ranked[int(np.ceil((len(ranked) + 1) * 0.9)) - 1])
    expected = 1 - classifier.predict_proba(X_TEST) <= np.array(thresholds)
    np.testing.assert_array_equal(model.predict_set(X_TEST), expected)


def test_conformal_scores_with_the_fold_models():
    """Check that each fold's model is fitted without it and scores the sets."""
    model = ConformalClassifier(LogisticRegression(), cv=3).fit(X_TRAIN, Y_TRAIN)
    assert len(model.estimators_) == 3
    assert all(m is not model.estimator_ for m in model.estimators_)
    coefs = np.array([m.coef_ for m in model.estimators_])
    assert not np.allclose(coefs[0], coefs[1])
    # a full model that predicts every class with certainty changes nothing
    model.estimator_ = None
    sets = model.predict_set(X_TEST)
    assert 1.0 < sets.sum(axis=1).mean() < 3.0


def test_conformal_marginal_pools_the_classes():
    """Check that class_conditional=False calibrates on all classes together."""
    model = ConformalClassifier(LogisticRegression(), class_conditional=False).fit(
        X_TRAIN, Y_TRAIN
    )
    sets = model.predict_set(X_TEST)
    covered = sets[np.arange(len(Y_TEST)), Y_TEST]
    # Marginal coverage on the training mix, not per class: the rare class
    # falls short of what class-conditional sets give it.
    weights = np.bincount(Y_TRAIN) / len(Y_TRAIN)
    per_class = class_coverage(Y_TEST, sets, model.classes_)
    assert (per_class * weights).sum() >= 0.86
    conditional = ConformalClassifier(LogisticRegression()).fit(X_TRAIN, Y_TRAIN)
    assert per_class[2] < class_coverage(Y_TEST, conditional.predict_set(X_TEST), [0, 1, 2])[2]
    assert covered.dtype == bool


def test_conformal_predict_delegates():
    """Check that predict and predict_proba are the classifier's."""
    model = ConformalClassifier(LogisticRegression(), cv=3).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(model.predict(X_TEST[:50]), model.estimator_.predict(X_TEST[:50]))
    assert model.predict_proba(X_TEST[:5]).shape == (5, 3)


def test_conformal_on_particle_set_pipeline():
    """Check a sklipo pipeline on a ParticleSet with string labels."""
    data = make_liposomes("lamellarity", 60, weights=[30, 20, 10], random_state=RND_SEED)
    y = data.target_names[data.target]
    pipeline = make_pipeline(Resize(12), Flatten(), LogisticRegression(max_iter=200))
    with pytest.warns(UserWarning, match="Too few calibration particles"):
        model = ConformalClassifier(pipeline, coverage=0.95, cv=3).fit(data.data, y)
    sets = model.predict_set(data.data[:10])
    assert sets.shape == (10, 3) and sets.dtype == bool
    labels = label_prediction_sets(sets, model.classes_)
    assert set(labels) <= set(model.classes_) | {"ambiguous"}  # a class is "uncertain"


def test_conformal_too_few_calibration_samples_warns():
    """Check the warning naming a class too small for a finite threshold."""
    y = np.r_[np.zeros(100), np.ones(100), np.full(6, 2)]
    X = np.r_[X_TRAIN[Y_TRAIN == 0][:100], X_TRAIN[Y_TRAIN == 1][:100], X_TRAIN[Y_TRAIN == 2][:6]]
    with pytest.warns(UserWarning, match=r"class\(es\) 2.0 \(6\) need at least 9"):
        model = ConformalClassifier(LogisticRegression(), cv=3).fit(X, y)
    assert model.predict_set(X_TEST).all(axis=0)[2]
    assert not model.predict_set(X_TEST).all(axis=0)[:2].any()


def test_conformal_errors():
    """Check the errors: no predict_proba, one class, a class rarer than folds, empty X."""
    with pytest.raises(InvalidParameterError, match="'estimator' parameter"):
        ConformalClassifier(SVC()).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="at least two classes"):
        ConformalClassifier(LogisticRegression()).fit(X_TRAIN[:20], np.zeros(20))
    with pytest.raises(ValueError, match="Class 2 has 2 sample"):
        ConformalClassifier(LogisticRegression()).fit(X_TRAIN[:42], np.r_[[0, 1] * 20, [2, 2]])
    with pytest.raises(ValueError, match="X is empty"):
        ConformalClassifier(LogisticRegression()).fit(np.empty((0, 2)), [])
    with pytest.raises(InvalidParameterError, match="'coverage' parameter"):
        ConformalClassifier(LogisticRegression(), coverage=1.0).fit(X_TRAIN, Y_TRAIN)


def test_label_prediction_sets():
    """Check singletons keep their class; ambiguous and empty sets get the set label."""
    sets = [[True, False, False], [False, True, True], [False, False, False], [False, False, True]]
    labels = label_prediction_sets(sets, ["uni", "multi", "unc"], uncertain_label="?")
    assert labels.tolist() == ["uni", "?", "?", "unc"]
    with pytest.raises(ValueError, match="shape \\(n_samples, 2\\)"):
        label_prediction_sets(sets, ["a", "b"])


def test_label_prediction_sets_default_does_not_clash_with_the_uncertain_class():
    """Check the default label is 'uncertain' unless that is a class; a clash raises."""
    sets = [[False, True], [True, True]]
    assert label_prediction_sets(sets, ["uni", "multi"]).tolist() == ["multi", "uncertain"]
    classes = ["unilamellar", "multilamellar", "uncertain"]
    sets = [[False, False, True], [True, True, False]]
    labels = label_prediction_sets(sets, classes)
    assert labels.tolist() == ["uncertain", "ambiguous"]
    with pytest.raises(ValueError, match="uncertain_label='uncertain' is also the name of a class"):
        label_prediction_sets(sets, classes, uncertain_label="uncertain")
    with pytest.raises(ValueError, match="uncertain_label=2 is also the name of a class"):
        label_prediction_sets(sets, [0, 1, 2], uncertain_label=2)


def test_class_coverage_unsorted_classes():
    """Check per-class coverage with classes not in sorted order and an absent class."""
    coverage = class_coverage(
        ["b", "b", "a"], [[True, False, False], [False, True, True], [False, True, False]],
        ["b", "a", "c"],
    )
    np.testing.assert_array_equal(coverage[:2], [0.5, 1.0])
    assert np.isnan(coverage[2])


@parametrize_with_checks([ConformalClassifier(GaussianNB(), cv=2)])
def test_conformal_sklearn_checks(estimator, check):
    """Run scikit-learn's estimator checks (all pass; none skipped)."""
    check(estimator)
