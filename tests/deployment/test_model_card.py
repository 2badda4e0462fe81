"""Tests of save/load with model cards: contents, checksums, versions, overwrites."""

import json
import pickle
from datetime import datetime

import joblib
import numpy as np
import pytest
import sklearn
import torch
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline

import sklipo
from sklipo.compare import compare
from sklipo.datasets import make_liposomes
from sklipo.deployment import ModelVersionWarning, card_path, load, load_card, save
from sklipo.deployment import _model_card
from sklipo.preprocessing import CropParticle, Flatten, Resize

RND_SEED = 0


@pytest.fixture(scope="module")
def liposomes():
    return make_liposomes("lamellarity", n_samples=40, weights=[1, 1, 1], random_state=RND_SEED)


def _pipeline():
    return Pipeline(
        [
            ("crop", CropParticle("cropped")),
            ("resize", Resize(12)),
            ("flatten", Flatten()),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )


@pytest.fixture(scope="module")
def fitted(liposomes):
    return _pipeline().fit(liposomes.data, liposomes.target_names[liposomes.target])


class _RunsCode:
    """Unpickling this touches a marker file: stands for a malicious payload."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_save_writes_model_and_card(fitted, liposomes, tmp_path):
    """Check the card's contents and that load gives back an equal model."""
    path = tmp_path / "model.joblib"
    X, y = liposomes.data, liposomes.target_names[liposomes.target]
    card = save(fitted, path, X=X, y=y, metadata={"note": np.float32(0.5)})
    assert card_path(path) == tmp_path / "model.joblib.card.json"
    assert json.loads(card_path(path).read_text()) == card == load_card(path)
    assert card["format_version"] == 1 and card["model_file"] == "model.joblib"
    assert datetime.fromisoformat(card["created"]).utcoffset().total_seconds() == 0
    assert card["versions"]["sklipo"] == sklipo.__version__
    assert {"python", "scikit-learn", "torch", "numpy"} <= set(card["versions"])
    assert card["estimator"]["class"] == "sklearn.pipeline.Pipeline"
    steps = card["estimator"]["steps"]
    assert [s["name"] for s in steps] == ["crop", "resize", "flatten", "clf"]
    assert steps[0]["class"] == "sklipo.preprocessing.CropParticle"
    assert steps[1]["params"]["size"] == 12
    assert card["classes"] == ["multilamellar", "uncertain", "unilamellar"]
    assert card["input"] == {"channels": 1, "network_input_size": None, "architecture": None}
    data = card["training_data"]
    assert data["n_samples"] == 40 and data["channels"] == 1
    assert data["class_counts"] == {"multilamellar": 13, "uncertain": 13, "unilamellar": 14}
    sizes = X.sizes
    assert data["height_range"] == [sizes[:, 0].min(), sizes[:, 0].max()]
    assert data["width_range"] == [sizes[:, 1].min(), sizes[:, 1].max()]
    assert data["pixel_size_nm_range"][0] <= data["pixel_size_nm_range"][1]
    assert data["dtypes"] == [X.images[0].dtype.name]
    assert card["metadata"] == {"note": 0.5} and card["cv_results"] is None
    assert len(card["sha256"]) == 64 and card["size_bytes"] == path.stat().st_size
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_save_summarises_arrays_and_unknown_pixel_sizes(tmp_path):
    """Check the data summary of an image stack without pixel sizes, and of a matrix."""
    X = np.zeros((6, 2, 20, 30), dtype=np.uint16)
    model = DummyClassifier().fit(np.zeros((6, 1)), [0, 1] * 3)
    card = save(model, tmp_path / "a.joblib", X=X, y=[0, 1] * 3)
    data = card["training_data"]
    assert data["channels"] == 2 and data["dtypes"] == ["uint16"]
    assert data["height_range"] == [20, 20] and data["width_range"] == [30, 30]
    assert data["pixel_size_nm_range"] == "unknown" and data["n_unknown_pixel_size"] == 6
    assert card["input"]["channels"] == 2
    card = save(model, tmp_path / "b.joblib", X=np.ones((5, 3)))
    assert card["training_data"] == {"n_samples": 5, "shape": [5, 3], "dtypes": ["float64"]}


def test_save_records_cutout_settings(fitted, tmp_path):
    """Check that the card records every cut-out setting, defaults filled in."""
    from sklipo.detection import CUTOUT_PARAMETERS

    assert save(fitted, tmp_path / "none.joblib")["cutout"] is None
    path = tmp_path / "model.joblib"
    card = save(fitted, path, cutout={"surrounding": 10, "polarity": "dark"})
    cutout = load_card(path)["cutout"]
    assert cutout == card["cutout"] and list(cutout) == list(CUTOUT_PARAMETERS)
    assert cutout["surrounding"] == 10 and cutout["polarity"] == "dark"
    assert cutout["sigma"] == 1.0 and cutout["area_range"] == [0.2, 1.2]
    with pytest.raises(ValueError, match="Unknown cut-out setting.*surounding"):
        save(fitted, tmp_path / "bad.joblib", cutout={"surounding": 10})
    assert not (tmp_path / "bad.joblib").exists()


def test_save_records_cross_validate_scores(fitted, liposomes, tmp_path):
    """Check per-fold scores of cross_validate get means and stds; extras are dropped."""
    X, y = liposomes.data, liposomes.target
    scores = cross_validate(_pipeline(), X, y, cv=2, scoring=["f1_macro"],
                            return_estimator=True, return_indices=True)
    card = save(fitted, tmp_path / "m.joblib", cv_results=scores)
    cv = card["cv_results"]
    assert set(cv) == {"fit_time", "score_time", "test_f1_macro"}
    assert cv["test_f1_macro"]["mean"] == pytest.approx(scores["test_f1_macro"].mean())
    assert cv["test_f1_macro"]["std"] == pytest.approx(scores["test_f1_macro"].std())
    assert len(cv["test_f1_macro"]["folds"]) == 2


def test_save_records_compare_result_and_plain_dict(fitted, liposomes, tmp_path):
    """Check a sklipo.compare result and a plain dict of means and stds."""
    X, y = liposomes.data, liposomes.target
    result = compare({"logistic": _pipeline()}, X, y, cv=2, random_state=RND_SEED)
    card = save(fitted, tmp_path / "c.joblib", cv_results=result)
    cv = card["cv_results"]
    assert cv["source"] == "sklipo.compare" and "test_indices" not in cv
    mean = cv["models"]["logistic"]["scores"]["f1_macro"]["mean"]
    assert mean == pytest.approx(result.mean_scores("f1_macro")[0])
    plain = {"f1_macro": {"mean": np.float64(0.8), "std": 0.05}, "n_folds": 5}
    card = save(fitted, tmp_path / "d.joblib", cv_results=plain)
    assert card["cv_results"] == {"f1_macro": {"mean": 0.8, "std": 0.05}, "n_folds": 5}
    with pytest.raises(TypeError, match="cv_results must be.*got float"):
        save(fitted, tmp_path / "e.joblib", cv_results=0.8)
    assert not (tmp_path / "e.joblib").exists()


def test_save_refuses_to_overwrite(fitted, tmp_path):
    """Check that an existing model is kept unless overwrite=True."""
    path = tmp_path / "model.joblib"
    first = save(fitted, path)
    with pytest.raises(FileExistsError, match="model.joblib.*overwrite=True"):
        save(DummyClassifier().fit([[0]], [1]), path)
    assert load_card(path) == first
    card_path(path).unlink()
    with pytest.raises(FileExistsError, match="exist"):
        save(DummyClassifier().fit([[0]], [1]), path)
    save(DummyClassifier().fit([[0]], [1]), path, overwrite=True)
    assert isinstance(load(path), DummyClassifier)


def test_save_mismatched_x_y(fitted, liposomes, tmp_path):
    """Check that X and y of different lengths are refused before writing."""
    with pytest.raises(ValueError, match="40 samples in X and 3 labels"):
        save(fitted, tmp_path / "m.joblib", X=liposomes.data, y=[0, 1, 2])
    assert not list(tmp_path.iterdir())


def test_save_crash_leaves_no_partial_file(tmp_path, monkeypatch):
    """Check that a failing dump leaves neither a model, a card nor a temp file."""

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_model_card.joblib, "dump", fail)
    with pytest.raises(OSError, match="disk full"):
        save(DummyClassifier().fit([[0]], [1]), tmp_path / "m.joblib")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "model",
    [DummyClassifier(), Pipeline([("flatten", Flatten()), ("clf", LogisticRegression())])],
)
def test_save_refuses_unfitted_estimator(model, tmp_path):
    """Check that an unfitted estimator is refused by name, before anything is written."""
    with pytest.raises(ValueError, match=f"{type(model).__name__} is not fitted: call fit"):
        save(model, tmp_path / "m.joblib")
    assert not list(tmp_path.iterdir())


