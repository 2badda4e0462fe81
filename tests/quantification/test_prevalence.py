"""Tests of PrevalenceEstimator, its result table and its solvers."""

import copy
import pickle

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklipo.datasets import make_liposomes
from sklipo.preprocessing import Flatten, Resize
from sklipo.quantification import PrevalenceEstimator, PrevalenceResult
from sklipo.quantification._matching import (
    kde_likelihoods,
    kde_points,
    kde_prevalence,
    posterior_histograms,
)
from sklipo.quantification._solvers import em_prevalence, project_simplex, solve_adjusted

RND_SEED = 0
CENTERS = [[0, 0], [3, 0], [0, 3]]
METHODS = ["cc", "acc", "pacc", "sld", "dmy", "kdey"]

# Training data with the study-like imbalance 70/20/10 %, overlapping classes
# (logistic regression recalls about 90 % of each).
X_TRAIN, Y_TRAIN = make_blobs(
    [700, 200, 100], centers=CENTERS, cluster_std=1.0, random_state=RND_SEED
)
# A large pool drawn from the same classes, to cut samples with any shares from.
X_POOL, Y_POOL = make_blobs(
    [3000, 3000, 3000], centers=CENTERS, cluster_std=1.0, random_state=RND_SEED + 1
)


def _sample(shares, size, rng):
    """A sample of `size` pool points whose class shares are exactly `shares`."""
    counts = np.round(np.asarray(shares) * size).astype(int)
    index = np.concatenate(
        [rng.choice(np.flatnonzero(Y_POOL == c), n, replace=False) for c, n in enumerate(counts)]
    )
    return X_POOL[index], counts / counts.sum()


@pytest.fixture(scope="module")
def fitted():
    """One fitted estimator per method (the same folds, the same classifier)."""
    return {
        method: PrevalenceEstimator(
            LogisticRegression(), method=method, n_bootstrap=300, random_state=RND_SEED
        ).fit(X_TRAIN, Y_TRAIN)
        for method in METHODS
    }


def test_prevalence_adjusted_methods_beat_classify_and_count(fitted):
    """Check that under prior shift every adjusted method beats CC, and lands close."""
    rng = np.random.RandomState(RND_SEED)
    errors = {method: [] for method in METHODS}
    for shares in [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.5, 0.45, 0.05]]:
        X, true = _sample(shares, 1000, rng)
        for method in METHODS:
            estimate = fitted[method].predict_prevalence(X)
            errors[method].append(np.abs(estimate - true).mean())
    mae = {method: np.mean(value) for method, value in errors.items()}
    for method in ["acc", "pacc", "sld", "dmy", "kdey"]:
        assert mae[method] < 0.6 * mae["cc"], mae
    # ACC, from hard counts, is the noisiest.
    assert max(mae["pacc"], mae["sld"], mae["dmy"], mae["kdey"]) < 0.03, mae
    assert mae["acc"] < 0.045, mae


def test_prevalence_no_shift_all_methods_agree(fitted):
    """Check that on the training shares every method is close to the truth."""
    X, true = _sample([0.7, 0.2, 0.1], 2000, np.random.RandomState(RND_SEED))
    for method in METHODS:
        np.testing.assert_allclose(fitted[method].predict_prevalence(X), true, atol=0.04)


@pytest.mark.parametrize("method", ["acc", "pacc", "dmy", "kdey"])
def test_prevalence_interval_coverage(fitted, method):
    """Check that 95 % intervals hold the true share about 95 % of the time."""
    rng = np.random.RandomState(RND_SEED)
    quantifier = copy.copy(fitted[method]).set_params(n_bootstrap=100)
    covered = []
    for shares in rng.dirichlet(np.ones(3), size=20):
        X, true = _sample(shares, 400, rng)
        result = quantifier.predict_prevalence(X, confidence=0.95)
        covered.append((result.lower <= true) & (true <= result.upper))
    assert np.mean(covered) >= 0.88


def test_prevalence_result_fields_and_table(fitted):
    """Check the result's fields, ordering and the printable table."""
    X, _ = _sample([0.5, 0.3, 0.2], 500, np.random.RandomState(RND_SEED))
    result = fitted["acc"].predict_prevalence(X, confidence=0.9)
    assert isinstance(result, PrevalenceResult)
    np.testing.assert_array_equal(result.classes, [0, 1, 2])
    assert result.prevalence.sum() == pytest.approx(1.0)
    assert np.all(result.lower <= result.prevalence)
    assert np.all(result.prevalence <= result.upper)
    assert result.n_samples == 500 and result.counts.sum() == 500
    np.testing.assert_allclose(result.naive, result.counts / 500)
    table = str(result)
    assert "90% interval" in table and "(500 particles; estimate by acc)" in table
    assert [row["class"] for row in result.to_rows()] == [0, 1, 2]


