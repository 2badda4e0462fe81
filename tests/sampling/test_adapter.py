import pickle

import numpy as np
import pytest
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import NearMiss, RandomUnderSampler, TomekLinks
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline as SklearnPipeline
from sklearn.pipeline import make_pipeline as make_sklearn_pipeline

from sklipo import ParticleSet
from sklipo.preprocessing import Flatten, Resize
from sklipo.sampling import ParticleSampler

RND_SEED = 0


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; records the class counts it was fitted on."""

    fitted_counts = []

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        type(self).fitted_counts.append(np.bincount(y, minlength=3))
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize(
    "sampler",
    [
        RandomOverSampler(random_state=RND_SEED),
        RandomUnderSampler(random_state=RND_SEED),
        NearMiss(n_neighbors=2),
        TomekLinks(),
        SMOTE(k_neighbors=3, random_state=RND_SEED),
        ADASYN(n_neighbors=3, random_state=RND_SEED),
        BorderlineSMOTE(k_neighbors=3, m_neighbors=5, random_state=RND_SEED),
    ],
    ids=lambda sampler: type(sampler).__name__,
)
def test_particle_sampler_runs_in_cross_validate(resized, sampler):
    """Check that each sampler runs as an imblearn pipeline step on resized images."""
    X, y = resized
    pipe = Pipeline(
        [("sampler", ParticleSampler(sampler)), ("flatten", Flatten()), ("clf", RidgeClassifier())]
    )
    scores = cross_validate(pipe, X, y, cv=StratifiedKFold(3), error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


@pytest.mark.parametrize("sampler", [RandomOverSampler(random_state=RND_SEED), RandomUnderSampler(random_state=RND_SEED)])
def test_particle_sampler_random_runs_on_particle_sets_in_cross_validate(liposomes, sampler):
    """Check that random samplers resample variable-size particles before Resize."""
    X, y = liposomes
    pipe = Pipeline(
        [("sampler", ParticleSampler(sampler)), ("resize", Resize(8)), ("flatten", Flatten()),
         ("clf", RidgeClassifier())]
    )
    scores = cross_validate(pipe, X, y, cv=StratifiedKFold(3), error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


def test_particle_sampler_leaves_test_folds_untouched(liposomes):
    """Check that the scorer sees the original test folds while fits see balanced ones."""
    X, y = liposomes
    seen = []

    def scorer(estimator, X_test, y_test):
        seen.append((len(X_test), np.bincount(y_test, minlength=3)))
        return 0.0

    RecordingClassifier.fitted_counts = []
    pipe = Pipeline(
        [("sampler", ParticleSampler(RandomOverSampler(random_state=RND_SEED))),
         ("clf", RecordingClassifier())]
    )
    cv = StratifiedKFold(3)
    cross_validate(pipe, X, y, cv=cv, scoring=scorer, error_score="raise")
    expected = [(len(test), np.bincount(y[test], minlength=3)) for _, test in cv.split(X, y)]
    assert [n for n, _ in seen] == [n for n, _ in expected]
    for (_, counts), (_, want) in zip(seen, expected):
        np.testing.assert_array_equal(counts, want)
    for counts in RecordingClassifier.fitted_counts:
        assert len(set(counts.tolist())) == 1  # balanced training folds


def test_particle_sampler_random_selection_shares_buffers(liposomes):
    """Check that random oversampling returns whole particles without copying pixels."""
    X, y = liposomes
    sampler = ParticleSampler(RandomOverSampler(random_state=RND_SEED))
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, ParticleSet)
    assert np.bincount(y_res).tolist() == [36, 36, 36]
    idx = sampler.sample_indices_
    np.testing.assert_array_equal(y_res, y[idx])
    assert all(a is X.images[i] for a, i in zip(X_res.images, idx))
    assert all(m is X.masks[i] for m, i in zip(X_res.masks, idx))
    np.testing.assert_array_equal(X_res.ids, X.ids[idx])
    np.testing.assert_array_equal(X_res.sizes, X.sizes[idx])


def test_particle_sampler_neighbour_selection_in_feature_space(liposomes):
    """Check that NearMiss compares particles in the feature space and returns particles."""
    X, y = liposomes
    space = SklearnPipeline([("resize", Resize(8)), ("flatten", Flatten())])
    sampler = ParticleSampler(NearMiss(n_neighbors=2), feature_space=space)
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, ParticleSet)
    assert np.bincount(y_res).tolist() == [8, 8, 8]
    assert all(a is X.images[i] for a, i in zip(X_res.images, sampler.sample_indices_))
    assert sampler.feature_space_.named_steps["flatten"].n_features_in_ == 64


def test_particle_sampler_smote_on_images_returns_images(resized):
    """Check that SMOTE on a fixed-size stack returns images; originals first."""
    X, y = resized
    X_res, y_res = ParticleSampler(SMOTE(k_neighbors=3, random_state=RND_SEED)).fit_resample(X, y)
    assert X_res.shape == (108, 1, 12, 12)
    assert X_res.dtype == X.dtype
    np.testing.assert_array_equal(X_res[:60], X)
    assert np.bincount(y_res).tolist() == [36, 36, 36]
    # New images lie between existing ones, pixel by pixel.
    assert X_res.min() >= X.min() and X_res.max() <= X.max()


def test_particle_sampler_smote_in_feature_space_returns_features(liposomes):
    """Check that a synthesiser in a feature space returns feature vectors."""
    X, y = liposomes
    space = SklearnPipeline([("resize", Resize(6)), ("flatten", Flatten())])
    sampler = ParticleSampler(SMOTE(k_neighbors=3, random_state=RND_SEED), feature_space=space)
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.shape == (108, 36)
    assert not hasattr(sampler, "sample_indices_")


def test_particle_sampler_is_reproducible(resized):
    """Check that a seeded sampler gives the same output twice and another seed differs."""
    X, y = resized
    runs = [
        ParticleSampler(SMOTE(k_neighbors=3, random_state=seed)).fit_resample(X, y)[0]
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_particle_sampler_clone_and_pickle(resized):
    """Check that the adapter clones with its sampler and pickles once fitted."""
    X, y = resized
    sampler = ParticleSampler(RandomOverSampler(random_state=RND_SEED))
    cloned = clone(sampler)
    assert cloned.sampler is not sampler.sampler
    assert cloned.get_params()["sampler__random_state"] == RND_SEED
    sampler.fit_resample(X, y)
    restored = pickle.loads(pickle.dumps(sampler))
    np.testing.assert_array_equal(restored.sample_indices_, sampler.sample_indices_)


def test_particle_sampler_synthesis_on_variable_sizes_raises(liposomes):
    """Check that SMOTE on variable-size particles asks for Resize or a feature space."""
    X, y = liposomes
    with pytest.raises(ValueError, match="SMOTE synthesises.*Resize.*feature_space"):
        ParticleSampler(SMOTE(k_neighbors=3)).fit_resample(X, y)
    with pytest.raises(ValueError, match="NearMiss compares particles by their pixels.*Resize"):
        ParticleSampler(NearMiss()).fit_resample(X, y)


def test_particle_sampler_small_class_for_smote_raises(resized):
    """Check that a class smaller than k_neighbors + 1 gives an error with the fix."""
    X, y = resized
    with pytest.raises(ValueError, match=r"k_neighbors=8.*\{2: 8\}.*k_neighbors=7 or less"):
        ParticleSampler(SMOTE(k_neighbors=8)).fit_resample(X, y)
    with pytest.raises(ValueError, match="could not find enough neighbours.*AugmentedOverSampler"):
        ParticleSampler(NearMiss(n_neighbors=20)).fit_resample(X, y)


def test_particle_sampler_absent_class_raises(liposomes):
    """Check that a sampling_strategy naming an absent class is reported."""
    X, y = liposomes
    sampler = ParticleSampler(RandomOverSampler(sampling_strategy={5: 100}))
    with pytest.raises(ValueError, match=r"The \{5\} target class is/are not present"):
        sampler.fit_resample(X, y)


def test_particle_sampler_in_sklearn_pipeline_raises(liposomes):
    """Check that scikit-learn's Pipeline refuses the sampler instead of skipping it."""
    X, y = liposomes
    middle = make_sklearn_pipeline(
        ParticleSampler(RandomOverSampler()), Resize(8), Flatten(), RidgeClassifier()
    )
    with pytest.raises(TypeError, match="intermediate steps should be transformers"):
        middle.fit(X, y)
    last = make_sklearn_pipeline(ParticleSampler(RandomOverSampler()))
    with pytest.raises(TypeError, match="imblearn.pipeline.Pipeline"):
        last.fit(X, y)
    with pytest.raises(TypeError, match="fit_resample"):
        ParticleSampler(RandomOverSampler()).fit(X, y)


@pytest.mark.parametrize(
    "X, err, match",
    [
        (np.zeros((60, 5)), ValueError, "2-D matrix of features needs no adapter"),
        ("images", TypeError, "takes particles"),
        (np.zeros((59, 4, 4)), ValueError, "inconsistent numbers of samples"),
    ],
)
def test_particle_sampler_bad_input_raises(liposomes, X, err, match):
    """Check that input that is not particles is rejected with a clear message."""
    y = liposomes[1]
    with pytest.raises(err, match=match):
        ParticleSampler(RandomOverSampler()).fit_resample(X, y)


def test_particle_sampler_feature_space_shape_raises(liposomes):
    """Check that a feature space that does not return a matrix is reported."""
    X, y = liposomes
    with pytest.raises(ValueError, match="feature_space must turn 60 particles into a 2-D"):
        ParticleSampler(NearMiss(), feature_space=Resize(6)).fit_resample(X, y)


def test_particle_sampler_rejects_non_sampler():
    """Check that the wrapped object must have fit_resample."""
    X = np.zeros((4, 3, 3))
    with pytest.raises(ValueError, match="'sampler' parameter of ParticleSampler"):
        ParticleSampler(LogisticRegression()).fit_resample(X, [0, 0, 1, 1])
