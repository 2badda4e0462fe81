"""Tests of LipNetClassifier."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    parametrize_with_checks,
)

from sklipo import ParticleSet
from sklipo.augmentation import Augmentation
from sklipo.classifier import ImageData, LipNetClassifier
from sklipo.classifier import _net
from sklipo.features import ParticleFeatures
from sklipo.nets import ARCHITECTURES, HybridLipNet, LipNetFCN
from sklipo.preprocessing import CropParticle, Resize
from tests._checks import IMAGE_CLASSIFIER_CHECKS, expected_failures

RND_SEED = 0

@parametrize_with_checks(
    [LipNetClassifier(max_epochs=1, random_state=RND_SEED)],
    expected_failed_checks=lambda est: expected_failures(
        IMAGE_CLASSIFIER_CHECKS, "tests/classifier/test_lipnet_classifier.py"
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _shapes(n, size, rng):
    """Discs against rings of random radius, on noise, as 8-bit images."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    radius = rng.uniform(size / 6, size / 2.5, n)[:, None, None]
    labels = rng.randint(2, size=n)
    distance = np.hypot(yy, xx)[None]
    disc = distance < radius
    ring = np.abs(distance - radius) < 1.0
    shape = np.where(labels[:, None, None] == 0, disc, ring)
    X = 60 + 120 * shape + rng.normal(0, 20, (n, size, size))
    return X.clip(0, 255).astype(np.uint8), np.array(["disc", "ring"])[labels]


def _data(n=60, size=12, seed=RND_SEED):
    return _shapes(n, size, np.random.RandomState(seed))


def _clf(**params):
    params = {"max_epochs": 1, "random_state": RND_SEED, "augment": None, **params}
    return LipNetClassifier(**params)


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return _clf(max_epochs=2).fit(X, y), X, y


def test_lipnet_classifier_image_contract(fitted):
    """Check fit/clone/pickle/idempotence/params on image data (the skipped checks)."""
    clf, X, y = fitted
    check_no_attributes_set_in_init("LipNetClassifier", _clf())
    check_get_params_invariance("LipNetClassifier", _clf())
    params = _clf(max_epochs=2).get_params()
    assert clf.get_params() == params
    proba = clf.predict_proba(X)
    refit = clone(clf)
    assert not [k for k in vars(refit) if k.endswith("_")]
    assert refit.fit(X, y) is refit
    np.testing.assert_array_equal(refit.predict_proba(X), proba)
    np.testing.assert_array_equal(refit.fit(X, y).predict_proba(X), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    # subset and sample-order invariance of prediction
    order = np.random.RandomState(RND_SEED).permutation(len(X))
    np.testing.assert_allclose(clf.predict_proba(X[order]), proba[order], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[:7]), proba[:7], rtol=1e-5, atol=1e-6)
    assert clf.score(X, y) == np.mean(clf.predict(X) == y)


def test_lipnet_classifier_classes_and_probabilities(fitted):
    clf, X, y = fitted
    np.testing.assert_array_equal(clf.classes_, ["disc", "ring"])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert set(clf.predict(X)) <= {"disc", "ring"}
    assert clf.n_channels_in_ == 1 and clf.input_shape_ == (12, 12)


@pytest.mark.parametrize("labels", [[3, 7, 11], [-1, 0, 2], ["uni", "multi", "uncertain"]])
def test_lipnet_classifier_any_label_type(labels):
    X, _ = _data(n=30)
    y = np.array(labels)[np.arange(30) % 3]
    clf = _clf().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert clf.predict_proba(X).shape == (30, 3)
    assert set(clf.predict(X)) <= set(y)


def test_lipnet_classifier_learns_discs_from_rings():
    """Check that the net beats chance by far on a task where that is certain."""
    X, y = _data(n=260, size=12)
    clf = _clf(architecture="lipnet2", max_epochs=5, lr=3e-3).fit(X[:160], y[:160])
    assert clf.score(X[160:], y[160:]) > 0.9


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_lipnet_classifier_learns_in_both_precisions(precision):
    """Check that mixed-precision training learns as float32 does."""
    X, y = _data(n=260, size=12)
    clf = _clf(architecture="lipnet2", max_epochs=5, lr=3e-3, precision=precision)
    clf.fit(X[:160], y[:160])
    assert clf.precision_ == precision
    assert clf.score(X[160:], y[160:]) > 0.9
    # the weights stay float32 (mixed precision), so prediction is float32
    assert {p.dtype for p in clf.net_.module_.parameters()} == {torch.float32}