def test_prevalence_bootstrap_is_seeded(fitted):
    """Check that an int random_state gives the same intervals on every call."""
    X, _ = _sample([0.3, 0.3, 0.4], 300, np.random.RandomState(RND_SEED))
    first = fitted["pacc"].predict_prevalence(X, confidence=0.95)
    second = fitted["pacc"].predict_prevalence(X, confidence=0.95)
    np.testing.assert_array_equal(first.lower, second.lower)


def test_prevalence_string_labels_and_particle_set():
    """Check a sklipo pipeline on a ParticleSet with string labels."""
    data = make_liposomes("lamellarity", 60, weights=[30, 20, 10], random_state=RND_SEED)
    y = data.target_names[data.target]
    pipeline = make_pipeline(Resize(12), Flatten(), LogisticRegression(max_iter=200))
    quantifier = PrevalenceEstimator(pipeline, method="pacc", cv=3, n_bootstrap=50, random_state=0)
    result = quantifier.fit(data.data, y).predict_prevalence(data.data[:20], confidence=0.8)
    np.testing.assert_array_equal(quantifier.classes_, np.unique(y))
    assert result.prevalence.shape == (3,)
    assert result.prevalence.sum() == pytest.approx(1.0)


def test_prevalence_sklearn_contract():
    """Check clone, get_params and pickling; the classifier passed stays unfitted."""
    classifier = LogisticRegression()
    quantifier = PrevalenceEstimator(classifier, method="acc", cv=3, random_state=0)
    params = quantifier.get_params(deep=False)
    quantifier.fit(X_TRAIN, Y_TRAIN)
    assert quantifier.get_params(deep=False) == params
    assert not hasattr(classifier, "coef_")
    assert clone(quantifier).get_params()["classifier__C"] == 1.0
    restored = pickle.loads(pickle.dumps(quantifier))
    np.testing.assert_array_equal(
        restored.predict_prevalence(X_POOL[:300]), quantifier.predict_prevalence(X_POOL[:300])
    )


@pytest.mark.parametrize("where", ["fit", "predict_prevalence"])
def test_prevalence_empty_x_raises(fitted, where):
    """Check that an empty X is refused by name."""
    with pytest.raises(ValueError, match="X is empty"):
        if where == "fit":
            PrevalenceEstimator(LogisticRegression()).fit(np.empty((0, 2)), [])
        else:
            fitted["acc"].predict_prevalence(np.empty((0, 2)))


def test_prevalence_single_class_raises():
    """Check that y with one class cannot be quantified."""
    with pytest.raises(ValueError, match="at least two classes"):
        PrevalenceEstimator(LogisticRegression()).fit(X_TRAIN[:50], np.zeros(50))


def test_prevalence_class_too_rare_for_cv_raises():
    """Check that a class with fewer samples than folds is named."""
    y = np.r_[np.zeros(40), np.ones(40), [2, 2, 2]]
    with pytest.raises(ValueError, match="Class 2.0 has 3 training sample.*5-fold"):
        PrevalenceEstimator(LogisticRegression(), cv=5).fit(X_TRAIN[:83], y)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, True, "0.95"])
def test_prevalence_bad_confidence_raises(fitted, confidence):
    """Check that confidence must lie strictly between 0 and 1."""
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        fitted["acc"].predict_prevalence(X_POOL[:10], confidence=confidence)


@pytest.mark.parametrize("method", ["pacc", "sld", "dmy", "kdey"])
def test_prevalence_needs_predict_proba_raises(method):
    """Check that soft methods refuse a classifier without predict_proba."""
    with pytest.raises(TypeError, match=f"method='{method}' needs class probabilities.*SVC"):
        PrevalenceEstimator(SVC(), method=method).fit(X_TRAIN, Y_TRAIN)


def test_prevalence_hard_methods_take_any_classifier():
    """Check that ACC works with a classifier that only predicts."""
    quantifier = PrevalenceEstimator(SVC(), method="acc", cv=3).fit(X_TRAIN, Y_TRAIN)
    assert quantifier.predict_prevalence(X_POOL[:100]).shape == (3,)


def test_prevalence_bad_method_raises():
    """Check that an unknown method gets scikit-learn's parameter error."""
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        PrevalenceEstimator(LogisticRegression(), method="em").fit(X_TRAIN, Y_TRAIN)