def test_save_takes_plain_objects(tmp_path):
    """Check that an object without fit is saved as it is."""
    save({"threshold": 0.5}, tmp_path / "m.joblib")
    assert load(tmp_path / "m.joblib") == {"threshold": 0.5}


def test_load_refuses_missing_card(tmp_path):
    """Check that a joblib file without a card is not unpickled."""
    marker = tmp_path / "ran"
    path = tmp_path / "model.joblib"
    joblib.dump(_RunsCode(marker), path)
    with pytest.raises(FileNotFoundError, match="has no model card 'model.joblib.card.json'"):
        load(path)
    assert not marker.exists()


def test_load_refuses_truncated_file(fitted, tmp_path):
    """Check that a truncated model fails clearly before unpickling."""
    path = tmp_path / "model.joblib"
    save(fitted, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="does not match its model card.*truncated"):
        load(path)


def test_load_refuses_swapped_files(fitted, tmp_path):
    """Check that a valid model put in another's place, or a code-running pickle, is refused."""
    a, b = tmp_path / "a.joblib", tmp_path / "b.joblib"
    save(fitted, a)
    save(DummyClassifier().fit([[0]], [1]), b)
    a.write_bytes(b.read_bytes())
    with pytest.raises(ValueError, match="not the one the card describes; it was not loaded"):
        load(a)
    marker = tmp_path / "ran"
    with open(b, "wb") as file:
        pickle.dump(_RunsCode(marker), file)
    with pytest.raises(ValueError, match="does not match its model card"):
        load(b)
    assert not marker.exists()