def test_bfloat16_covers_training_forward_passes_only():
    """Check autocast applies to training's forward pass, not to prediction's."""
    X, y = _data(n=20)
    clf = _clf(precision="bfloat16", dropout=0.0).fit(X, y)
    net = clf.net_
    inputs, _ = clf.network_input(X).batch(torch.arange(20))
    outputs = {}
    for training in (True, False):
        net.module_.train(training)
        for dtype in (torch.bfloat16, None):
            net.autocast_dtype = dtype
            with torch.no_grad():
                outputs[training, dtype] = net.infer(inputs)
    assert outputs[True, torch.bfloat16].dtype == torch.float32
    assert not torch.equal(outputs[True, torch.bfloat16], outputs[True, None])
    torch.testing.assert_close(outputs[True, torch.bfloat16], outputs[True, None], atol=0.05, rtol=0.05)
    assert torch.equal(outputs[False, torch.bfloat16], outputs[False, None])


def test_lipnet_classifier_auto_precision_follows_the_cpu(monkeypatch):
    """Check "auto" takes bfloat16 only where the CPU computes it natively."""
    X, y = _data(n=20)
    for native in (True, False):
        monkeypatch.setattr(_net, "_native_bfloat16", lambda native=native: native)
        clf = _clf(precision="auto").fit(X, y)
        assert clf.precision_ == ("bfloat16" if native else "float32")
        assert clf.net_.autocast_dtype == (torch.bfloat16 if native else None)


def test_lipnet_classifier_same_seed_same_predictions():
    X, y = _data()
    a = _clf(augment="study", random_state=3).fit(X, y).predict_proba(X)
    b = _clf(augment="study", random_state=3).fit(X, y).predict_proba(X)
    c = _clf(augment="study", random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("random_state", [None, 0])
def test_lipnet_classifier_leaves_torch_global_rng_alone(random_state):
    X, y = _data(n=20)
    torch.manual_seed(1234)
    expected = torch.rand(3)
    torch.manual_seed(1234)
    _clf(random_state=random_state, dropout=0.5).fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)
    assert torch.initial_seed() == 1234


def test_lipnet_classifier_none_random_state_varies():
    X, y = _data(n=20)
    a = _clf(random_state=None).fit(X, y).predict_proba(X)
    b = _clf(random_state=None).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(np.uint16),
        lambda X: X.astype(np.float64),
        lambda X: X[:, None],
        lambda X: ParticleSet(X),
        lambda X: list(X),
    ],
    ids=["uint16", "float64", "channels", "particleset", "list"],
)
def test_lipnet_classifier_accepts_dtypes_and_containers(convert):
    """Check that the same pixels give the same model whatever the container."""
    X, y = _data(n=30)
    expected = _clf().fit(X, y).predict_proba(X)
    clf = _clf().fit(convert(X), y)
    np.testing.assert_allclose(clf.predict_proba(convert(X)), expected, rtol=1e-5, atol=1e-6)


def test_lipnet_classifier_standardizes_with_training_statistics():
    X, y = _data(n=30)
    clf = _clf().fit(X * np.uint8(1), y)
    np.testing.assert_allclose(clf.mean_, [X.mean()])
    np.testing.assert_allclose(clf.scale_, [X.std()])
    raw = _clf(standardize=False).fit(X, y)
    np.testing.assert_array_equal(raw.mean_, [0.0])
    np.testing.assert_array_equal(raw.scale_, [1.0])
    # the scale of the pixels does not matter once standardised
    scaled = _clf().fit(X.astype(np.float64) * 256, y)
    np.testing.assert_allclose(
        scaled.predict_proba(X.astype(np.float64) * 256), clf.predict_proba(X), atol=1e-5
    )


