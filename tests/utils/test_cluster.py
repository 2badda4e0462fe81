"""dask_backend: compare on a local Dask cluster, lost workers, unreachable schedulers."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("distributed")
pytest.importorskip("zarr")

from sklipo.compare import compare  # noqa: E402
from sklipo.datasets import load_particles, make_liposomes, save_particles  # noqa: E402
from sklipo.features import ParticleFeatures  # noqa: E402
from sklipo.utils import dask_backend  # noqa: E402


class _SlowClassifier(ClassifierMixin, BaseEstimator):
    """The majority class, after sleeping in fit: a fold long enough to lose a worker in."""

    def __init__(self, seconds=1.0):
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[counts.argmax()]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


def test_dask_backend_unreachable_scheduler_names_address_quickly():
    # Check that an address where no scheduler listens fails within the timeout, named.
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match=r"tcp://127\.0\.0\.1:9 within 1 s"):
        with dask_backend("tcp://127.0.0.1:9", timeout=1):
            pass
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("scheduler", ["local:x", "not an address", "local:0"])
def test_dask_backend_refuses_bad_scheduler(scheduler):
    # Check that a malformed scheduler setting is a ValueError naming it.
    with pytest.raises(ValueError, match="scheduler|worker"):
        with dask_backend(scheduler):
            pass


def test_dask_backend_none_changes_nothing():
    # Check that None runs the block with joblib's own backend.
    with dask_backend(None) as client:
        assert client is None


@pytest.mark.slow
def test_compare_on_local_cluster_matches_sequential(tmp_path):
    # Check that compare on 2 local workers, reading a particle store, gives the sequential folds.
    X, y = make_liposomes(
        n_samples=90, weights=[1, 1, 1], surrounding=4, return_X_y=True, random_state=0
    )
    Z, yz = load_particles(save_particles(X, y, tmp_path / "c.zarr", format="zarr"), return_X_y=True)
    features = ParticleFeatures(["area", "circularity", "radial_profile"])
    models = {
        "logistic": make_pipeline(features, StandardScaler(), LogisticRegression(max_iter=300)),
        "dummy": DummyClassifier(),
    }
    sequential = compare(models, Z, yz, cv=3, min_test_support=1)
    with dask_backend("local:2"):
        distributed = compare(models, Z, yz, cv=3, min_test_support=1)
    assert (distributed.status == "ok").all()
    np.testing.assert_array_equal(distributed.confusion_matrices, sequential.confusion_matrices)


@pytest.mark.slow
def test_compare_survives_a_lost_worker(tmp_path):
    # Check that killing a worker mid-run still gives every (model, fold) result.
    images = np.random.RandomState(0).rand(60, 8, 8)
    y = np.repeat([0, 1], 30)
    X = load_particles(save_particles(images, y, tmp_path / "k.zarr", format="zarr")).data
    models = {"slow_a": _SlowClassifier(1.5), "slow_b": _SlowClassifier(1.5)}
    with dask_backend("local:2") as client:
        pids = list(client.run(os.getpid).values())

        def kill_one():
            time.sleep(2.0)
            os.kill(pids[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_one)
        killer.start()
        result = compare(models, X, y, cv=3, min_test_support=1)
        killer.join()
    assert (result.status == "ok").all(), result.errors
