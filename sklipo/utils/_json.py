"""Plain JSON types from numpy and Python values."""

# License: BSD 3 clause

import numpy as np

__all__ = ["json_ready"]


def json_ready(value):
    """Convert a value to plain JSON types, recursively.

    Parameters
    ----------
    value : object
        A dict, list, tuple, ndarray, numpy scalar, or plain value.

    Returns
    -------
    data : object
        Dicts with string keys, lists, ``int``, ``float``, ``bool``, ``str``
        and None: NaN and infinities become None, numpy values their Python
        equivalents, and anything else its ``repr``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.utils import json_ready
    >>> json_ready({"scores": np.array([0.5, np.nan]), 1: np.int64(3)})
    {'scores': [0.5, None], '1': 3}
    """
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)