def test_lipnet_classifier_multichannel():
    X, y = _data(n=30)
    X3 = np.stack([X, 255 - X, X // 2], axis=1)
    clf = _clf().fit(X3, y)
    assert clf.n_channels_in_ == 3 and clf.mean_.shape == (3,)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(3, 12, 12\).*got \(1, 12, 12\)"):
        clf.predict(X)


# -- bad input ---------------------------------------------------------------


def test_lipnet_classifier_one_class_raises():
    X, _ = _data(n=10)
    with pytest.raises(ValueError, match="at least 2 classes; got 1 class \\('a'\\)"):
        _clf().fit(X, ["a"] * 10)


def test_lipnet_classifier_nan_labels_raise():
    X, _ = _data(n=10)
    y = np.r_[np.zeros(5), np.ones(4), np.nan]
    with pytest.raises(ValueError, match="y contains NaN"):
        _clf().fit(X, y)


def test_lipnet_classifier_continuous_labels_raise():
    X, _ = _data(n=10)
    with pytest.raises(ValueError, match="Unknown label type"):
        _clf().fit(X, np.linspace(0, 1, 10))


def test_lipnet_classifier_unseen_labels_in_warm_start_raise():
    X, y = _data(n=20)
    clf = _clf(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"labels not seen in the first fit: \['cube'\]"):
        clf.fit(X, np.where(y == "disc", "cube", y))


@pytest.mark.parametrize(
    "architecture, size",
    [("lipnet4", 3), ("lipnet6", 7), ("lipnet1", 1), ("lipnet_fcn", 6)],
)
def test_lipnet_classifier_too_small_images_raise(architecture, size):
    X = np.zeros((4, size, size), np.uint8)
    with pytest.raises(ValueError, match=f"{architecture} needs images of at least"):
        _clf(architecture=architecture).fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize(
    "X",
    [
        ParticleSet([np.zeros((12, 12)), np.ones((12, 14))] * 2),
        [np.zeros((12, 12)), np.ones((12, 14))] * 2,
    ],
    ids=["particleset", "object"],
)
def test_lipnet_classifier_mixed_sizes_point_at_resize(X):
    with pytest.raises(ValueError, match=r"images of one size.*sklipo\.preprocessing\.Resize"):
        _clf().fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((4, 10)), ValueError, "got an array of shape \\(4, 10\\). A 2-D array is a feature matrix"),
        (np.zeros((4, 2, 2, 8, 8)), ValueError, "got an array of shape \\(4, 2, 2, 8, 8\\)"),
        (np.full((4, 8, 8), np.nan), ValueError, "NaN or infinity"),
        (np.zeros((4, 8, 8), complex), ValueError, "Complex data not supported"),
        (np.zeros((4, 8, 8), "U1"), TypeError, "integer or floating-point pixels"),
        (np.zeros((0, 8, 8)), ValueError, "0 sample"),
    ],
)
def test_lipnet_classifier_bad_images_raise(X, error, match):
    with pytest.raises(error, match=match):
        _clf().fit(X, np.arange(len(X)) % 2)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"architecture": "lipnet5"}, "'architecture' parameter.*'lipnet1'"),
        ({"optimizer": "rmsprop"}, "'optimizer' parameter of LipNetClassifier must be a str among"),
        ({"augment": "heavy"}, "'augment' parameter"),
        ({"lr": 0}, "'lr' parameter"),
        ({"class_weight": "auto"}, "'class_weight' parameter"),
        ({"extra_features": "area"}, "'extra_features' parameter.*fit.*transform"),
        ({"image_transformer": Augmentation()}, "'image_transformer' parameter"),
    ],
)
def test_lipnet_classifier_bad_params_raise(params, match):
    X, y = _data(n=10)
    with pytest.raises(InvalidParameterError, match=match):
        _clf(**params).fit(X, y)


def test_lipnet_classifier_resampling_options_exclusive():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="set at most one of them"):
        _clf(undersample_majority=0.2, balanced_batches=True).fit(X, y)


def test_lipnet_classifier_class_weight_dict_missing_class_raises():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="weight for every class; missing \\['ring'\\]"):
        _clf(class_weight={"disc": 2.0}).fit(X, y)


def test_lipnet_classifier_early_stopping_without_enough_samples_raises():
    X, _ = _data(n=10)
    y = np.array(["a"] * 9 + ["b"])
    with pytest.raises(ValueError, match="need a stratified validation split"):
        _clf(early_stopping=True).fit(X, y)


def test_lipnet_classifier_length_mismatch_raises():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _clf().fit(X, y[:9])