def test_solve_adjusted_matches_constrained_optimiser():
    """Check the exact simplex least squares against scipy's SLSQP."""
    rng = np.random.RandomState(RND_SEED)
    rates = rng.dirichlet(np.ones(4), size=(20, 4)) + 3 * np.eye(4)
    rates /= rates.sum(axis=2, keepdims=True)
    observed = rng.dirichlet(np.ones(4) * 0.3, size=20)
    estimates = solve_adjusted(rates, observed)
    for m, q, p in zip(rates, observed, estimates):
        result = minimize(
            lambda x: ((m.T @ x - q) ** 2).sum(),
            np.full(4, 0.25),
            bounds=[(0, 1)] * 4,
            constraints={"type": "eq", "fun": lambda x: x.sum() - 1},
            method="SLSQP",
            options={"ftol": 1e-14},
        )
        assert ((m.T @ p - q) ** 2).sum() <= result.fun + 1e-10


def test_solve_adjusted_exact_when_consistent():
    """Check that observed = rates.T @ p gives back p."""
    rates = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4]])
    truth = np.array([0.2, 0.5, 0.3])
    np.testing.assert_allclose(solve_adjusted(rates, rates.T @ truth), truth, atol=1e-9)
    # More features than classes (DMy's histogram bins).
    features = np.random.RandomState(RND_SEED).dirichlet(np.ones(12), size=3)
    np.testing.assert_allclose(solve_adjusted(features, truth @ features), truth, atol=1e-9)


