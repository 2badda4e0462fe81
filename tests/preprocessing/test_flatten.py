import numpy as np
import pytest

from sklipo import ParticleSet
from sklipo.preprocessing import Flatten


def test_flatten_shapes_and_names():
    """Check flattening of 3-D and 4-D stacks and the pixel column names."""
    X = np.arange(2 * 2 * 3 * 4).reshape(2, 2, 3, 4)
    flatten = Flatten().fit(X)
    np.testing.assert_array_equal(flatten.transform(X), X.reshape(2, -1))
    names = flatten.get_feature_names_out()
    assert len(names) == 24 and names[0] == "c0_y0_x0" and names[-1] == "c1_y2_x3"
    assert Flatten().fit_transform(np.zeros((5, 8, 8))).shape == (5, 64)


def test_flatten_passes_flat_matrix_through():
    """Check that an (n, d) matrix is returned as it is."""
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Flatten().fit_transform(X), X)
    assert list(Flatten().fit(X).get_feature_names_out()) == ["x0", "x1", "x2"]


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((5, 2, 2, 2, 2)), ValueError, r"got shape \(5, 2, 2, 2, 2\)"),
        (ParticleSet([np.zeros((4, 4))]), TypeError, "add sklipo.preprocessing.Resize"),
        (np.zeros((0, 4, 4)), ValueError, "0 sample"),
        (np.full((2, 4, 4), np.nan), ValueError, "NaN"),
    ],
)
def test_flatten_bad_input(X, error, match):
    """Check that non-image input raises with advice."""
    with pytest.raises(error, match=match):
        Flatten().fit(X)


def test_flatten_refuses_other_shape_at_transform():
    """Check that transform insists on the fitted image shape."""
    flatten = Flatten().fit(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"fitted on images of shape \(1, 8, 8\).*\(1, 9, 9\)"):
        flatten.transform(np.zeros((2, 1, 9, 9)))