def test_lipnet_classifier_predict_before_fit_raises():
    X, _ = _data(n=4)
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError):
            getattr(_clf(), method)(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_lipnet_classifier_cuda_without_gpu_raises():
    X, y = _data(n=10)
    with pytest.raises(ValueError, match="torch finds no CUDA GPU"):
        _clf(device="cuda").fit(X, y)
    assert _clf(device="auto").fit(X, y).device_ == "cpu"


# -- training options --------------------------------------------------------


def test_lipnet_classifier_weight_decay_on_dense_layers_only():
    X, y = _data(n=10)
    clf = _clf(weight_decay=1e-3).fit(X, y)
    decayed = [g for g in clf.net_.optimizer_.param_groups if g["weight_decay"] > 0]
    head_weight = clf.net_.module_.head[1].weight
    assert len(decayed) == 1 and len(decayed[0]["params"]) == 1
    assert decayed[0]["params"][0] is head_weight
    clf = _clf(weight_decay=1e-3, decay_conv=True).fit(X, y)
    decayed = [g for g in clf.net_.optimizer_.param_groups if g["weight_decay"] > 0]
    n_weights = sum(1 for name, _ in clf.net_.module_.named_parameters() if name.endswith("weight"))
    assert len(decayed[0]["params"]) == n_weights == 5


def test_lipnet_classifier_loss_options():
    X, y = _data(n=20)
    y = np.where(np.arange(20) < 15, "disc", "ring")
    clf = _clf(label_smoothing=0.2, class_weight="balanced", optimizer="sgd", momentum=0.5).fit(X, y)
    assert clf.net_.criterion_.label_smoothing == 0.2
    np.testing.assert_allclose(clf.class_weight_, [20 / 30, 20 / 10])
    np.testing.assert_allclose(clf.net_.criterion_.weight.numpy(), clf.class_weight_, rtol=1e-6)
    assert isinstance(clf.net_.optimizer_, torch.optim.SGD)
    assert clf.net_.optimizer_.param_groups[0]["momentum"] == 0.5


def test_lipnet_classifier_balanced_class_weight_keeps_majority():
    # Check that heavy class weights (about 50x for the rarest class, as in the
    # study) with label smoothing still learn every class of an easy task. With
    # torch's weighted smoothing the majority class was predicted as the rarest.
    rng = np.random.RandomState(RND_SEED)
    y = np.repeat([0, 1, 2], [300, 30, 6])
    X = np.array([0.2, 0.5, 0.8])[y][:, None, None] + rng.normal(0, 0.1, (len(y), 12, 12))
    # 15 epochs: every net seed from 0 to 5 learns all three classes (8 left
    # the middle class unlearnt for some seeds)
    clf = _clf(class_weight="balanced", label_smoothing=0.1, max_epochs=15).fit(X, y)
    assert clf.class_weight_[2] / clf.class_weight_[0] == pytest.approx(50)
    recall = [np.mean(clf.predict(X[y == k]) == k) for k in range(3)]
    assert min(recall) > 0.9, recall
    proba = clf.predict_proba(X)  # probabilities, not the loss's logits
    assert proba.min() >= 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_lipnet_classifier_early_stopping_restores_best():
    """Check that training stops once the validation loss stalls."""
    X, y = _data(n=60)
    clf = _clf(max_epochs=20, early_stopping=True, patience=2, lr=1e-9, validation_fraction=0.25)
    clf.fit(X, y)
    history = clf.net_.history
    assert clf.n_epochs_ == len(history) < 20
    assert all("valid_loss" in row for row in history)


def test_lipnet_classifier_warm_start_continues():
    X, y = _data(n=20)
    clf = _clf(warm_start=True).fit(X, y)
    module = clf.net_.module_
    clf.fit(X, y)
    assert clf.n_epochs_ == 2 and clf.net_.module_ is module
    cold = _clf().fit(X, y)
    cold.fit(X, y)
    assert cold.n_epochs_ == 1


def test_lipnet_classifier_augmentation_object_and_preset():
    X, y = _data(n=20)
    a = _clf(augment=Augmentation(rotation=0, zoom=(1.0, 1.0))).fit(X, y).predict_proba(X)
    b = _clf(augment="study").fit(X, y).predict_proba(X)
    c = _clf(augment=None).fit(X, y).predict_proba(X)
    assert not np.allclose(a, c) and not np.allclose(b, c)
    cloned = clone(_clf(augment=Augmentation(rotation=10)))
    assert cloned.augment.rotation == 10


@pytest.mark.parametrize(
    "options, n_seen",
    [({}, 40), ({"undersample_majority": 0.2}, 34), ({"balanced_batches": True}, 40)],
    ids=["plain", "undersample", "balanced"],
)
def test_lipnet_classifier_resampling_options_train(options, n_seen):
    """Check each epoch's draw: all samples, 20% of the majority left out, or balanced."""
    X, _ = _data(n=40)
    y = np.repeat(["a", "b"], [30, 10])
    clf = _clf(batch_size=1, **options).fit(X, y)
    assert clf.net_.history[-1, "train_batch_count"] == n_seen
    data = clf.network_input(X)
    epoch = clf.net_.get_iterator(ImageData(data.X, np.searchsorted(clf.classes_, y)), training=True)
    counts = np.bincount(torch.cat([codes for _, codes in epoch]).numpy(), minlength=2)
    if options.get("balanced_batches"):
        assert counts.sum() == 40 and 14 <= counts[1] <= 26, counts
    else:
        assert counts.tolist() == [n_seen - 10, 10]


def test_lipnet_classifier_verbose_prints_table_and_progress(capsys):
    X, y = _data(n=20)
    _clf(verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    _clf(verbose=1).fit(X, y)
    assert "train_loss" in capsys.readouterr().out
    _clf(verbose=2).fit(X, y)
    progress = capsys.readouterr().err
    assert "it/s" in progress or "s/it" in progress


def test_lipnet_classifier_grid_search_over_architectures():
    X, y = _data(n=24, size=8)
    search = GridSearchCV(_clf(), {"architecture": list(ARCHITECTURES)}, cv=2)
    search.fit(X, y)
    assert [p["architecture"] for p in search.cv_results_["params"]] == list(ARCHITECTURES)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# -- the fully convolutional net -------------------------------------------


def _sized(n, rng):
    """Noise images whose class is their size alone: 9-12 px against 18-22 px."""
    y = rng.randint(2, size=n)
    sides = np.where(y == 0, rng.randint(9, 13, n), rng.randint(18, 23, n))
    images = [rng.normal(100, 20, (s, s + rng.randint(0, 3))).astype(np.float32) for s in sides]
    return ParticleSet(images), np.array(["small", "large"])[y]


def test_lipnet_fcn_learns_particle_size():
    """Check that lipnet_fcn takes mixed sizes and uses size to classify."""
    rng = np.random.RandomState(RND_SEED)
    X, y = _sized(160, rng)
    # 8 epochs at lr 3e-3 score 1.0 for every net seed from 0 to 5; 4 epochs
    # at 1e-2 ranged from 0.52 to 0.83
    clf = _clf(architecture="lipnet_fcn", max_epochs=8, lr=3e-3, augment="study")
    clf.fit(X[:100], y[:100])
    assert clf.input_shape_ is None
    assert clf.score(X[100:], y[100:]) > 0.9
    proba = clf.predict_proba(X[100:])
    # batches mix sizes: prediction of a particle does not depend on its batch
    for i in range(3):
        np.testing.assert_allclose(
            clf.predict_proba(X[100 + i : 101 + i]), proba[i : i + 1], rtol=1e-4, atol=1e-5
        )


def test_lipnet_fcn_accepts_stacks_and_checks_channels():
    X, y = _data(n=20)
    clf = _clf(architecture="lipnet_fcn").fit(X, y)
    assert clf.predict(ParticleSet(list(X))).shape == (20,)
    with pytest.raises(ValueError, match="fitted on images with 1 channel"):
        clf.predict(np.zeros((2, 3, 12, 12)))


@pytest.mark.parametrize("method", ["predict", "embed", "network_input"])
def test_lipnet_fcn_checks_the_minimum_size_at_predict(method):
    """Check that a too small particle is named, alone or batched with larger ones."""
    X, y = _data(n=20)
    clf = _clf(architecture="lipnet_fcn").fit(X, y)
    small = ParticleSet([np.zeros((30, 30)), np.zeros((6, 20))], ids=["big", "tiny"])
    with pytest.raises(ValueError, match=r"at least 8x8 pixels; particle 1 \(id 'tiny'\) is \(6, 20\)"):
        getattr(clf, method)(small)


# -- the two-branch net --------------------------------------------------------


def _noise_with_masks(n, seed=RND_SEED, size=12):
    """Pure-noise images; only the mask's area (small or large) tells the class."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    radius = np.where(y == 0, rng.uniform(2, 3, n), rng.uniform(4.2, 5.5, n))
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    masks = np.hypot(yy, xx)[None] <= radius[:, None, None]
    images = rng.normal(100, 20, (n, size, size)).astype(np.float32)
    ids = [f"p{i}" for i in range(n)]
    return ParticleSet(list(images), list(masks), pixel_size=1.0, ids=ids), np.array(["small", "large"])[y]


class _MaskColumns(TransformerMixin, BaseEstimator):
    """Mask area and height of each particle; NaN at (`nan_row`, 1) when asked."""

    def __init__(self, nan_row=None):
        self.nan_row = nan_row

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        features = np.column_stack([[m.sum() for m in X.masks], X.sizes[:, 0]]).astype(float)
        if self.nan_row is not None and self.nan_row < len(features):
            features[self.nan_row, 1] = np.nan
        return features

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["mask_area", "height"], dtype=object)


def test_lipnet_classifier_extra_features_carry_the_class():
    """Check that the two-branch net uses the extra features.

    The images are noise and only the mask area tells the class: the plain
    network stays at the level of a dummy, the two-branch one is near perfect.
    """
    X, y = _noise_with_masks(240)
    train, test = slice(0, 160), slice(160, None)
    dummy = DummyClassifier().fit(X[train], y[train]).score(X[test], y[test])
    params = {"max_epochs": 3, "lr": 1e-2}
    plain = _clf(**params).fit(X[train], y[train])
    hybrid = _clf(**params, extra_features=ParticleFeatures(["area"])).fit(X[train], y[train])
    assert isinstance(hybrid.net_.module_, HybridLipNet)
    assert hybrid.score(X[test], y[test]) > 0.95 > dummy + 0.3
    assert plain.score(X[test], y[test]) < dummy + 0.15


def test_lipnet_classifier_extra_features_are_standardised():
    X, y = _noise_with_masks(30)
    clf = _clf(extra_features=_MaskColumns()).fit(X, y)
    features = _MaskColumns().transform(X)
    assert isinstance(clf.extra_features_, _MaskColumns) and clf.extra_features_ is not clf.extra_features
    np.testing.assert_allclose(clf.extra_scaler_.mean_, features.mean(axis=0))
    # the height is the same for every particle: centred, not divided by 0
    np.testing.assert_allclose(clf.extra_scaler_.scale_, [features[:, 0].std(), 1.0])
    assert clf.net_.module_.head.in_features == clf.net_.module_.n_embedding + 2
    data = clf.network_input(X)
    expected = (features - features.mean(axis=0)) / clf.extra_scaler_.scale_
    np.testing.assert_allclose(data.extra.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert data.extra.dtype == torch.float32
    np.testing.assert_array_equal(clf.network_input(X, standardize=False).extra.numpy(), features)
    plain = _clf().fit(X, y)
    assert plain.extra_features_ is None and plain.extra_scaler_ is None
    assert plain.network_input(X).extra is None


def test_lipnet_classifier_image_transformer_matches_a_pipeline():
    """Check that image_transformer gives the model a pipeline step would."""
    X, y = _noise_with_masks(30)
    X = CropParticle("cropped").fit_transform(X)  # particles of several sizes
    clf = _clf(image_transformer=Resize(10)).fit(X, y)
    pipe = make_pipeline(Resize(10), _clf()).fit(X, y)
    assert clf.input_shape_ == (10, 10) and isinstance(clf.image_transformer_, Resize)
    np.testing.assert_allclose(clf.predict_proba(X), pipe.predict_proba(X), rtol=1e-6)
    images = clf.network_input(X).X
    resized = Resize(10).fit_transform(X)
    expected = (resized - clf.mean_[0]) / clf.scale_[0]
    np.testing.assert_allclose(images.numpy(), expected, rtol=1e-5, atol=1e-5)
    raw = clf.network_input(X, standardize=False).X
    np.testing.assert_array_equal(raw.numpy(), resized.astype(np.float32))


def test_lipnet_classifier_hybrid_clone_pickle_and_seed():
    X, y = _noise_with_masks(30)
    clf = _clf(augment="study", image_transformer=Resize(8), extra_features=_MaskColumns())
    proba = clf.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(clone(clf).fit(X, y).predict_proba(X), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    np.testing.assert_allclose(clf.predict_proba(X[5:9]), proba[5:9], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "options",
    [
        {"early_stopping": True, "validation_fraction": 0.3, "patience": 1, "max_epochs": 3},
        {"balanced_batches": True},
        {"undersample_majority": 0.2},
        {"architecture": "lipnet_fcn", "image_transformer": CropParticle("cropped", margin=2)},
        {"architecture": "lipnet1", "weight_decay": 1e-3},
    ],
    ids=["early_stopping", "balanced", "undersample", "fcn", "decay"],
)
def test_lipnet_classifier_hybrid_training_options(options):
    """Check that the training options work with extra features."""
    X, y = _noise_with_masks(40)
    clf = _clf(augment="study", extra_features=_MaskColumns(), **options).fit(X, y)
    module = clf.net_.module_
    assert isinstance(module, HybridLipNet)
    fcn = "image_transformer" in options
    assert isinstance(module.image_net, LipNetFCN) is fcn
    assert clf.predict_proba(X).shape == (40, 2)
    if "early_stopping" in options:
        assert all("valid_loss" in row for row in clf.net_.history)
    if "weight_decay" in options:
        decayed = [g for g in clf.net_.optimizer_.param_groups if g["weight_decay"] > 0]
        names = {id(p): name for name, p in module.named_parameters()}
        assert sorted(names[id(p)] for p in decayed[0]["params"]) == [
            "head.weight",
            "image_net.head.1.weight",
        ]


def test_lipnet_classifier_hybrid_warm_start_keeps_features():
    X, y = _noise_with_masks(20)
    clf = _clf(warm_start=True, extra_features=_MaskColumns()).fit(X, y)
    module, features, scaler = clf.net_.module_, clf.extra_features_, clf.extra_scaler_
    clf.fit(X[:10], y[:10])
    assert clf.n_epochs_ == 2 and clf.net_.module_ is module
    assert clf.extra_features_ is features and clf.extra_scaler_ is scaler


@pytest.mark.parametrize("where", ["fit", "predict"])
def test_lipnet_classifier_nan_extra_feature_names_particle_and_column(where):
    X, y = _noise_with_masks(20)
    match = r"returned nan for particle 3 \(id 'p3'\) in column 1 \('height'\).*1 particle"
    if where == "fit":
        with pytest.raises(ValueError, match=match):
            _clf(extra_features=_MaskColumns(nan_row=3)).fit(X, y)
    else:
        clf = _clf(extra_features=_MaskColumns()).fit(X, y)
        clf.extra_features_.set_params(nan_row=3)
        with pytest.raises(ValueError, match=match):
            clf.predict(X)


def test_lipnet_classifier_nan_extra_feature_without_names():
    X, y = _noise_with_masks(10)
    extra = FunctionTransformer(lambda X: np.where(np.arange(len(X))[:, None] == 2, np.inf, 1.0))
    with pytest.raises(ValueError, match=r"returned inf for particle 2 \(id 'p2'\) in column 0;"):
        _clf(extra_features=extra).fit(X, y)


@pytest.mark.parametrize(
    "output, error, match",
    [
        (lambda X: np.ones(len(X)), ValueError, r"2-D array with one row per particle \(10\).*\(10,\)"),
        (lambda X: np.ones((3, 2)), ValueError, r"one row per particle \(10\).*shape \(3, 2\)"),
        (lambda X: np.ones((len(X), 0)), ValueError, "at least one column"),
        (lambda X: np.full((len(X), 1), "a"), TypeError, "must return numbers"),
    ],
    ids=["1d", "rows", "no-columns", "strings"],
)
def test_lipnet_classifier_bad_extra_features_raise(output, error, match):
    X, y = _noise_with_masks(10)
    with pytest.raises(error, match=match):
        _clf(extra_features=FunctionTransformer(output)).fit(X, y)


def test_lipnet_classifier_extra_feature_count_change_raises():
    X, y = _noise_with_masks(10)
    clf = _clf(extra_features=FunctionTransformer(lambda X: np.ones((len(X), 2)))).fit(X, y)
    clf.extra_features_ = FunctionTransformer(lambda X: np.ones((len(X), 3))).fit(X)
    with pytest.raises(ValueError, match=r"returned 3 feature\(s\), but LipNetClassifier was fitted with 2"):
        clf.predict(X)