def test_project_simplex():
    """Check the projection of points inside, outside and on the simplex."""
    points = np.array([[0.2, 0.3, 0.5], [2.0, 0.0, 0.0], [0.6, 0.6, -1.0]])
    np.testing.assert_allclose(
        project_simplex(points), [[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]
    )


def test_em_prevalence_recovers_shifted_prior():
    """Check that SLD's EM finds the prior of exact Bayes posteriors."""
    rng = np.random.RandomState(RND_SEED)
    means = np.array([-1.0, 0.0, 1.5])
    train_prior = np.array([0.6, 0.3, 0.1])
    test_prior = np.array([0.2, 0.2, 0.6])
    y = rng.choice(3, size=20000, p=test_prior)
    x = rng.normal(means[y], 1.0)
    likelihood = np.exp(-0.5 * (x[:, None] - means) ** 2)
    posteriors = likelihood * train_prior
    posteriors /= posteriors.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(em_prevalence(posteriors, train_prior), test_prior, atol=0.02)


@pytest.mark.parametrize("method", ["dmy", "kdey"])
def test_distribution_matching_exact_on_separated_classes(method):
    """Check that DMy and KDEy recover the shares when the classes never overlap."""
    centers = [[0, 0], [12, 0], [0, 12]]
    X, y = make_blobs([600, 150, 40], centers=centers, random_state=RND_SEED)
    X_new, _ = make_blobs([50, 300, 150], centers=centers, random_state=RND_SEED + 1)
    quantifier = PrevalenceEstimator(
        LogisticRegression(), method=method, n_bootstrap=100, random_state=RND_SEED
    ).fit(X, y)
    result = quantifier.predict_prevalence(X_new, confidence=0.9)
    np.testing.assert_allclose(result.prevalence, [0.1, 0.6, 0.3], atol=1e-3)
    assert np.all(result.upper - result.lower < 0.1)


def test_distribution_matching_parameters():
    """Check n_bins shapes DMy's rates, and bad n_bins or bandwidth are refused."""
    quantifier = PrevalenceEstimator(LogisticRegression(), method="dmy", n_bins=5, cv=3)
    quantifier.fit(X_TRAIN, Y_TRAIN)
    assert quantifier.rates_.shape == (3, 15)
    np.testing.assert_allclose(quantifier.rates_.reshape(3, 3, 5).sum(axis=2), 1.0)
    with pytest.raises(InvalidParameterError, match="'n_bins' parameter"):
        PrevalenceEstimator(LogisticRegression(), method="dmy", n_bins=1).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(InvalidParameterError, match="'bandwidth' parameter"):
        PrevalenceEstimator(LogisticRegression(), method="kdey", bandwidth=0).fit(
            X_TRAIN, Y_TRAIN
        )


def test_posterior_histograms():
    """Check each posterior's bin, the edges 0 and 1 included, and a batch axis."""
    proba = np.array([[0.0, 1.0], [0.49, 0.51], [0.26, 0.74]])
    features = posterior_histograms(proba, 4)
    np.testing.assert_array_equal(
        features, [[1, 0, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, 0, 1, 0]]
    )
    assert posterior_histograms(np.stack([proba, proba]), 4).shape == (2, 3, 8)


def test_kde_prevalence_recovers_mixture_weights():
    """Check KDEy's EM on points drawn from known class densities, and its weighted form."""
    rng = np.random.RandomState(RND_SEED)
    centers = np.eye(3) * 0.8 + 0.2 / 3
    targets = np.repeat([0, 1, 2], 500)
    points = kde_points(centers[targets] + rng.normal(0, 0.08, (1500, 3)), targets, 3)
    truth = np.array([0.5, 0.2, 0.3])
    y = rng.choice(3, size=3000, p=truth)
    sample = centers[y] + rng.normal(0, 0.08, (3000, 3))
    likelihoods = kde_likelihoods(sample, points, 0.1)
    np.testing.assert_allclose(kde_prevalence(likelihoods), np.bincount(y) / 3000, atol=0.01)
    uniform = [np.full((2, len(p)), 1.0 / len(p)) for p in points]
    np.testing.assert_allclose(kde_likelihoods(sample, points, 0.1, uniform)[1], likelihoods)


@parametrize_with_checks(
    [PrevalenceEstimator(GaussianNB(), method=method, cv=2, n_bootstrap=20, random_state=0)
     for method in ["acc"]]
)
def test_prevalence_sklearn_checks(estimator, check):
    """Run scikit-learn's estimator checks (all pass; none skipped)."""
    check(estimator)


def test_prevalence_ensemble_predicts_with_the_fold_models():
    """Check ensemble=True keeps the fold models and False fits one on all data."""
    folds = PrevalenceEstimator(LogisticRegression(), method="acc", cv=3).fit(X_TRAIN, Y_TRAIN)
    full = PrevalenceEstimator(
        LogisticRegression(), method="acc", cv=3, ensemble=False
    ).fit(X_TRAIN, Y_TRAIN)
    reference = LogisticRegression().fit(X_TRAIN, Y_TRAIN).coef_
    assert len(folds.classifiers_) == 3
    assert not any(np.allclose(model.coef_, reference) for model in folds.classifiers_)
    assert len(full.classifiers_) == 1
    np.testing.assert_allclose(full.classifiers_[0].coef_, reference)
    # the rates are the same out-of-fold ones either way
    np.testing.assert_array_equal(folds.rates_, full.rates_)


class _GrowingBias(LogisticRegression):
    """Logistic regression that favours class 0 more the more samples it is fitted on."""

    def fit(self, X, y):
        super().fit(X, y)
        self.intercept_[0] += (len(y) - 800) / 50  # no shift on 4/5 of 1,000
        return self


def test_prevalence_ensemble_is_unbiased_where_the_full_model_drifts():
    """Check the fold models' estimate stays right when a full-data fit predicts otherwise."""
    rng = np.random.default_rng(RND_SEED)
    samples = [_sample(shares, 600, rng) for shares in ([0.2, 0.3, 0.5], [0.5, 0.1, 0.4])]
    errors = {}
    for ensemble in (True, False):
        quantifier = PrevalenceEstimator(_GrowingBias(), method="acc", ensemble=ensemble)
        quantifier.fit(X_TRAIN, Y_TRAIN)
        errors[ensemble] = max(
            np.abs(quantifier.predict_prevalence(X) - true).max() for X, true in samples
        )
    assert errors[True] < 0.05
    assert errors[False] > 2 * errors[True]


def test_prevalence_counts_vote_per_particle(fitted):
    """Check the naive counts give each particle one label, voted by the fold models."""
    X, _ = _sample([0.6, 0.3, 0.1], 500, np.random.default_rng(RND_SEED))
    for method in ("acc", "pacc"):
        result = fitted[method].predict_prevalence(X, confidence=0.9)
        assert result.counts.sum() == 500
        models = fitted[method].classifiers_
        mean = np.mean([model.predict_proba(X) for model in models], axis=0)
        if method == "pacc":
            np.testing.assert_array_equal(result.counts, np.bincount(mean.argmax(1), minlength=3))


def test_prevalence_fold_without_a_class_raises():
    """Check a fold whose training part lacks a class is named, not a shape error."""
    from sklearn.model_selection import KFold

    X = np.random.RandomState(RND_SEED).rand(60, 2)
    y = np.r_[np.zeros(30), np.ones(20), np.full(10, 2)]  # unshuffled folds: the last lacks 2
    for method in ("acc", "pacc"):
        with pytest.raises(ValueError, match=r"classes_ \[0.0, 1.0\] differ from the classes"):
            PrevalenceEstimator(LogisticRegression(), method=method, cv=KFold(3)).fit(X, y)
