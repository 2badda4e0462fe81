"""Tests of the attribution maps (saliency, guided backprop, deconvnet)."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import make_pipeline

from sklipo import ParticleSet, as_particle_set
from sklipo.classifier import LipNetClassifier
from sklipo.inspection import ATTRIBUTION_METHODS, attribution
from sklipo.preprocessing import Resize

RNG = np.random.RandomState(0)
X = RNG.rand(20, 28, 28).astype(np.float32)
Y = np.repeat(["a", "b"], 10)
PARTICLES = ParticleSet([RNG.rand(h, w) for h, w in [(20, 30), (33, 17), (25, 25), (16, 41)]])


def _blobs(n, rng, low, high):
    """Gaussian blobs (sigma 1.5 px) centred uniformly in the box [low, high)."""
    rows, cols = np.mgrid[:28, :28]
    cy = rng.uniform(low[0], high[0], n)[:, None, None]
    cx = rng.uniform(low[1], high[1], n)[:, None, None]
    return np.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / (2 * 1.5**2))


def _region_task(n, seed):
    """Noise with two bright distractor blobs outside the top-left quadrant;
    class 1 also has a blob inside it, so only that quadrant decides the class."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    X = rng.normal(0, 0.3, (n, 28, 28))
    for _ in range(2):
        bottom = (rng.rand(n) < 2 / 3)[:, None, None]
        X += 1.5 * np.where(
            bottom, _blobs(n, rng, (16, 2), (26, 26)), _blobs(n, rng, (2, 16), (12, 26))
        )
    X += 1.5 * y[:, None, None] * _blobs(n, rng, (3, 3), (11, 11))
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def clf():
    return LipNetClassifier(max_epochs=1, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def region_model():
    """A LipNet-4 trained on the region task, with held-out data."""
    X_train, y_train = _region_task(400, 0)
    X_test, y_test = _region_task(100, 100)
    model = LipNetClassifier(max_epochs=6, augment=None, random_state=0).fit(X_train, y_train)
    return model, X_test, y_test


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_attribution_has_input_shape(clf, method):
    """Check one non-negative map per particle, of the input's spatial shape."""
    maps = attribution(clf, X[:5], method=method)
    assert maps.shape == (5, 28, 28) and maps.dtype == np.float32
    assert (maps >= 0).all() and (maps.sum(axis=(1, 2)) > 0).all()


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_attribution_fcn_has_each_particle_shape(method):
    """Check that the FCN gives each particle a map of its own size."""
    fcn = LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=0).fit(PARTICLES, [0, 1, 0, 1])
    maps = attribution(fcn, PARTICLES, method=method)
    assert [m.shape for m in maps] == [(20, 30), (33, 17), (25, 25), (16, 41)]
    alone = attribution(fcn, PARTICLES[[3]], method=method)[0]
    np.testing.assert_allclose(maps[3], alone, rtol=1e-4, atol=1e-6)


def test_attribution_in_the_pipeline_input_frame():
    """Check that a pipeline's maps are in the frame of the network's input."""
    pipeline = make_pipeline(Resize(20), LipNetClassifier(max_epochs=1, random_state=0))
    pipeline.fit(PARTICLES, [0, 1, 0, 1])
    assert attribution(pipeline, PARTICLES, method="deconvnet").shape == (4, 20, 20)


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_attribution_batch_equals_one_at_a_time(clf, method):
    """Check that one backward pass over a batch gives each particle's own map."""
    batch = attribution(clf, X[:6], method=method, target="b")
    single = np.concatenate(
        [attribution(clf, X[i : i + 1], method=method, target="b") for i in range(6)]
    )
    np.testing.assert_allclose(batch, single, rtol=1e-4, atol=1e-7)


def test_attribution_target_default_is_predicted_class(clf):
    """Check that target=None explains each particle's predicted class."""
    predicted = clf.predict(X[:8])
    np.testing.assert_allclose(
        attribution(clf, X[:8]), attribution(clf, X[:8], target=predicted), rtol=1e-6
    )
    other = np.where(predicted == "a", "b", "a")
    assert not np.allclose(attribution(clf, X[:8]), attribution(clf, X[:8], target=other))


