"""Learning test of LipNetClassifier on the synthetic liposomes."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklipo.classifier import LipNetClassifier
from sklipo.datasets import make_liposomes
from sklipo.preprocessing import CropParticle, Resize


@pytest.mark.slow
def test_lipnet4_pipeline_beats_majority_class_on_liposomes():
    """Check that a cropped, masked LipNet-4 beats DummyClassifier by far (5-fold CV)."""
    X, y = make_liposomes(n_samples=3000, return_X_y=True, random_state=0)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    net = LipNetClassifier(
        "lipnet4", max_epochs=4, lr=3e-3, augment=None, balanced_batches=True, random_state=0
    )
    pipe = Pipeline([("crop", CropParticle("masked")), ("resize", Resize(16)), ("net", net)])
    scores = cross_validate(pipe, X, y, cv=cv, scoring="balanced_accuracy")["test_score"]
    dummy = cross_validate(
        DummyClassifier(strategy="most_frequent"), np.zeros((len(y), 1)), y, cv=cv,
        scoring="balanced_accuracy",
    )["test_score"]
    assert dummy.mean() == pytest.approx(1 / 3)
    assert scores.mean() > dummy.mean() + 0.2
