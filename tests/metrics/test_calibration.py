"""Tests of the expected calibration error and the reliability diagram."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from sklipo.metrics import ReliabilityDisplay, expected_calibration_error

RND_SEED = 0
X, Y = make_classification(
    n_samples=300, n_classes=3, n_informative=4, random_state=RND_SEED
)


def test_ece_hand_computed():
    """Check the top-label ECE on a case worked by hand."""
    y_proba = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8]]
    # Bin of 0.9: 2 of 3 right, gap 0.9 - 2/3; bin of 0.8: right, gap 0.2.
    expected = (3 * abs(2 / 3 - 0.9) + abs(1 - 0.8)) / 4
    assert expected_calibration_error([0, 0, 1, 1], y_proba, n_bins=10) == pytest.approx(expected)


def test_ece_near_zero_when_calibrated():
    """Check that labels drawn from the probabilities give an ECE near 0."""
    rng = np.random.RandomState(RND_SEED)
    proba = rng.dirichlet([1, 1, 1], size=20000)
    y = (proba.cumsum(axis=1) > rng.rand(20000, 1)).argmax(axis=1)
    assert expected_calibration_error(y, proba) < 0.02
    overconfident = proba**3 / (proba**3).sum(axis=1, keepdims=True)
    assert expected_calibration_error(y, overconfident) > 0.1


def test_ece_labels_give_column_order():
    """Check labels for string classes and a class missing from y_true."""
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match="pass labels=estimator.classes_"):
        expected_calibration_error(["a", "b"], proba)
    ece = expected_calibration_error(["a", "b"], proba, labels=["a", "b", "c"], n_bins=10)
    assert ece == pytest.approx((0.3 + 0.2) / 2)


def test_ece_bad_input():
    """Check the errors for one-column probabilities and empty input."""
    with pytest.raises(ValueError, match="at least two classes"):
        expected_calibration_error([0, 1], [[1.0], [0.0]])
    with pytest.raises(ValueError, match="empty"):
        expected_calibration_error([], np.empty((0, 2)))


matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("kind, n_curves", [("top_label", 1), ("one_vs_rest", 3)])
def test_reliability_display_from_estimator_cv(kind, n_curves):
    """Check the curves of a cross-validated classifier, with the ECE in the legend."""
    display = ReliabilityDisplay.from_estimator(
        LogisticRegression(max_iter=500), X, Y, cv=3, kind=kind, n_bins=5
    )
    assert len(display.lines_) == n_curves
    assert display.ax_.get_xlabel() == "Predicted probability"
    assert 0 <= display.ece <= 1
    if kind == "top_label":
        legend = [text.get_text() for text in display.ax_.get_legend().get_texts()]
        assert any("ECE" in text for text in legend)


def test_reliability_display_from_predictions_matches_ece():
    """Check from_predictions on a fitted model and the stored ECE."""
    model = LogisticRegression(max_iter=500).fit(X, Y)
    proba = model.predict_proba(X)
    display = ReliabilityDisplay.from_predictions(
        Y, proba, labels=model.classes_, estimator_name="lr"
    )
    assert display.ece == pytest.approx(expected_calibration_error(Y, proba))
    assert display.ax_.get_title() == "lr"
    for true, pred in zip(display.prob_true, display.prob_pred):
        assert true.shape == pred.shape


def test_reliability_display_errors():
    """Check the errors for an unknown kind and a regressor."""
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="kind must be"):
        ReliabilityDisplay.from_predictions(Y, np.full((len(Y), 3), 1 / 3), kind="classwise")
    with pytest.raises(ValueError, match="not a classifier"):
        ReliabilityDisplay.from_estimator(LinearRegression(), X, Y)
