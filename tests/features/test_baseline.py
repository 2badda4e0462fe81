"""Tests of the SVM baseline: construction, parameters, and learning on liposomes."""

import warnings

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.dummy import DummyClassifier
from sklearn.metrics import make_scorer, recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.svm import SVC

from sklipo import ParticleSet
from sklipo.datasets import make_liposomes
from sklipo.features import ParticleFeatures, make_svm_baseline

RND_SEED = 0


def _shapes(n_per_class=12):
    """Discs, ellipses and rings: three classes features separate with certainty."""
    rng = np.random.RandomState(RND_SEED)
    images, masks, y = [], [], []
    rows, cols = np.mgrid[:48, :48]
    for label in range(3):
        for _ in range(n_per_class):
            radius = rng.uniform(10, 14)
            squash = 2.0 if label == 1 else 1.0
            distance = np.hypot((rows - 24) * squash, cols - 24)
            mask = distance <= radius
            image = rng.normal(0, 1, mask.shape) + 4 * mask
            if label == 2:
                image += 6 * (np.abs(distance - radius + 2) < 1.5)
            images.append(image)
            masks.append(mask)
            y.append(label)
    return ParticleSet(images, masks, pixel_size=1.0), np.array(y)


def test_make_svm_baseline_steps_and_params():
    """Check the pipeline's steps and that keyword and step parameters are set."""
    svm = make_svm_baseline(["area"], pixel_size_nm=0.8, C=5.0, gamma=0.1, features__n_profile_bins=24)
    assert [name for name, _ in svm.steps] == ["features", "scale", "svm"]
    params = svm.get_params()
    assert params["features__features"] == ["area"]
    assert params["features__pixel_size_nm"] == 0.8
    assert params["features__n_profile_bins"] == 24
    assert params["svm__C"] == 5.0 and params["svm__gamma"] == 0.1
    assert params["svm__kernel"] == "rbf" and params["svm__class_weight"] == "balanced"
    assert isinstance(svm.named_steps["features"], ParticleFeatures)


def test_make_svm_baseline_unknown_step_param_raises():
    """Check that a misspelt step parameter is refused."""
    with pytest.raises(ValueError, match="Invalid parameter"):
        make_svm_baseline(svm__kernal="linear")


def test_make_svm_baseline_probability():
    """Check probability=True gives calibrated probabilities without deprecation warnings."""
    X, y = _shapes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        svm = make_svm_baseline(["area", "circularity", "radial_profile"], probability=True).fit(X, y)
    assert isinstance(svm.named_steps["svm"], CalibratedClassifierCV)
    assert isinstance(svm.named_steps["svm"].estimator, SVC)
    proba = svm.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        plain = make_svm_baseline(["area", "circularity"]).fit(X, y)
    assert isinstance(plain.named_steps["svm"], SVC)


def test_make_svm_baseline_grid_search_over_features_and_c():
    """Check GridSearchCV tunes C and feature subsets and picks a separating one."""
    X, y = _shapes()
    search = GridSearchCV(
        make_svm_baseline(),
        {"svm__C": [1.0, 10.0], "features__features": [["area"], ["circularity", "radial_profile"]]},
        cv=StratifiedKFold(3),
        scoring="balanced_accuracy",
    ).fit(X, y)
    # Area alone cannot separate discs from rings; shape and profile can.
    assert search.best_params_["features__features"] == ["circularity", "radial_profile"]
    assert search.best_score_ > 0.9


def test_svm_baseline_beats_dummy_on_liposomes():
    """Check the 5-fold per-class report on make_liposomes beats DummyClassifier."""
    X, y = make_liposomes(n_samples=200, weights=[0.5, 0.3, 0.2], random_state=RND_SEED, return_X_y=True)
    scoring = {"balanced_accuracy": "balanced_accuracy"}
    for label in range(3):
        scoring[f"recall_{label}"] = make_scorer(recall_score, labels=[label], average="macro")
    cv = StratifiedKFold(5, shuffle=True, random_state=RND_SEED)
    svm = cross_validate(make_svm_baseline(), X, y, cv=cv, scoring=scoring)
    dummy = cross_validate(DummyClassifier(), np.zeros((len(y), 1)), y, cv=cv, scoring=scoring)
    report = {key: svm[f"test_{key}"].mean() for key in scoring}
    assert report["balanced_accuracy"] > dummy["test_balanced_accuracy"].mean() + 0.15
    # Per class: every class is found in part (the dummy finds only the majority).
    assert min(report[f"recall_{label}"] for label in range(3)) > 0.2