def test_load_warns_on_version_mismatch(fitted, tmp_path):
    """Check the warning naming the package and both versions."""
    path = tmp_path / "model.joblib"
    card = save(fitted, path)
    card["versions"]["scikit-learn"] = "0.24.2"
    card["versions"]["torch"] = "1.0.0"
    card_path(path).write_text(json.dumps(card))
    with pytest.warns(ModelVersionWarning) as record:
        model = load(path)
    messages = [str(w.message) for w in record]
    assert any(
        f"saved with scikit-learn 0.24.2 and is loaded with scikit-learn {sklearn.__version__}"
        in m
        for m in messages
    )
    assert any(f"saved with torch 1.0.0 and is loaded with torch {torch.__version__}" in m
               for m in messages)
    assert len(messages) == 2 and isinstance(model, Pipeline)


def test_load_card_refuses_other_json(tmp_path):
    """Check the errors for a card that is not one, or of a newer format."""
    path = tmp_path / "model.joblib"
    path.write_bytes(b"x")
    card_path(path).write_text("{not json")
    with pytest.raises(ValueError, match="not a readable model card"):
        load(path)
    card_path(path).write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a sklipo model card"):
        load_card(path)
    card_path(path).write_text(json.dumps({"format": "sklipo-model-card", "format_version": 99}))
    with pytest.raises(ValueError, match="format version 99.*Upgrade sklipo"):
        load(path)
