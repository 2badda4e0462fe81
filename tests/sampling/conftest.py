"""Small imbalanced particle sets shared by the sampler tests."""

import numpy as np
import pytest

from sklipo.datasets import make_liposomes
from sklipo.preprocessing import Resize


@pytest.fixture(scope="session")
def liposomes():
    """60 variable-size particles, classes 36/16/8."""
    return make_liposomes("lamellarity", 60, weights=[36, 16, 8], random_state=0, return_X_y=True)


@pytest.fixture(scope="session")
def resized(liposomes):
    """The same particles as a (60, 1, 12, 12) float32 stack."""
    X, y = liposomes
    return Resize(12).fit_transform(X), y


@pytest.fixture(scope="session")
def class_counts(liposomes):
    return np.bincount(liposomes[1])
