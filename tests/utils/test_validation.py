import numpy as np
import pytest

from sklipo.utils import check_range, describe_particle


@pytest.mark.parametrize(
    "value, kwargs, expected",
    [
        ((1, 99), {"low": 0, "high": 100}, (1.0, 99.0)),
        ([0, 100], {"low": 0, "high": 100}, (0.0, 100.0)),
        (np.array([-10.0, 30.0]), {}, (-10.0, 30.0)),
        ((1.0, 1.0), {"low": 0, "closed": "neither", "allow_equal": True}, (1.0, 1.0)),
    ],
)
def test_check_range_returns_floats(value, kwargs, expected):
    """Check that a valid pair comes back as a tuple of floats."""
    assert check_range(value, "r", **kwargs) == expected


@pytest.mark.parametrize(
    "value, kwargs, rule",
    [
        ((2, 1), {}, "low < high"),
        ((1, 1), {}, "low < high"),
        ((0, 1), {"low": 0, "closed": "neither", "allow_equal": True}, "0 < low <= high"),
        ((-1, 50), {"low": 0, "high": 100}, "0 <= low < high <= 100"),
        ((1, 100), {"low": 0, "high": 100, "closed": "left"}, "0 <= low < high < 100"),
        ((0, np.inf), {}, "low < high"),
        ((0, np.nan), {}, "low < high"),
        ((True, 2), {}, "low < high"),
        (("a", "b"), {}, "low < high"),
        ((1, 2, 3), {}, "low < high"),
        (0.5, {}, "low < high"),
        (None, {}, "low < high"),
    ],
)
def test_check_range_rejects_with_rule(value, kwargs, rule):
    """Check that a bad pair is refused with the rule and the value got."""
    message = f"r must be a (low, high) pair of finite numbers with {rule}; got {value!r}."
    with pytest.raises(ValueError) as info:
        check_range(value, "r", **kwargs)
    assert str(info.value) == message


def test_describe_particle_names_position_and_telling_id():
    """Check that the id is named only when it says more than the position."""
    assert describe_particle(4) == "particle 4"
    assert describe_particle(4, "4") == "particle 4"
    assert describe_particle(np.int64(4), np.str_("4")) == "particle 4"
    assert describe_particle(4, "cell_7.tif") == "particle 4 (id 'cell_7.tif')"
