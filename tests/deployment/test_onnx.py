"""Tests of export_onnx: onnxruntime round trips, metadata and refusals."""

import json
import sys

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklipo.classifier import LipNetClassifier
from sklipo.datasets import make_liposomes
from sklipo.deployment import export_onnx
from sklipo.features import make_svm_baseline
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize

RND_SEED = 0


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def liposomes():
    return make_liposomes("lamellarity", n_samples=100, random_state=RND_SEED)


@pytest.fixture(scope="module")
def fitted_pipeline(liposomes):
    """The study's pipeline, fitted for one epoch on 100 particles."""
    pipe = Pipeline(
        [
            ("crop", CropParticle("masked", margin=2)),
            ("normalize", IntensityNormalizer("quantile", per_image=False)),
            ("resize", Resize(28)),
            ("net", LipNetClassifier(max_epochs=1, random_state=RND_SEED)),
        ]
    )
    return pipe.fit(liposomes.data, liposomes.target)


@pytest.fixture(scope="module")
def fitted_onnx(fitted_pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("onnx") / "lipnet4.onnx"
    assert export_onnx(fitted_pipeline, path) == path
    return path


@pytest.fixture(scope="module")
def fcn_pipeline(liposomes):
    X, y = liposomes.data[:60], liposomes.target[:60]
    pipe = Pipeline(
        [
            ("crop", CropParticle("cropped")),
            ("normalize", IntensityNormalizer("standard")),
            ("net", LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=RND_SEED)),
        ]
    )
    return pipe.fit(X, y)


def _metadata(path):
    model = onnx.load(str(path))
    return {prop.key: json.loads(prop.value) for prop in model.metadata_props}


def _pad(particles, value):
    """A top-left padded canvas of the particles and their sizes."""
    sizes = particles.sizes
    canvas = np.full((len(particles), 1, *sizes.max(axis=0)), value, dtype=np.float32)
    for i, image in enumerate(particles.images):
        canvas[i, 0, : image.shape[0], : image.shape[1]] = image
    return canvas, sizes.astype(np.int64)


def test_export_onnx_matches_predict_proba(fitted_pipeline, fitted_onnx, liposomes):
    """Check that onnxruntime gives predict_proba on 100 particles to 1e-5."""
    X = liposomes.data
    session = onnxruntime.InferenceSession(str(fitted_onnx))
    images = fitted_pipeline[:-1].transform(X)
    proba, logits = session.run(["probabilities", "logits"], {"image": images})
    expected = fitted_pipeline.predict_proba(X)
    assert proba.shape == (100, 3)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    np.testing.assert_allclose(
        torch.softmax(torch.from_numpy(logits), dim=1).numpy(), expected, atol=1e-5
    )


@pytest.mark.parametrize("batch", [1, 7])
def test_export_onnx_any_batch_size(fitted_pipeline, fitted_onnx, liposomes, batch):
    """Check batch sizes other than the export's sample batch of 2."""
    X = liposomes.data[:batch]
    session = onnxruntime.InferenceSession(str(fitted_onnx))
    (proba,) = session.run(["probabilities"], {"image": fitted_pipeline[:-1].transform(X)})
    np.testing.assert_allclose(proba, fitted_pipeline.predict_proba(X), atol=1e-5)


def test_export_onnx_metadata(fitted_pipeline, fitted_onnx):
    """Check that the metadata describe classes, input, scaling and every step."""
    meta = _metadata(fitted_onnx)
    net = fitted_pipeline[-1]
    assert meta["classes"] == ["0", "1", "2"]
    assert meta["architecture"] == "lipnet4"
    assert meta["inputs"][0]["shape"] == ["batch", 1, 28, 28]
    assert [o["name"] for o in meta["outputs"]] == ["probabilities", "logits"]
    np.testing.assert_allclose(meta["standardization"]["mean"], net.mean_)
    np.testing.assert_allclose(meta["standardization"]["scale"], net.scale_)
    crop, normalize, resize = meta["preprocessing"]
    assert crop == {"step": "crop", "type": "CropParticle", "mode": "masked", "margin": 2,
                    "fill": "background"}
    assert normalize["method"] == "quantile" and normalize["per_image"] is False
    np.testing.assert_allclose(normalize["center"], fitted_pipeline["normalize"].center_)
    np.testing.assert_allclose(normalize["scale"], fitted_pipeline["normalize"].scale_)
    assert normalize["quantile_range"] == [1.0, 99.0]
    assert resize == {"step": "resize", "type": "Resize", "size": [28, 28],
                      "keep_aspect": True, "anti_aliasing": True}
    assert meta["image_transformer"] is None and meta["extra_features"] is None
    assert meta["sklipo_version"] and meta["torch_version"] == torch.__version__
    assert meta["metadata_version"] == 1
    session = onnxruntime.InferenceSession(str(fitted_onnx))
    runtime_map = session.get_modelmeta().custom_metadata_map
    assert {key: json.loads(value) for key, value in runtime_map.items()} == meta


