"""Checking particle boxes given as (top, left, bottom, right) rows."""

# License: BSD 3 clause

import numpy as np

__all__ = ["box_intersections", "check_boxes"]


def check_boxes(boxes, name):
    """Validate one micrograph's boxes as a float array of shape (k, 4).

    Parameters
    ----------
    boxes : array-like of shape (k, 4)
        Rows (top, left, bottom, right) in pixels; empty for no boxes.
    name : str
        How error messages name the boxes, e.g. ``"boxes[3]"``.

    Returns
    -------
    boxes : ndarray of float of shape (k, 4)

    Examples
    --------
    >>> from sklipo.utils import check_boxes
    >>> check_boxes([[0, 0, 4, 5]], "boxes").shape
    (1, 4)
    """
    boxes = np.asarray(boxes, dtype=float)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"{name} must be an array of shape (k, 4) with rows (top, left, bottom, right); "
            f"got shape {boxes.shape}."
        )
    if not np.isfinite(boxes).all():
        raise ValueError(f"{name} holds NaN or infinite values.")
    bad = np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))
    if bad.size:
        raise ValueError(
            f"{name}[{bad[0]}] = {boxes[bad[0]].tolist()} has bottom < top or right < left; "
            "rows are (top, left, bottom, right)."
        )
    return boxes


def box_intersections(a, b):
    """The overlap area of every pair of boxes, and each box's area.

    Parameters
    ----------
    a, b : ndarray of shape (k, 4) and (m, 4)
        Rows (top, left, bottom, right), as :func:`check_boxes` returns them.

    Returns
    -------
    intersections : ndarray of shape (k, m)
        The area shared by ``a[i]`` and ``b[j]``; 0 where they do not meet.
    area_a, area_b : ndarray of shape (k,) and (m,)
        The areas of the boxes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.utils import box_intersections
    >>> box_intersections(np.array([[0., 0, 4, 4]]), np.array([[2., 2, 6, 6]]))[0]
    array([[4.]])
    """
    top = np.maximum(a[:, None, 0], b[None, :, 0])
    left = np.maximum(a[:, None, 1], b[None, :, 1])
    bottom = np.minimum(a[:, None, 2], b[None, :, 2])
    right = np.minimum(a[:, None, 3], b[None, :, 3])
    intersections = np.clip(bottom - top, 0, None) * np.clip(right - left, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return intersections, area_a, area_b
