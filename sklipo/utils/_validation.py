"""Checks of parameters that several packages share, with their error messages."""

# License: BSD 3 clause

from numbers import Number, Real

import numpy as np

__all__ = ["check_label_types", "check_range", "describe_particle"]

_CLOSED = {"both": ("<=", "<="), "left": ("<=", "<"), "right": ("<", "<="), "neither": ("<", "<")}


def check_range(value, name, *, low=None, high=None, closed="both", allow_equal=False):
    """Check a ``(low, high)`` pair of finite numbers and return it.

    Parameters
    ----------
    value : sequence of two numbers
        The pair to check.
    name : str
        How the error message names the parameter, e.g. ``"edge_range_nm"``.
    low, high : float, default=None
        Bounds of the interval that both numbers must lie in; None for no bound.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which of `low` and `high` the numbers may equal, as in scikit-learn's
        ``Interval``.
    allow_equal : bool, default=False
        Whether the two numbers may be equal (an empty range).

    Returns
    -------
    value : tuple of (float, float)

    Raises
    ------
    ValueError
        If `value` is not two finite numbers in order within the bounds; the
        message states the rule and the value got.

    Examples
    --------
    >>> from sklipo.utils import check_range
    >>> check_range((1, 99), "quantile_range", low=0, high=100)
    (1.0, 99.0)
    >>> check_range((99, 1), "quantile_range", low=0, high=100)
    Traceback (most recent call last):
    ...
    ValueError: quantile_range must be a (low, high) pair of finite numbers with 0 <= low < high <= 100; got (99, 1).
    """
    left, right = _CLOSED[closed]
    rule = "low <= high" if allow_equal else "low < high"
    if low is not None:
        rule = f"{low:g} {left} {rule}"
    if high is not None:
        rule = f"{rule} {right} {high:g}"
    sequence = isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray) and value.ndim == 1)
    if sequence and len(value) == 2 and all(map(_finite_number, value)):
        first, second = float(value[0]), float(value[1])
        in_order = first <= second if allow_equal else first < second
        above = low is None or (low <= first if left == "<=" else low < first)
        below = high is None or (second <= high if right == "<=" else second < high)
        if in_order and above and below:
            return first, second
    raise ValueError(
        f"{name} must be a (low, high) pair of finite numbers with {rule}; got {value!r}."
    )


def _finite_number(value):
    return isinstance(value, Real) and not isinstance(value, bool) and bool(np.isfinite(value))


def describe_particle(index, id_=None):
    """Name a particle in error messages by its position and, if telling, its id.

    Parameters
    ----------
    index : int
        The particle's position in its set.
    id_ : str, default=None
        Its identifier; left out when None or just the position.

    Returns
    -------
    description : str

    Examples
    --------
    >>> from sklipo.utils import describe_particle
    >>> describe_particle(3, "3"), describe_particle(3, "a.png")
    ('particle 3', "particle 3 (id 'a.png')")
    """
    if id_ is None or str(id_) == str(index):
        return f"particle {index}"
    return f"particle {index} (id {str(id_)!r})"


def _label_kind(label):
    if isinstance(label, (str, np.str_, bytes)):
        return "string"
    if isinstance(label, (Number, np.bool_)):
        return "number"
    return type(label).__name__


def check_label_types(y, name="y"):
    """Refuse labels that mix types or hold None, before NumPy sorts them.

    Sorting such labels fails deep inside NumPy ("'<' not supported between
    instances of 'int' and 'str'"), and a list mixing numbers and strings is
    silently turned into strings ('1', 'a'). Arrays of one dtype pass
    untouched; only lists and object arrays are looked into.

    Parameters
    ----------
    y : array-like
        The labels, as the user passed them.
    name : str, default="y"
        How the error message names them.

    Raises
    ------
    ValueError
        If a label is None, or labels mix numbers, strings or other types;
        the message names the first offending position.

    Examples
    --------
    >>> from sklipo.utils import check_label_types
    >>> check_label_types(["a", "b"])
    >>> check_label_types([1, "a"])
    Traceback (most recent call last):
    ...
    ValueError: y mixes numbers and strings (1 at position 0, 'a' at position 1); give every label the same type, e.g. all strings.
    """
    if isinstance(y, (list, tuple)):
        values = y
    else:
        array = np.asarray(y) if hasattr(y, "__array__") or hasattr(y, "__len__") else None
        if array is None or array.dtype != object:
            return
        values = array.ravel().tolist()
    first = {}
    for position, label in enumerate(values):
        if label is None or (isinstance(label, (float, np.floating)) and np.isnan(label)):
            raise ValueError(
                f"{name} holds a missing label ({label}) at position {position}; drop "
                "those particles or give them a label."
            )
        if isinstance(label, (list, tuple, np.ndarray)):
            return  # not one label per sample: the shape check says so
        kind = _label_kind(label)
        first.setdefault(kind, (label, position))
        if len(first) > 1:
            (a, (la, pa)), (b, (lb, pb)) = list(first.items())[:2]
            raise ValueError(
                f"{name} mixes {a}s and {b}s ({la!r} at position {pa}, {lb!r} at "
                f"position {pb}); give every label the same type, e.g. all strings."
            )
