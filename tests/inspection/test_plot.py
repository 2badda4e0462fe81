"""Tests of the kernel, feature-map and attribution displays."""

import numpy as np
import pytest

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.inspection import AttributionDisplay, FeatureMapDisplay, KernelDisplay
from sklipo.inspection._plot import _tile

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RNG = np.random.RandomState(0)
X = RNG.rand(20, 28, 28).astype(np.float32)
Y = np.repeat(["uni", "multi"], 10)


@pytest.fixture(scope="module")
def clf():
    return LipNetClassifier(max_epochs=1, random_state=0).fit(X, Y)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saved(figure, path):
    figure.savefig(path)
    return path.stat().st_size


def test_tile_places_panels_row_by_row():
    """Check that panels are tiled in order with NaN gaps and empty trailing cells."""
    panels = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    mosaic = _tile(panels, 2)
    assert mosaic.shape == (5, 5)
    np.testing.assert_array_equal(mosaic[:2, 3:], panels[1])
    np.testing.assert_array_equal(mosaic[3:, :2], panels[2])
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[3:, 3:]).all()


def test_kernel_display_symmetric_limits_and_png(clf, tmp_path):
    """Check the first layer's kernels: one panel each, colour limits symmetric."""
    display = KernelDisplay.from_estimator(clf)
    assert display.layer == "conv1" and display.ax_.get_title().startswith("conv1: 32x1 kernels")
    weights = clf.net_.module_.features[0].weight.detach().numpy()
    np.testing.assert_array_equal(display.kernels, weights)
    low, high = display.im_.get_clim()
    assert low == -high == -np.abs(weights).max()
    assert display.im_.cmap.name.startswith("RdBu_r")
    assert display.im_.get_array().shape == (4 * 4 - 1, 8 * 4 - 1)  # 32 kernels in 4x8
    assert len(display.figure_.axes) == 2  # the kernels and the colour bar
    assert _saved(display.figure_, tmp_path / "kernels.png") > 0


def test_kernel_display_deeper_layer_is_out_by_in(clf):
    """Check that a 32-input layer is tiled output channels by input channels."""
    display = KernelDisplay.from_estimator(clf, layer="conv4", colorbar=False)
    weights = clf.net_.module_.features[8].weight.detach().numpy()
    np.testing.assert_array_equal(display.kernels, weights)
    assert display.im_.get_array().shape == (32 * 4 - 1, 32 * 4 - 1)
    assert display.ax_.get_xlabel() == "input channel"
    assert len(display.figure_.axes) == 1


def test_kernel_display_unknown_layer(clf):
    """Check the error listing the conv layers."""
    with pytest.raises(ValueError, match="no conv layer 'features.0'; its conv layers are 'conv1'"):
        KernelDisplay.from_estimator(clf, layer="features.0")


def test_feature_map_display_every_layer(clf, tmp_path):
    """Check one axes for the input and one per conv layer, and the PNG."""
    display = FeatureMapDisplay.from_estimator(clf, X[[3]])
    assert len(display.axes_) == 5
    assert list(display.maps) == ["conv1", "conv2", "conv3", "conv4"]
    np.testing.assert_allclose(display.image, X[3], rtol=1e-5, atol=1e-6)
    assert display.axes_[3].get_title() == "conv3: 32 channels of 14x14"
    assert _saved(display.figure_, tmp_path / "maps.png") > 0


def test_feature_map_display_one_layer_of_fcn(tmp_path):
    """Check the FCN's maps of one particle at its own size."""
    particles = ParticleSet([RNG.rand(h, w) for h, w in [(20, 30), (33, 17)]])
    fcn = LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=0).fit(particles, [0, 1])
    display = FeatureMapDisplay.from_estimator(fcn, particles[[1]], layer="conv4")
    assert display.maps["conv4"].shape == (32, 16, 8)
    assert len(display.axes_) == 2
    assert _saved(display.figure_, tmp_path / "maps.png") > 0


def test_feature_map_display_needs_one_particle(clf):
    """Check the error for more than one particle."""
    with pytest.raises(ValueError, match="shows one particle; got 2. Pass one, e.g. X\\[\\[i\\]\\]"):
        FeatureMapDisplay.from_estimator(clf, X[:2])


def test_attribution_display_grid_and_labels(clf, tmp_path):
    """Check a row per particle, the image then one panel per method, and titles."""
    display = AttributionDisplay.from_estimator(clf, X[:3])
    assert display.axes_.shape == (3, 4)
    assert [ax.get_title() for ax in display.axes_[0, 1:]] == [
        "saliency", "guided backprop", "deconvnet"
    ]
    proba = clf.predict_proba(X[:3])
    predicted = clf.predict(X[:3])
    assert display.axes_[1, 0].get_title() == f"predicted: {predicted[1]} (p = {proba[1].max():.2f})"
    assert len(display.axes_[0, 1].get_images()) == 2  # image and map over it
    assert _saved(display.figure_, tmp_path / "attribution.png") > 0


def test_attribution_display_chosen_target_and_methods(clf):
    """Check the title of a chosen class and a single-method grid."""
    display = AttributionDisplay.from_estimator(clf, X[:2], methods=["deconvnet"], target="uni")
    assert display.axes_.shape == (2, 2)
    proba = clf.predict_proba(X[:2])[:, list(clf.classes_).index("uni")]
    assert display.axes_[0, 0].get_title() == f"target: uni (p = {proba[0]:.2f})"


def test_attribution_display_bad_methods(clf):
    """Check the errors for an unknown method and no method."""
    with pytest.raises(ValueError, match="Unknown attribution method 'lrp'"):
        AttributionDisplay.from_estimator(clf, X[:2], methods=["saliency", "lrp"])
    with pytest.raises(ValueError, match="at least one attribution method"):
        AttributionDisplay.from_estimator(clf, X[:2], methods=[])
