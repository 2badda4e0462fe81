"""Tests of LipNetEmbedding."""

import hashlib
import pickle

import numpy as np
import pytest
import torch
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_get_params_invariance, check_no_attributes_set_in_init

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier, LipNetEmbedding
from sklipo.datasets import make_liposomes
from sklipo.features import ParticleFeatures
from sklipo.preprocessing import CropParticle, Resize
from sklipo.sampling import ParticleSampler

RND_SEED = 0


def _shapes(n, size=12, seed=RND_SEED):
    """Discs against rings of random radius, on noise (the class is in the image)."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    radius = rng.uniform(size / 6, size / 2.5, n)[:, None, None]
    labels = rng.randint(2, size=n)
    distance = np.hypot(yy, xx)[None]
    shape = np.where(labels[:, None, None] == 0, distance < radius, np.abs(distance - radius) < 1.0)
    X = 60 + 120 * shape + rng.normal(0, 20, (n, size, size))
    return X.astype(np.float32), np.array(["disc", "ring"])[labels]


def _net(architecture="lipnet2", **params):
    params = {"max_epochs": 1, "augment": None, "random_state": RND_SEED, **params}
    return LipNetClassifier(architecture, **params)


@pytest.fixture(scope="module")
def liposomes():
    data = make_liposomes("lamellarity", 36, weights=[1, 1, 1], random_state=RND_SEED)
    return data.data, data.target


def _particle_net(**params):
    return make_pipeline(CropParticle("masked"), Resize(16), _net(**params))


class _SpyLipNet(LipNetClassifier):
    """A LipNetClassifier that records a fingerprint of every image it is fitted on."""

    def fit(self, X, y):
        self.seen_ = {_fingerprint(image) for image in np.asarray(X)}
        return super().fit(X, y)


def _fingerprint(image):
    return hashlib.sha1(np.ascontiguousarray(image, dtype=np.float32).tobytes()).hexdigest()


def _spy_pipeline():
    spy = _SpyLipNet("lipnet2", max_epochs=1, augment=None, random_state=RND_SEED)
    return make_pipeline(CropParticle("masked"), Resize(16), spy)


def _hybrid_svm(embedding):
    return make_pipeline(
        FeatureUnion([("hand", ParticleFeatures()), ("cnn", embedding)]),
        StandardScaler(),
        SVC(class_weight="balanced"),
    )


def _seen_and_test_fingerprints(pipeline, X_test):
    """What the pipeline's net was fitted on, and the test particles' images."""
    images = pipeline[:-1].transform(X_test)
    return pipeline[-1].seen_, {_fingerprint(image) for image in images}


# -- behaviour -----------------------------------------------------------------


def test_lipnet_embedding_is_the_network_embedding():
    """Check transform against the module's embed of the standardised images."""
    X, y = _shapes(30)
    embedding = LipNetEmbedding(_net()).fit(X, y)
    net = embedding.estimator_
    assert embedding.n_embedding_ == net.net_.module_.n_embedding == 128
    Xt = embedding.transform(X)
    assert Xt.shape == (30, 128) and Xt.dtype == np.float64
    module = net.net_.module_.eval()
    with torch.no_grad():
        expected = module.embed(net.network_input(X).X).numpy()
    np.testing.assert_allclose(Xt, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(net.embed(X), Xt)
    assert (Xt >= 0).all()  # the hidden layer of LipNet-2 ends in a ReLU


def test_lipnet_embedding_features_separate_the_classes():
    """Check that the learned features carry the class to a linear model."""
    X, y = _shapes(260)
    embedding = LipNetEmbedding(_net(max_epochs=5, lr=3e-3))
    model = make_pipeline(embedding, StandardScaler(), LogisticRegression())
    model.fit(X[:160], y[:160])
    dummy = DummyClassifier().fit(X[:160], y[:160]).score(X[160:], y[160:])
    assert model.score(X[160:], y[160:]) > 0.9 > dummy + 0.3


def test_lipnet_embedding_feature_names():
    X, y = _shapes(20)
    embedding = LipNetEmbedding(_net()).fit(X, y)
    names = embedding.get_feature_names_out()
    assert names.dtype == object and len(names) == 128
    assert names[0] == "lipnet_embedding_000" and names[-1] == "lipnet_embedding_127"
    frame = LipNetEmbedding(_net()).set_output(transform="pandas").fit(X, y).transform(X)
    assert list(frame.columns) == list(names)


def test_lipnet_embedding_pipeline_and_fcn_networks(liposomes):
    """Check pipelines that prepare particles, for a fixed-size and an FCN net."""
    X, y = liposomes
    embedding = LipNetEmbedding(_particle_net()).fit(X, y)
    assert isinstance(embedding.estimator_, Pipeline)
    assert embedding.transform(X).shape == (36, 128)
    fcn = make_pipeline(CropParticle("masked"), _net(architecture="lipnet_fcn"))
    Xt = LipNetEmbedding(fcn).fit(X, y).transform(X)
    assert Xt.shape == (36, 66)
    # the last two columns are the log height and width of each cropped particle
    sizes = CropParticle("masked").fit_transform(X).sizes
    np.testing.assert_allclose(Xt[:, -2:], np.log(sizes), rtol=1e-6)


def test_lipnet_embedding_pipeline_with_sampler_and_passthrough(liposomes):
    """Check that steps that act at fit only are skipped in transform."""
    X, y = liposomes
    net = ImbPipeline(
        [
            ("crop", CropParticle("masked")),
            ("keep", "passthrough"),
            ("oversample", ParticleSampler(RandomOverSampler(random_state=RND_SEED))),
            ("resize", Resize(16)),
            ("net", _net()),
        ]
    )
    embedding = LipNetEmbedding(net).fit(X[:30], y[:30])
    assert embedding.transform(X).shape == (36, 128)


def test_lipnet_embedding_of_a_two_branch_net_is_its_image_branch(liposomes):
    X, y = liposomes
    hybrid = _net(
        image_transformer=make_pipeline(CropParticle("masked"), Resize(16)),
        extra_features=ParticleFeatures(["area", "circularity"]),
    )
    embedding = LipNetEmbedding(hybrid).fit(X, y)
    assert embedding.transform(X).shape == (36, 128)


def test_lipnet_embedding_default_estimator(liposomes):
    """Check the documented default: masked crop, quantile normalisation, Resize(28), LipNet-4."""
    X, y = liposomes
    embedding = LipNetEmbedding()
    assert get_tags(embedding).non_deterministic
    embedding.fit(X[:9], y[:9])  # 30 epochs: a few particles keep it quick
    steps = [type(step).__name__ for _, step in embedding.estimator_.steps]
    assert steps == ["CropParticle", "IntensityNormalizer", "Resize", "LipNetClassifier"]
    net = embedding.estimator_[-1]
    assert net.architecture == "lipnet4" and net.balanced_batches and net.input_shape_ == (28, 28)
    assert embedding.transform(X[:3]).shape == (3, 32 * 7 * 7)


def test_lipnet_embedding_prefit_uses_the_given_network():
    X, y = _shapes(20)
    net = _net().fit(X, y)
    embedding = LipNetEmbedding(net, prefit=True).fit(X)  # no y needed
    assert embedding.estimator_ is not net
    expected = embedding.transform(X)
    np.testing.assert_array_equal(LipNetEmbedding(_net(), prefit=False).fit(X, y).transform(X), expected)
    net.set_params(max_epochs=2).fit(X, y)  # refitting the original leaves the copy alone
    np.testing.assert_array_equal(embedding.transform(X), expected)
    assert not get_tags(embedding).target_tags.required
    assert get_tags(LipNetEmbedding(net)).target_tags.required


def test_lipnet_embedding_frozen_estimator_survives_clone():
    X, y = _shapes(20)
    frozen = FrozenEstimator(_net().fit(X, y))
    expected = LipNetEmbedding(frozen, prefit=True).fit(X).transform(X)
    cloned = clone(LipNetEmbedding(frozen, prefit=True))
    np.testing.assert_array_equal(cloned.fit(X).transform(X), expected)


# -- in cross-validation: no leakage ----------------------------------------------


def test_lipnet_embedding_feature_union_in_cross_validate(liposomes):
    """Check the hybrid SVM in cross_validate, and that no fold's net saw its test fold."""
    X, y = liposomes
    cv = StratifiedKFold(3, shuffle=True, random_state=RND_SEED)
    result = cross_validate(
        _hybrid_svm(LipNetEmbedding(_spy_pipeline())),
        X,
        y,
        cv=cv,
        return_estimator=True,
        return_indices=True,
    )
    assert np.isfinite(result["test_score"]).all()
    for model, train, test in zip(
        result["estimator"], result["indices"]["train"], result["indices"]["test"], strict=True
    ):
        union = model[0]
        assert union.get_feature_names_out()[-1] == "cnn__lipnet_embedding_127"
        net = union.named_transformers["cnn"].estimator_
        seen, test_images = _seen_and_test_fingerprints(net, X[test])
        _, train_images = _seen_and_test_fingerprints(net, X[train])
        assert train_images == seen  # the fingerprints identify the training fold...
        assert not seen & test_images  # ...and none of the test fold is among them


def test_lipnet_embedding_leakage_is_detected_when_prefit_on_everything(liposomes):
    """Check that the leakage test can fail: a net fitted on all data saw each test fold."""
    X, y = liposomes
    net = _spy_pipeline().fit(X, y)
    cv = StratifiedKFold(3, shuffle=True, random_state=RND_SEED)
    result = cross_validate(
        _hybrid_svm(LipNetEmbedding(FrozenEstimator(net), prefit=True)),
        X,
        y,
        cv=cv,
        return_estimator=True,
        return_indices=True,
    )
    for model, test in zip(result["estimator"], result["indices"]["test"], strict=True):
        embedding = model[0].named_transformers["cnn"]
        seen, test_images = _seen_and_test_fingerprints(embedding.estimator_.estimator, X[test])
        assert test_images <= seen


# -- contracts on images -----------------------------------------------------


def test_lipnet_embedding_contract():
    """Check fit/clone/pickle/idempotence/params on images (the skipped checks)."""
    X, y = _shapes(20)
    embedding = LipNetEmbedding(_net())
    check_no_attributes_set_in_init("LipNetEmbedding", embedding)
    check_get_params_invariance("LipNetEmbedding", embedding)
    params = embedding.get_params()
    assert embedding.fit(X, y) is embedding
    assert embedding.get_params() == params
    assert embedding.estimator_ is not embedding.estimator and not hasattr(embedding.estimator, "net_")
    Xt = embedding.transform(X)
    np.testing.assert_array_equal(embedding.fit(X, y).transform(X), Xt)
    np.testing.assert_array_equal(clone(embedding).fit(X, y).transform(X), Xt)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(embedding)).transform(X), Xt)
    np.testing.assert_array_equal(embedding.fit_transform(X, y), Xt)
    unfitted = clone(embedding)
    assert not [k for k in vars(unfitted) if k.endswith("_")]
    order = np.random.RandomState(RND_SEED).permutation(len(X))
    np.testing.assert_allclose(embedding.transform(X[order]), Xt[order], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(embedding.transform(X[3:5]), Xt[3:5], rtol=1e-5, atol=1e-6)


def test_lipnet_embedding_accepts_particle_sets_and_read_only_pixels():
    X, y = _shapes(20)
    X.setflags(write=False)
    expected = LipNetEmbedding(_net()).fit(X, y).transform(X)
    particles = ParticleSet(list(X))
    Xt = LipNetEmbedding(_net()).fit(particles, y).transform(particles)
    np.testing.assert_allclose(Xt, expected, rtol=1e-5, atol=1e-6)


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator",
    [SVC(probability=True), make_pipeline(Resize(8), LogisticRegression())],
    ids=["svc", "pipeline"],
)
def test_lipnet_embedding_other_estimator_raises(estimator):
    X, y = _shapes(10)
    match = r"needs a LipNetClassifier, or a Pipeline whose last step is one; got"
    with pytest.raises(TypeError, match=match):
        LipNetEmbedding(estimator).fit(X, y)