def test_export_onnx_fcn_variable_sizes(fcn_pipeline, liposomes, tmp_path):
    """Check the FCN on one padded batch of particles of different sizes."""
    path = export_onnx(fcn_pipeline, tmp_path / "fcn.onnx")
    X = liposomes.data[60:]
    particles = fcn_pipeline[:-1].transform(X)
    assert len(np.unique(particles.sizes, axis=0)) > 10
    session = onnxruntime.InferenceSession(str(path))
    expected = fcn_pipeline.predict_proba(X)
    # the padding value is ignored: any value gives the same probabilities
    for value in (0.0, 50.0):
        image, sizes = _pad(particles, value)
        (proba,) = session.run(["probabilities"], {"image": image, "sizes": sizes})
        np.testing.assert_allclose(proba, expected, atol=1e-5)
    # a batch of one, unpadded, of a size never seen at export
    image, sizes = _pad(particles[:1], 0.0)
    (proba,) = session.run(["probabilities"], {"image": image, "sizes": sizes})
    np.testing.assert_allclose(proba, expected[:1], atol=1e-5)
    meta = _metadata(path)
    assert meta["inputs"][0]["shape"] == ["batch", 1, "height", "width"]
    assert meta["inputs"][1]["name"] == "sizes" and meta["inputs"][0]["min_size"] == 8
    steps = [step["type"] for step in meta["preprocessing"]]
    assert steps == ["CropParticle", "IntensityNormalizer"]
    assert meta["preprocessing"][1]["center"] is None


def test_export_onnx_bare_classifier_and_skipped_steps(liposomes, tmp_path):
    """Check a bare classifier on arrays, and an imblearn pipeline whose sampler is skipped."""
    rng = np.random.RandomState(RND_SEED)
    X = rng.rand(30, 2, 16, 12).astype(np.float32) * 200
    y = np.repeat(["cat", "dog", "eel"], 10)
    clf = LipNetClassifier("lipnet1", max_epochs=1, random_state=RND_SEED).fit(X, y)
    path = export_onnx(clf, tmp_path / "bare.onnx", opset_version=18)
    session = onnxruntime.InferenceSession(str(path))
    (proba,) = session.run(["probabilities"], {"image": X})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
    meta = _metadata(path)
    assert meta["classes"] == ["cat", "dog", "eel"] and meta["preprocessing"] == []
    assert onnx.load(str(path)).opset_import[0].version == 18

    pipe = ImbPipeline(
        [
            ("resize", Resize((16, 12), keep_aspect=False)),
            ("sample", RandomUnderSampler(random_state=RND_SEED)),
            ("skip", "passthrough"),
            ("net", clf),
        ]
    )
    meta = _metadata(export_onnx(pipe, tmp_path / "imb.onnx"))
    assert [step["step"] for step in meta["preprocessing"]] == ["resize"]


def test_export_onnx_refuses_models_without_lipnet(liposomes, tmp_path):
    """Check the clear error for the SVM baseline and a bare sklearn classifier."""
    with pytest.raises(TypeError, match="exports LipNet networks only.*ending in SVC"):
        export_onnx(make_svm_baseline(), tmp_path / "svm.onnx")
    with pytest.raises(TypeError, match="exports LipNet networks only.*got a str"):
        export_onnx("model.joblib", tmp_path / "str.onnx")
    assert not list(tmp_path.iterdir())


def test_export_onnx_refuses_unknown_step(fitted_pipeline, tmp_path):
    """Check that a step another runtime could not reproduce is named."""
    pipe = Pipeline([("log", FunctionTransformer(np.log1p)), *fitted_pipeline.steps[1:]])
    with pytest.raises(ValueError, match="step 'log' \\(FunctionTransformer\\)"):
        export_onnx(pipe, tmp_path / "log.onnx")


def test_export_onnx_refuses_unfitted(tmp_path):
    """Check that an unfitted classifier is refused."""
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(LipNetClassifier(), tmp_path / "unfitted.onnx")


def test_export_onnx_without_onnx_says_how_to_install(fitted_pipeline, tmp_path, monkeypatch):
    """Check the install hint when onnxscript cannot be imported."""
    monkeypatch.setitem(sys.modules, "onnxscript", None)
    with pytest.raises(ImportError, match='pip install "sklipo\\[onnx\\]"'):
        export_onnx(fitted_pipeline, tmp_path / "missing.onnx")


@pytest.mark.parametrize("architecture", ["lipnet4", "lipnet_fcn"])
def test_export_onnx_two_branch(liposomes, tmp_path, architecture):
    """Check a classifier with extra features and its own image steps."""
    from sklipo.features import ParticleFeatures

    X, y = liposomes.data[:60], liposomes.target[:60]
    image_steps = [("crop", CropParticle("masked"))]
    if architecture == "lipnet4":
        image_steps.append(("resize", Resize(20)))
    clf = LipNetClassifier(
        architecture,
        image_transformer=Pipeline(image_steps),
        extra_features=ParticleFeatures(),
        max_epochs=1,
        random_state=RND_SEED,
    ).fit(X, y)
    path = export_onnx(clf, tmp_path / "hybrid.onnx")
    X_new = liposomes.data[60:]
    images = clf.image_transformer_.transform(X_new)
    inputs = {"features": clf.extra_features_.transform(X_new).astype(np.float64)}
    if architecture == "lipnet_fcn":
        inputs["image"], inputs["sizes"] = _pad(images, 0.0)
    else:
        inputs["image"] = images
    session = onnxruntime.InferenceSession(str(path))
    (proba,) = session.run(["probabilities"], inputs)
    np.testing.assert_allclose(proba, clf.predict_proba(X_new), atol=1e-5)
    meta = _metadata(path)
    assert [i["name"] for i in meta["inputs"]][-1] == "features"
    extra = meta["extra_features"]
    assert extra["transformer"] == "ParticleFeatures" and extra["names"][0] == "area"
    assert len(extra["names"]) == len(extra["mean"]) == inputs["features"].shape[1]
    assert [s["step"] for s in meta["image_transformer"]] == [n for n, _ in image_steps]
    assert meta["preprocessing"] == []
