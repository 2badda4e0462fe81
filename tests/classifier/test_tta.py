"""Tests of LipNetClassifier's test-time augmentation and post-hoc logit adjustment."""

import numpy as np
import pytest
import torch

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.classifier._tta import TTA_TRANSFORMS, transform_image

RND_SEED = 0


def _images(n=40, size=12, seed=RND_SEED):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 1, size, size).astype(np.float32), np.arange(n) % 2


def _clf(**params):
    return LipNetClassifier("lipnet1", max_epochs=1, augment=None, random_state=RND_SEED, **params)


@pytest.fixture(scope="module")
def fitted():
    X, y = _images()
    return _clf().fit(X, y), X


@pytest.mark.parametrize("tta, n", [("dihedral", 8), ("flips", 4)])
def test_tta_transforms_are_distinct_group_elements(tta, n):
    """Check that the transforms are distinct, and flips keep the shape."""
    x = torch.arange(12.0).reshape(1, 3, 4)
    outputs = [transform_image(x, turns, flip) for turns, flip in TTA_TRANSFORMS[tta]]
    assert len({tuple(o.flatten().tolist()) + tuple(o.shape) for o in outputs}) == n
    if tta == "flips":
        assert all(o.shape == x.shape for o in outputs)


def test_tta_averages_over_transformed_copies(fitted):
    """Check that dihedral TTA is the mean of the plain predictions of the 8 copies."""
    clf, X = fitted
    expected = np.mean(
        [
            clf.predict_proba(transform_image(torch.from_numpy(X), turns, flip).numpy())
            for turns, flip in TTA_TRANSFORMS["dihedral"]
        ],
        axis=0,
    )
    clf.set_params(tta="dihedral")
    try:
        proba = clf.predict_proba(X)
    finally:
        clf.set_params(tta=None)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_tta_makes_predictions_invariant_to_the_group(fitted):
    """Check that a turned or flipped particle gets the same TTA probabilities."""
    clf, X = fitted
    clf.set_params(tta="dihedral")
    try:
        proba = clf.predict_proba(X)
        turned = clf.predict_proba(np.rot90(X, 1, axes=(2, 3)).copy())
        flipped = clf.predict_proba(X[..., ::-1].copy())
    finally:
        clf.set_params(tta=None)
    np.testing.assert_allclose(turned, proba, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(flipped, proba, rtol=1e-4, atol=1e-5)


def test_tta_on_variable_sizes_turns_each_particle_in_its_own_frame():
    """Check lipnet_fcn: a particle's TTA output does not depend on its batch mates."""
    rng = np.random.RandomState(RND_SEED)
    X = ParticleSet([rng.rand(16 + i % 5, 20 + i % 3) for i in range(20)])
    y = np.arange(20) % 2
    clf = LipNetClassifier("lipnet_fcn", max_epochs=1, augment=None, tta="dihedral",
                           random_state=RND_SEED).fit(X, y)
    proba = clf.predict_proba(X)
    alone = np.vstack([clf.predict_proba(X[[i]]) for i in (0, 7)])
    np.testing.assert_allclose(alone, proba[[0, 7]], rtol=1e-4, atol=1e-5)
    turned = ParticleSet([np.rot90(image).copy() for image in X.images])
    np.testing.assert_allclose(clf.predict_proba(turned), proba, rtol=1e-4, atol=1e-5)


def test_dihedral_tta_refuses_non_square_fixed_inputs():
    """Check that a fixed-size net on non-square images says to use flips."""
    X = np.random.RandomState(RND_SEED).rand(20, 12, 16)
    clf = _clf(tta="dihedral").fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="tta='flips'"):
        clf.predict(X)
    assert clf.set_params(tta="flips").predict_proba(X).shape == (20, 2)


def test_logit_adjustment_raises_rare_class_probability(fitted):
    """Check post-hoc adjustment: softmax(logits - s log prior), no refit."""
    clf, X = fitted
    X_rare, y_rare = _images(n=40)
    y_rare = np.r_[np.zeros(36, int), np.ones(4, int)]
    clf = _clf().fit(X_rare, y_rare)
    plain = clf.predict_proba(X)
    adjusted = clf.set_params(logit_adjustment=1.0).predict_proba(X)
    np.testing.assert_allclose(clf.class_prior_, [0.9, 0.1])
    assert (adjusted[:, 1] > plain[:, 1]).all()
    # the odds change by exactly the prior ratio
    odds = (adjusted[:, 1] / adjusted[:, 0]) / (plain[:, 1] / plain[:, 0])
    np.testing.assert_allclose(odds, 9.0, rtol=1e-4)


@pytest.mark.parametrize("params", [{"tta": "dihedral"}, {"logit_adjustment": 1.0}])
def test_export_onnx_refuses_prediction_options(fitted, params):
    """Check that ONNX export names the option its graph would leave out."""
    from sklipo.deployment import export_onnx

    clf, _ = fitted
    clf.set_params(**params)
    try:
        with pytest.raises(ValueError, match=f"{next(iter(params))}="):
            export_onnx(clf, "never-written.onnx")
    finally:
        clf.set_params(tta=None, logit_adjustment=None)
