"""Ctrl-C stops a run: a truncated LipNet fit is never kept, scored or reported as done."""

import numpy as np
import pytest
from sklearn.model_selection import cross_validate

from sklipo.classifier import LipNetClassifier
from sklipo.classifier import _net
from sklipo.compare import compare

RND_SEED = 0


def _data(n=24, size=12):
    rng = np.random.RandomState(RND_SEED)
    y = np.array(["disc", "ring"] * (n // 2))
    X = rng.randint(0, 255, (n, size, size)).astype(np.uint8)
    X[y == "disc", 4:8, 4:8] = 255
    return X, y


def _clf(**params):
    return LipNetClassifier(
        "lipnet1", **{"max_epochs": 3, "random_state": RND_SEED, "augment": None, **params}
    )


@pytest.fixture
def ctrl_c_at_second_batch(monkeypatch):
    """Press Ctrl-C during the second training step of every fit."""
    train_step = _net._LipNetNet.train_step
    calls = []

    def interrupted(self, batch, **kwargs):
        calls.append(1)
        if len(calls) % 2 == 0:
            raise KeyboardInterrupt
        return train_step(self, batch, **kwargs)

    monkeypatch.setattr(_net._LipNetNet, "train_step", interrupted)
    return calls


def test_lipnet_fit_interrupted_raises(ctrl_c_at_second_batch):
    """Check that skorch's swallowed KeyboardInterrupt reaches the caller."""
    X, y = _data()
    clf = _clf(batch_size=8)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_") or not hasattr(clf, "net_") or clf.net_.interrupted_


def test_lipnet_early_stopping_is_not_an_interruption():
    """Check that EarlyStopping's own KeyboardInterrupt still ends training quietly."""
    X, y = _data(n=40)
    clf = _clf(max_epochs=20, early_stopping=True, patience=1, lr=1e-9, validation_fraction=0.25)
    clf.fit(X, y)
    assert clf.n_epochs_ < 20 and not clf.net_.interrupted_


def test_cross_validate_interrupted_raises(ctrl_c_at_second_batch):
    """Check that cross_validate does not score a truncated fit (error_score is for errors)."""
    X, y = _data()
    with pytest.raises(KeyboardInterrupt):
        cross_validate(_clf(batch_size=8), X, y, cv=2, error_score=np.nan)


def test_compare_interrupted_marks_the_rest_not_run(ctrl_c_at_second_batch):
    """Check that compare stops at a Ctrl-C and never scores the truncated fold."""
    X, y = _data()
    with pytest.warns(UserWarning, match="Interrupted"):
        result = compare({"net": _clf(batch_size=8)}, X, y, cv=2, random_state=RND_SEED)
    assert list(result.status[0]) == ["not run", "not run"]
    assert result.errors == []
