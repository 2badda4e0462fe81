"""Tests that scikit-learn's own ensembles combine a LipNet and the SVM on ParticleSets."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.datasets import make_liposomes
from sklipo.features import make_svm_baseline
from sklipo.preprocessing import CropParticle, Resize

RND_SEED = 0


def _members():
    cnn = make_pipeline(
        CropParticle("masked"),
        Resize(12),
        LipNetClassifier("lipnet1", max_epochs=1, augment=None, random_state=RND_SEED),
    )
    return [("cnn", cnn), ("svm", make_svm_baseline(probability=True))]


@pytest.fixture(scope="module")
def data():
    return make_liposomes(n_samples=36, weights=[1, 1, 1], pixel_size=4.0, surrounding=4,
                          return_X_y=True, random_state=RND_SEED)


@pytest.mark.parametrize(
    "ensemble",
    [
        VotingClassifier(_members(), voting="soft"),
        StackingClassifier(_members(), final_estimator=LogisticRegression(), cv=2),
    ],
    ids=["voting", "stacking"],
)
def test_ensemble_fits_and_predicts_particle_sets(ensemble, data):
    """Check that the ensembles take a ParticleSet as X, with string labels."""
    X, y = data
    assert isinstance(X, ParticleSet)
    labels = np.array(["uni", "multi", "uncertain"])[y]
    fitted = clone(ensemble).fit(X, labels)
    proba = fitted.predict_proba(X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(fitted.predict(X)) <= set(labels)


def test_stacking_passthrough_needs_an_array(data):
    """Check the one setting that cannot work: passthrough stacks X itself as features."""
    X, y = data
    stacking = StackingClassifier(_members(), cv=2, passthrough=True)
    with pytest.raises(TypeError, match="no single array form"):
        stacking.fit(X, y)
