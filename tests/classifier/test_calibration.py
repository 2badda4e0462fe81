"""Tests of LipNetClassifier's temperature scaling (``calibration="temperature"``)."""

import numpy as np
import pytest
import torch

from sklipo.classifier import LipNetClassifier

rng = np.random.RandomState(0)
Y = np.repeat(["a", "b"], 40)
X = (rng.rand(80, 1, 28, 28) + 0.3 * (Y == "b")[:, None, None, None]).astype(np.float32)


@pytest.fixture(scope="module")
def calibrated():
    return LipNetClassifier(max_epochs=2, calibration="temperature", random_state=0).fit(X, Y)


def test_calibration_divides_the_logits_by_the_fitted_temperature(calibrated):
    """Check that predict_proba is softmax(logits / temperature_), argmax unchanged."""
    assert calibrated.temperature_ > 0 and calibrated.temperature_ != 1.0
    logits = calibrated.net_.forward(calibrated.network_input(X), training=False).double()
    expected = torch.softmax(logits / calibrated.temperature_, dim=1).numpy()
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), logits.numpy().argmax(axis=1))


def test_calibration_seeded_refits_are_identical(calibrated):
    """Check that two seeded fits give the same temperature and probabilities."""
    again = LipNetClassifier(max_epochs=2, calibration="temperature", random_state=0).fit(X, Y)
    assert again.temperature_ == calibrated.temperature_
    np.testing.assert_array_equal(again.predict_proba(X), calibrated.predict_proba(X))


def test_calibration_off_keeps_temperature_one():
    """Check that without calibration the temperature is 1 and nothing is held out."""
    clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, Y)
    assert clf.temperature_ == 1.0
    assert clf.net_.train_split is None


def test_calibration_needs_a_validation_split_with_every_class():
    """Check the clear error when the held-out split cannot hold every class."""
    clf = LipNetClassifier(max_epochs=1, calibration="temperature", validation_fraction=0.01)
    with pytest.raises(ValueError, match="calibration=None"):
        clf.fit(X, Y)


def test_calibration_temperature_is_in_the_onnx_graph(calibrated, tmp_path):
    """Check that the exported model answers like the calibrated predict_proba."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklipo.deployment import export_onnx

    path = export_onnx(calibrated, tmp_path / "calibrated.onnx")
    session = ort.InferenceSession(str(path))
    (proba,) = session.run(["probabilities"], {"image": X[:8]})
    np.testing.assert_allclose(proba, calibrated.predict_proba(X[:8]), atol=1e-5)
