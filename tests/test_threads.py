"""Tests of sklipo.threads: torch, BLAS and joblib workers share the cores."""

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from threadpoolctl import threadpool_info

import sklipo
from sklipo._threads import WithThreads, parallel_jobs, worker_threads


def _torch_and_blas_threads():
    return torch.get_num_threads(), max(pool["num_threads"] for pool in threadpool_info())


def test_threads_sets_and_restores_torch():
    """Check that threads(n) sets torch's threads inside and restores them after."""
    before = torch.get_num_threads()
    with sklipo.threads(1) as n:
        assert n == 1
        assert torch.get_num_threads() == 1
        assert sklipo.get_threads() == 1
    assert torch.get_num_threads() == before


def test_threads_restores_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(KeyError), sklipo.threads(1):
        raise KeyError
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("n", [0, -2, 1.5, True, "2"])
def test_threads_refuses_bad_values(n):
    with pytest.raises(ValueError, match="positive int"):
        with sklipo.threads(n):
            pass


def test_threads_caps_all_core_jobs():
    """Check that n_jobs=-1 means at most the thread budget, and workers share it."""
    with sklipo.threads(1):
        assert parallel_jobs(-1) == 1
        assert parallel_jobs(2) == 2  # an explicit number is kept
        assert worker_threads(2) == 1
    assert worker_threads(1) == sklipo.get_threads()


def test_with_threads_limits_loky_workers():
    """Check that each of 2 process workers runs 1 torch and BLAS thread, per task."""
    limited = WithThreads(_torch_and_blas_threads, 1)
    results = Parallel(n_jobs=2)(delayed(limited)() for _ in range(2))
    assert results == [(1, 1), (1, 1)]


def test_with_threads_restores_in_process():
    before = torch.get_num_threads()
    assert WithThreads(torch.get_num_threads, 1)() == 1
    assert torch.get_num_threads() == before


def test_particle_features_same_rows_with_workers():
    """Check that features computed by 2 thread-limited workers equal 1 job's."""
    from sklipo.datasets import make_liposomes
    from sklipo.features import ParticleFeatures

    X, _ = make_liposomes(n_samples=30, random_state=0, return_X_y=True)
    np.testing.assert_array_equal(
        ParticleFeatures(n_jobs=2).fit_transform(X), ParticleFeatures().fit_transform(X)
    )
