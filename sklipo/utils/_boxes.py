"""Checking particle boxes given as (top, left, bottom, right) rows."""

# License: BSD 3 clause

import numpy as np

__all__ = ["check_boxes"]


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
