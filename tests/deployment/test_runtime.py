"""Tests of prediction through ONNX Runtime."""

import numpy as np
import pytest

from sklipo.classifier import LipNetClassifier
from sklipo.deployment._runtime import OnnxPredictor, runtime_predictor

pytest.importorskip("onnxruntime")

RNG = np.random.RandomState(0)
X = RNG.rand(40, 28, 28).astype(np.float32)
Y = np.arange(40) % 2


@pytest.fixture(scope="module")
def clf():
    return LipNetClassifier("lipnet4", max_epochs=1, random_state=0).fit(X, Y)


def test_runtime_onnx_matches_torch(clf):
    """Check that ONNX Runtime gives torch's probabilities and labels."""
    predictor = runtime_predictor(clf, "onnx", threads=1)
    assert isinstance(predictor, OnnxPredictor)
    np.testing.assert_allclose(predictor.predict_proba(X), clf.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(predictor.predict(X), clf.predict(X))
    assert predictor.runtime_ == "onnx" and predictor.parity_ <= 1e-5


def test_runtime_falls_back_to_torch_when_results_differ(clf):
    """Check that a parity failure warns and predicts with torch from then on."""
    predictor = OnnxPredictor(clf, threads=1)
    predictor._run = lambda X: np.full((len(X), 2), 0.5)
    with pytest.warns(RuntimeWarning, match="predicting with torch"):
        proba = predictor.predict_proba(X)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    assert predictor.runtime_ == "torch"


def test_runtime_auto_keeps_what_onnx_cannot_run(clf):
    """Check that auto returns the estimator itself for TTA and non-LipNet models."""
    tta = LipNetClassifier("lipnet4", max_epochs=1, random_state=0, tta="flips").fit(X, Y)
    assert runtime_predictor(tta, "auto") is tta
    assert runtime_predictor(clf, "torch") is clf
    with pytest.raises(ValueError, match="tta"):
        runtime_predictor(tta, "onnx")
    with pytest.raises(ValueError, match="runtime must be"):
        runtime_predictor(clf, "tensorrt")
