"""End-to-end: synthetic or saved particles through preprocessing and a classifier."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklipo.datasets import load_particles, make_liposomes, save_particles
from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

RND_SEED = 0


def _pixel_pipeline(classifier):
    return Pipeline(
        [
            ("crop", CropParticle("masked")),
            ("normalize", IntensityNormalizer("quantile")),
            ("resize", Resize(16)),
            ("flatten", Flatten()),
            ("clf", classifier),
        ]
    )


@pytest.fixture(scope="module")
def liposomes():
    # Minority classes boosted so every fold holds each class.
    return make_liposomes(
        "encapsulation", n_samples=240, weights=[0.5, 0.25, 0.25], random_state=RND_SEED
    )


def test_pixel_pipeline_beats_dummy_on_synthetic_liposomes(liposomes):
    """Check that cross-validation runs end to end and learns something real."""
    cv = StratifiedKFold(4, shuffle=True, random_state=RND_SEED)
    clf = LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)
    scores = cross_validate(_pixel_pipeline(clf), liposomes.data, liposomes.target, cv=cv, scoring="balanced_accuracy", error_score="raise")
    dummy = cross_validate(DummyClassifier(), liposomes.data, liposomes.target, cv=cv, scoring="balanced_accuracy")
    assert scores["test_score"].mean() > dummy["test_score"].mean() + 0.2


@pytest.fixture(scope="module")
def few_liposomes():
    # writing a particle folder costs a file per image and mask: 60 particles
    # show the round trip as well as 240
    return make_liposomes("encapsulation", n_samples=60, weights=[1, 1, 1], random_state=RND_SEED)


def test_pixel_pipeline_runs_on_saved_folder(few_liposomes, tmp_path):
    """Check that particles written by save_particles give the same CV scores."""
    liposomes = few_liposomes
    X, y = liposomes.data, liposomes.target
    save_particles(X, liposomes.target_names[y], tmp_path / "particles")
    loaded = load_particles(tmp_path / "particles")
    assert [str(i) for i in loaded.data.ids] == [str(i) for i in X.ids]
    y_loaded = loaded.target_names[loaded.target]
    np.testing.assert_array_equal(y_loaded, liposomes.target_names[y])
    cv = StratifiedKFold(3, shuffle=True, random_state=RND_SEED)
    clf = LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)
    # the same string labels on both sides: integer codes would order the
    # classes differently and change the solver's rounding
    original = cross_validate(_pixel_pipeline(clf), X, liposomes.target_names[y], cv=cv)["test_score"]
    reloaded = cross_validate(_pixel_pipeline(clf), loaded.data, y_loaded, cv=cv)["test_score"]
    np.testing.assert_allclose(reloaded, original)
