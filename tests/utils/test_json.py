"""Tests of json_ready, the JSON sanitiser shared by compare and the model card."""

import json

import numpy as np

from sklipo.utils import json_ready


def test_json_ready_plain_types():
    """Check that numpy values, NaN and nested containers become plain JSON."""
    value = {
        1: np.arange(3),
        "x": (np.float32(0.5), np.nan, np.inf),
        "matrix": np.array([[1.0, np.nan]]),
        "scalar": np.array(2.5),
        "flag": np.bool_(True),
        "names": np.array(["a", "b"]),
    }
    data = json_ready(value)
    assert data == {
        "1": [0, 1, 2],
        "x": [0.5, None, None],
        "matrix": [[1.0, None]],
        "scalar": 2.5,
        "flag": True,
        "names": ["a", "b"],
    }
    json.dumps(data, allow_nan=False)


def test_json_ready_repr_for_other_objects():
    """Check that other objects are written as their repr."""
    assert json_ready({"cls": int}) == {"cls": "<class 'int'>"}