def test_attribution_bad_input(clf):
    """Check the errors for an unknown method and unknown or misshapen targets."""
    with pytest.raises(ValueError, match="Unknown attribution method 'gradcam'; choose one of"):
        attribution(clf, X[:2], method="gradcam")
    with pytest.raises(ValueError, match=r"labels the classifier does not know: \['c'\]"):
        attribution(clf, X[:2], target="c")
    with pytest.raises(ValueError, match=r"one per particle \(2\); got an array of shape \(3,\)"):
        attribution(clf, X[:2], target=["a", "b", "a"])


def test_attribution_leaves_the_estimator_untouched(clf):
    """Check that the fitted module keeps its in-place ReLUs, grads and predictions."""
    before = clf.predict_proba(X)
    grads = [p.grad.clone() for p in clf.net_.module_.parameters()]
    attribution(clf, X, method="guided_backprop")
    for p, grad in zip(clf.net_.module_.parameters(), grads):
        assert p.requires_grad
        np.testing.assert_array_equal(p.grad, grad)
    assert clf.net_.module_.features[1].inplace
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_attribution_methods_differ(region_model):
    """Check that guided backprop and deconvnet are not plain saliency."""
    model, X_test, _ = region_model
    saliency = attribution(model, X_test, method="saliency")
    for method in ("guided_backprop", "deconvnet"):
        maps = attribution(model, X_test, method=method)
        corr = np.corrcoef(saliency.ravel(), maps.ravel())[0, 1]
        assert corr < 0.95, method
    guided = attribution(model, X_test, method="guided_backprop")
    assert not np.allclose(guided, attribution(model, X_test, method="deconvnet"))


@pytest.mark.parametrize("method", ATTRIBUTION_METHODS)
def test_attribution_mass_in_the_deciding_region(region_model, method):
    """Check that the maps concentrate where the class is decided.

    Only the top-left quadrant (a quarter of the image) tells the classes
    apart; bright distractors lie elsewhere. For particles of class 1, the maps
    of class 1 put at least twice that area share (0.5) of their mass in the
    quadrant (over seeds 0-4: 0.60-0.88).
    """
    model, X_test, y_test = region_model
    assert (model.predict(X_test) == y_test).mean() > 0.9
    maps = attribution(model, X_test[y_test == 1], method=method, target=1)
    assert maps[:, :14, :14].sum() / maps.sum() > 0.5


class _MeanIntensity(TransformerMixin, BaseEstimator):
    """One handcrafted feature for the two-branch tests: each particle's mean pixel."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([[np.mean(image)] for image in as_particle_set(X).images])


@pytest.mark.parametrize("architecture", ["lipnet4", "lipnet_fcn"])
def test_attribution_two_branch_network(architecture):
    # Check that a network with extra features is explained through its image
    # input (features held fixed): maps of the right shape, per particle.
    rng = np.random.RandomState(1)
    particles = ParticleSet([rng.rand(h, w) for h, w in [(20, 30), (33, 17), (25, 25), (16, 41)] * 3])
    y = np.tile([0, 1], 6)
    pipeline = make_pipeline(
        LipNetClassifier(
            architecture,
            image_transformer=Resize(28) if architecture == "lipnet4" else None,
            extra_features=_MeanIntensity(),
            max_epochs=1,
            random_state=0,
        )
    ).fit(particles, y)
    for method in ATTRIBUTION_METHODS:
        maps = attribution(pipeline, particles[:3], method=method)
        shapes = [m.shape for m in maps]
        if architecture == "lipnet4":
            assert shapes == [(28, 28)] * 3
        else:
            assert shapes == [(20, 30), (33, 17), (25, 25)]
        assert all(np.isfinite(m).all() and m.max() > 0 for m in maps)
