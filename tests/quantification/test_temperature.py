"""Tests of temperature scaling, and of scikit-learn's temperature calibration on LipNet."""

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.calibration import CalibratedClassifierCV

from sklipo.quantification import apply_temperature, fit_temperature

RND_SEED = 0


def _gaussian_logits(n, rng):
    """Calibrated logits of three unit-variance Gaussian classes, and the labels."""
    y = rng.randint(0, 3, n)
    x = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[y]
    return 2.0 * x, y


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_fit_temperature_recovers_scale(scale):
    """Check that logits made over- or under-confident by `scale` give T close to it."""
    logits, y = _gaussian_logits(4000, np.random.RandomState(RND_SEED))
    assert fit_temperature(y, scale * logits) == pytest.approx(scale, rel=0.1)


def test_fit_temperature_labels_and_log_probabilities():
    """Check string labels and log-probabilities (equivalent to logits)."""
    logits, y = _gaussian_logits(2000, np.random.RandomState(RND_SEED))
    names = np.array(["empty", "full", "uncertain"])
    from_logits = fit_temperature(y, 2 * logits)
    from_log_proba = fit_temperature(names[y], np.log(softmax(2 * logits, axis=1)), labels=names)
    assert from_log_proba == pytest.approx(from_logits, rel=1e-3)


def test_apply_temperature_keeps_ranking():
    """Check that scaling keeps every argmax and normalises rows."""
    logits, _ = _gaussian_logits(100, np.random.RandomState(RND_SEED))
    proba = apply_temperature(logits, 2.5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), logits.argmax(axis=1))


def test_temperature_errors():
    """Check the errors for bad shapes, unknown labels and a non-positive T."""
    with pytest.raises(ValueError, match="logits must have shape"):
        fit_temperature([0, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="outside"):
        fit_temperature(["a", "z"], np.zeros((2, 2)), labels=["a", "b"])
    with pytest.raises(ValueError, match="temperature must be positive"):
        apply_temperature(np.zeros((1, 2)), 0.0)


def test_calibrated_classifier_cv_temperature_on_lipnet():
    """Check that scikit-learn's temperature calibration wraps LipNetClassifier."""
    from sklipo.classifier import LipNetClassifier

    rng = np.random.RandomState(RND_SEED)
    y = np.repeat([0, 1, 2], 12)
    X = rng.rand(36, 1, 12, 12).astype(np.float32) + y[:, None, None, None] * 0.5
    net = LipNetClassifier("lipnet1", max_epochs=2, augment=None, random_state=RND_SEED)
    model = CalibratedClassifierCV(net, method="temperature", cv=2, ensemble=False).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (36, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
