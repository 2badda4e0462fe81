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
    """Check that a cropped, masked LipNet-4 beats DummyClassifier by far (3-fold CV).

    Balanced classes, so the majority-class baseline scores exactly 1/3; the
    network scores about 0.6 (0.56 to 0.59 over three seeds of data and net).
    """
    X, y = make_liposomes(n_samples=450, weights=[1, 1, 1], return_X_y=True, random_state=0)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    net = LipNetClassifier("lipnet4", max_epochs=12, lr=3e-3, augment=None, random_state=0)
    pipe = Pipeline([("crop", CropParticle("masked")), ("resize", Resize(16)), ("net", net)])
    scores = cross_validate(pipe, X, y, cv=cv, scoring="balanced_accuracy")["test_score"]
    dummy = cross_validate(
        DummyClassifier(strategy="most_frequent"), np.zeros((len(y), 1)), y, cv=cv,
        scoring="balanced_accuracy",
    )["test_score"]
    assert dummy.mean() == pytest.approx(1 / 3)
    assert scores.mean() > dummy.mean() + 0.2
