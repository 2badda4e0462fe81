"""Tests of LipNetClassifier's `callbacks` parameter."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from skorch.callbacks import EpochScoring

from sklipo.classifier import LipNetClassifier

X = np.random.RandomState(0).rand(24, 16, 16).astype(np.float32)
Y = np.repeat(["a", "b"], 12)


def _scoring():
    return EpochScoring("accuracy", on_train=True, name="train_acc")


def test_lipnet_callbacks_run_on_clones():
    """Check that each fit runs clones and leaves the parameter's callbacks untouched."""
    scoring = _scoring()
    clf = LipNetClassifier("lipnet1", max_epochs=2, callbacks=[scoring], random_state=0)
    clf.fit(X, Y)
    assert clf.callbacks == [scoring] and not hasattr(scoring, "best_score_")
    assert all(0 <= score <= 1 for score in clf.net_.history[:, "train_acc"])
    assert len(clf.net_.history[:, "train_acc"]) == 2
    named = LipNetClassifier(
        "lipnet1", max_epochs=1, callbacks=[("acc", _scoring())], random_state=0
    ).fit(X, Y)
    assert "acc" in dict(named.net_.callbacks_)


def test_lipnet_callbacks_clone_pickle_and_keep_seeded_fits_identical():
    """Check clone and pickle with callbacks, and that they change no seeded weight."""
    clf = LipNetClassifier("lipnet1", max_epochs=2, callbacks=[_scoring()], random_state=0)
    cloned = clone(clf)
    assert isinstance(cloned.callbacks[0], EpochScoring)
    assert cloned.callbacks[0] is not clf.callbacks[0]
    first = clf.fit(X, Y).predict_proba(X)
    again = clf.fit(X, Y).predict_proba(X)
    plain = LipNetClassifier("lipnet1", max_epochs=2, random_state=0).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, plain)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), first)


def test_lipnet_callbacks_must_be_a_list():
    """Check the parameter validation of `callbacks`."""
    with pytest.raises(ValueError, match="'callbacks' parameter of LipNetClassifier must be"):
        LipNetClassifier(callbacks=_scoring()).fit(X, Y)