def test_lipnet_embedding_estimator_without_fit_raises():
    X, y = _shapes(10)
    with pytest.raises(InvalidParameterError, match="'estimator' parameter of LipNetEmbedding"):
        LipNetEmbedding("lipnet4").fit(X, y)


@pytest.mark.parametrize(
    "estimator", [_net(), _particle_net(), FrozenEstimator(_net())], ids=["net", "pipeline", "frozen"]
)
def test_lipnet_embedding_prefit_unfitted_raises(estimator):
    X, _ = _shapes(10)
    match = "When `prefit=True`, `estimator` is expected to be a fitted"
    with pytest.raises(NotFittedError, match=match):
        LipNetEmbedding(estimator, prefit=True).fit(X)


def test_lipnet_embedding_without_y_raises():
    X, _ = _shapes(10)
    with pytest.raises(ValueError, match="requires y to be passed"):
        LipNetEmbedding(_net()).fit(X)


def test_lipnet_embedding_transform_before_fit_raises():
    X, _ = _shapes(4)
    with pytest.raises(NotFittedError):
        LipNetEmbedding(_net()).transform(X)
    with pytest.raises(NotFittedError):
        LipNetEmbedding(_net()).get_feature_names_out()


def test_lipnet_embedding_wrong_image_shape_raises():
    X, y = _shapes(10)
    embedding = LipNetEmbedding(_net()).fit(X, y)
    with pytest.raises(ValueError, match=r"fitted on images of shape \(1, 12, 12\).*got \(1, 14, 14\)"):
        embedding.transform(np.zeros((2, 14, 14)))


def test_lipnet_embedding_leaves_the_network_mode_alone():
    X, y = _shapes(10)
    embedding = LipNetEmbedding(_net()).fit(X, y)
    module = embedding.estimator_.net_.module_
    module.train()
    embedding.transform(X)
    assert module.training
