"""Tests of the access to a fitted LipNet's layers and activations."""

import numpy as np
import pytest
import torch
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.inspection import conv_layers, feature_maps
from sklipo.preprocessing import Flatten, Resize

RNG = np.random.RandomState(0)
X = RNG.rand(20, 28, 28).astype(np.float32)
Y = np.repeat([0, 1], 10)
PARTICLES = ParticleSet([RNG.rand(h, w) for h, w in [(20, 30), (33, 17), (25, 25), (16, 41)]])


@pytest.fixture(scope="module")
def clf():
    return LipNetClassifier(max_epochs=1, random_state=0).fit(X, Y)


@pytest.fixture(scope="module")
def fcn():
    return LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=0).fit(PARTICLES, [0, 1, 0, 1])


def test_conv_layers_in_forward_order(clf, fcn):
    """Check the architecture's conv layer names of LipNet-4, LipNet-4c and the FCN."""
    assert conv_layers(clf) == ["conv1", "conv2", "conv3", "conv4"]
    c = LipNetClassifier("lipnet4c", max_epochs=1, random_state=0).fit(X, Y)
    assert conv_layers(c) == [f"conv{i}" for i in range(1, 8)]
    # LipNet-4c's last convolution is its 1x1 head, one channel per class
    assert feature_maps(c, X[:1], layer="conv7")["conv7"].shape[:2] == (1, 2)
    assert conv_layers(fcn) == [f"conv{i}" for i in range(1, 7)]


def test_conv_layers_of_sklearn_and_imblearn_pipelines():
    """Check that a pipeline ending in a LipNetClassifier is inspected through it."""
    for pipeline in (
        make_pipeline(Resize(28), LipNetClassifier(max_epochs=1, random_state=0)),
        ImbPipeline([("resize", Resize(28)), ("net", LipNetClassifier(max_epochs=1, random_state=0))]),
    ):
        pipeline.fit(PARTICLES, [0, 1, 0, 1])
        assert conv_layers(pipeline) == ["conv1", "conv2", "conv3", "conv4"]


def test_conv_layers_rejects_unfitted_and_non_lipnet_models():
    """Check NotFittedError for an unfitted net and TypeError for other models."""
    with pytest.raises(NotFittedError):
        conv_layers(LipNetClassifier())
    with pytest.raises(NotFittedError):
        conv_layers(make_pipeline(Resize(28), LipNetClassifier()))
    pipeline = make_pipeline(Resize(28), Flatten(), LogisticRegression()).fit(X, Y)
    with pytest.raises(TypeError, match="the pipeline's last step is LogisticRegression"):
        conv_layers(pipeline)
    with pytest.raises(TypeError, match="a fitted Pipeline whose last step is one; got LogisticRegression"):
        conv_layers(LogisticRegression())


def test_feature_maps_unknown_layer_lists_layers(clf):
    """Check that a layer name that does not exist raises and lists the real ones."""
    listed = "its conv layers are 'conv1', 'conv2', 'conv3', 'conv4'"
    with pytest.raises(ValueError, match=f"no conv layer 'conv5'; {listed}"):
        feature_maps(clf, X[:2], layer="conv5")
    # torch module paths are not layer names
    with pytest.raises(ValueError, match="no conv layer 'features.0'"):
        feature_maps(clf, X[:2], layer=["conv1", "features.0"])


def test_feature_maps_shapes_and_relu(clf):
    """Check the per-layer shapes and that the maps are the conv outputs after ReLU."""
    maps = feature_maps(clf, X[:3])
    assert {name: m.shape for name, m in maps.items()} == {
        "conv1": (3, 32, 28, 28),
        "conv2": (3, 32, 28, 28),
        "conv3": (3, 32, 14, 14),
        "conv4": (3, 32, 14, 14),
    }
    module = clf.net_.module_
    with torch.no_grad():
        x = clf.network_input(X[:3]).X
        expected = torch.relu(module.features[0](x)).numpy()
    np.testing.assert_allclose(maps["conv1"], expected, rtol=1e-5, atol=1e-6)


def test_feature_maps_batches_agree(clf):
    """Check that the batch size does not change the maps."""
    one = feature_maps(clf, X[:5], layer="conv4", batch_size=1)["conv4"]
    all_ = feature_maps(clf, X[:5], layer="conv4")["conv4"]
    np.testing.assert_allclose(one, all_, rtol=1e-5, atol=1e-6)


def test_feature_maps_fcn_cropped_to_each_particle(fcn):
    """Check that the FCN's padded maps are cropped to each particle's own region."""
    maps = feature_maps(fcn, PARTICLES, layer=["conv1", "conv4", "conv6"])
    assert [m.shape for m in maps["conv1"]] == [
        (32, 20, 30), (32, 33, 17), (32, 25, 25), (32, 16, 41)
    ]
    assert [m.shape[1:] for m in maps["conv4"]] == [(10, 15), (16, 8), (12, 12), (8, 20)]
    assert [m.shape[1:] for m in maps["conv6"]] == [(5, 7), (8, 4), (6, 6), (4, 10)]
    # padding does not change a particle's maps: alone, it gives the same
    alone = feature_maps(fcn, PARTICLES[[1]], layer="conv6")["conv6"][0]
    np.testing.assert_allclose(maps["conv6"][1], alone, rtol=1e-4, atol=1e-5)


def test_feature_maps_leave_the_estimator_untouched(clf):
    """Check that inspecting neither switches the module's mode nor adds hooks."""
    before = clf.predict_proba(X)
    clf.net_.module_.train()
    feature_maps(clf, X)
    assert clf.net_.module_.training
    assert not any(m._forward_hooks for m in clf.net_.module_.modules())
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def test_feature_maps_of_two_branch_fcn_are_after_relu():
    # Check that the image branch of a two-branch FCN is found and recorded after its ReLU.
    extra = FunctionTransformer(lambda X: np.array([[float(np.mean(p.image))] for p in X]))
    clf = LipNetClassifier(
        "lipnet_fcn", extra_features=extra, max_epochs=1, random_state=0
    ).fit(PARTICLES, [0, 1, 0, 1])
    assert conv_layers(clf) == [f"conv{i}" for i in range(1, 7)]
    maps = feature_maps(clf, PARTICLES[:2], layer="conv1")["conv1"]
    assert [m.shape for m in maps] == [(32, 20, 30), (32, 33, 17)]
    assert all(m.min() >= 0 for m in maps) and any(m.max() > 0 for m in maps)
