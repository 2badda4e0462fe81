"""Detection metrics: box IoU, box matching, precision, recall and F1 of found boxes."""

# License: BSD 3 clause

from numbers import Real

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.utils import box_intersections, check_boxes

__all__ = ["box_iou", "detection_f1_score", "detection_scores", "match_boxes"]


def _is_single(boxes):
    """Whether `boxes` is one micrograph's (k, 4) boxes rather than a list of them."""
    if isinstance(boxes, np.ndarray) and boxes.dtype != object:
        return boxes.ndim <= 2
    if len(boxes) == 0:
        return True
    # A row of 4 numbers starts one micrograph's boxes; an array of rows (or
    # an empty one) starts a list of micrographs.
    return np.ndim(boxes[0]) == 1 and np.size(boxes[0]) == 4


def _per_micrograph(true_boxes, pred_boxes, pred_scores):
    """Pair up the boxes of each micrograph; one micrograph may be given bare."""
    if _is_single(true_boxes) and _is_single(pred_boxes):
        true_boxes, pred_boxes = [true_boxes], [pred_boxes]
        pred_scores = None if pred_scores is None else [pred_scores]
    if len(true_boxes) != len(pred_boxes):
        raise ValueError(
            f"Got true boxes for {len(true_boxes)} micrographs but predicted boxes for "
            f"{len(pred_boxes)}; give one (k, 4) array per micrograph in both."
        )
    if pred_scores is not None and len(pred_scores) != len(pred_boxes):
        raise ValueError(
            f"Got pred_scores for {len(pred_scores)} micrographs but predicted boxes for "
            f"{len(pred_boxes)}."
        )
    pairs = []
    for m, (truth, found) in enumerate(zip(true_boxes, pred_boxes)):
        truth = check_boxes(truth, f"true_boxes[{m}]")
        found = check_boxes(found, f"pred_boxes[{m}]")
        scores = None
        if pred_scores is not None:
            scores = np.asarray(pred_scores[m], dtype=float).reshape(-1)
            if len(scores) != len(found):
                raise ValueError(
                    f"pred_scores[{m}] has {len(scores)} values for {len(found)} boxes."
                )
        pairs.append((truth, found, scores))
    return pairs


def box_iou(boxes_a, boxes_b):
    """Intersection over union of every pair of boxes.

    Parameters
    ----------
    boxes_a : array-like of shape (n, 4)
        Boxes as rows ``top, left, bottom, right`` in pixels, the bottom and
        right edges exclusive (the convention of
        :func:`~sklipo.datasets.load_annotated_micrographs`).
    boxes_b : array-like of shape (m, 4)
        Boxes in the same convention.

    Returns
    -------
    iou : ndarray of shape (n, m)
        ``iou[i, j]`` is the area of the intersection of ``boxes_a[i]`` and
        ``boxes_b[j]`` over the area of their union; 0 for disjoint boxes
        and for two empty boxes.

    Examples
    --------
    >>> from sklipo.metrics import box_iou
    >>> box_iou([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    array([[1.        , 0.33333333, 0.        ]])
    """
    a = check_boxes(boxes_a, "boxes_a")
    b = check_boxes(boxes_b, "boxes_b")
    inter, area_a, area_b = box_intersections(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _match(truth, found, scores, iou_threshold, matching):
    """Indices of matched (true, predicted) pairs and their IoU for one micrograph."""
    empty = np.zeros(0, dtype=int)
    if len(truth) == 0 or len(found) == 0:
        return empty, empty, np.zeros(0)
    iou = box_iou(truth, found)
    valid = iou >= iou_threshold
    if matching == "hungarian":
        # Most matches first, then the largest total IoU among them.
        rows, cols = linear_sum_assignment(np.where(valid, 1.0 + iou, 0.0), maximize=True)
        keep = valid[rows, cols]
        rows, cols = rows[keep], cols[keep]
    else:
        # Greedy, as COCO and PASCAL VOC match: the most confident prediction
        # (or, without scores, the pair of highest IoU) takes its best box.
        if scores is None:
            order = np.argsort(-iou, axis=None, kind="stable")
            pairs = np.column_stack(np.unravel_index(order, iou.shape))
            pairs = pairs[valid[pairs[:, 0], pairs[:, 1]]]
            rows, cols, used_t, used_p = [], [], set(), set()
            for t, p in pairs:
                if t not in used_t and p not in used_p:
                    used_t.add(t)
                    used_p.add(p)
                    rows.append(t)
                    cols.append(p)
        else:
            rows, cols, free = [], [], np.ones(len(truth), dtype=bool)
            for p in np.argsort(-scores, kind="stable"):
                candidates = np.where(valid[:, p] & free, iou[:, p], -1.0)
                t = int(np.argmax(candidates))
                if candidates[t] >= 0:
                    free[t] = False
                    rows.append(t)
                    cols.append(p)
        rows, cols = np.asarray(rows, dtype=int), np.asarray(cols, dtype=int)
    return rows, cols, iou[rows, cols]


@validate_params(
    {
        "true_boxes": ["array-like"],
        "pred_boxes": ["array-like"],
        "iou_threshold": [Interval(Real, 0, 1, closed="right")],
        "matching": [StrOptions({"hungarian", "greedy"})],
        "pred_scores": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def match_boxes(true_boxes, pred_boxes, *, iou_threshold=0.5, matching="hungarian",
                pred_scores=None):
    """Match predicted boxes to true boxes of one micrograph, one to one.

    A predicted box matches at most one true box and the reverse; a pair
    counts only when its IoU is at least `iou_threshold`.

    Parameters
    ----------
    true_boxes : array-like of shape (n, 4)
        The labelled boxes, rows ``top, left, bottom, right`` in pixels.
    pred_boxes : array-like of shape (m, 4)
        The found boxes, same convention.
    iou_threshold : float, default=0.5
        Smallest intersection over union of a matched pair, in (0, 1].
    matching : {"hungarian", "greedy"}, default="hungarian"
        "hungarian" finds the largest number of matches (then the largest
        total IoU) with :func:`scipy.optimize.linear_sum_assignment`.
        "greedy" matches as COCO and PASCAL VOC evaluate detectors: the most
        confident prediction first (by `pred_scores`; without scores, the
        pair of highest IoU first), each taking its best free true box.
    pred_scores : array-like of shape (m,), default=None
        Confidence of each predicted box, for greedy matching.

    Returns
    -------
    true_index : ndarray of int, shape (n_matched,)
        The matched true boxes.
    pred_index : ndarray of int, shape (n_matched,)
        The predicted box matched to each.
    iou : ndarray of float, shape (n_matched,)
        The IoU of each matched pair.

    See Also
    --------
    detection_scores : Precision, recall and F1 from the matches.

    Examples
    --------
    >>> from sklipo.metrics import match_boxes
    >>> true_index, pred_index, iou = match_boxes(
    ...     [[0, 0, 10, 10], [0, 20, 10, 30]], [[1, 21, 11, 31], [40, 40, 50, 50]])
    >>> true_index.tolist(), pred_index.tolist(), iou.round(2).tolist()
    ([1], [0], [0.68])
    """
    ((truth, found, scores),) = _per_micrograph(
        np.asarray(true_boxes, dtype=float), np.asarray(pred_boxes, dtype=float),
        None if pred_scores is None else np.asarray(pred_scores, dtype=float),
    )
    return _match(truth, found, scores, iou_threshold, matching)


@validate_params(
    {
        "true_boxes": ["array-like"],
        "pred_boxes": ["array-like"],
        "iou_threshold": [Interval(Real, 0, 1, closed="right")],
        "matching": [StrOptions({"hungarian", "greedy"})],
        "pred_scores": ["array-like", None],
        "zero_division": [Interval(Real, 0, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def detection_scores(true_boxes, pred_boxes, *, iou_threshold=0.5, matching="hungarian",
                     pred_scores=None, zero_division=0.0):
    """Precision, recall and F1 of found boxes against labelled boxes.

    A found box is a true positive when it matches a labelled box of the same
    micrograph with an intersection over union of at least `iou_threshold`
    (each box matching at most one, see :func:`match_boxes`). The counts are
    summed over the micrographs before the ratios are taken, so every
    particle weighs the same whichever micrograph holds it::

        precision = TP / (TP + FP)    recall = TP / (TP + FN)
        F1 = 2 TP / (2 TP + FP + FN)

    Parameters
    ----------
    true_boxes : array-like of shape (n, 4), or list of them
        The labelled boxes of one micrograph, rows ``top, left, bottom,
        right`` in pixels (bottom and right exclusive), or a list with one
        such array per micrograph.
    pred_boxes : array-like of shape (m, 4), or list of them
        The found boxes, in the same layout as `true_boxes`.
    iou_threshold : float, default=0.5
        Smallest IoU of a match, in (0, 1]. 0.5 is the PASCAL VOC criterion.
    matching : {"hungarian", "greedy"}, default="hungarian"
        How boxes are matched; see :func:`match_boxes`.
    pred_scores : array-like of shape (m,), or list of them, default=None
        The confidence of each found box, for greedy matching.
    zero_division : float, default=0.0
        The value of a ratio whose denominator is 0: precision without any
        found box, recall without any labelled box, F1 without either.

    Returns
    -------
    scores : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes ``precision``,
        ``recall``, ``f1`` (floats), ``n_true``, ``n_pred``,
        ``true_positives`` (ints) and ``mean_iou``, the mean IoU of the
        matched pairs (NaN when there are none).

    Raises
    ------
    ValueError
        If the two lists differ in length, or a box array is not ``(k, 4)``
        or has bottom < top or right < left (the message names it).

    See Also
    --------
    detection_f1_score : The F1 alone.
    match_boxes : Which boxes match.
    sklipo.detection.find_particles : Find boxes to score.

    Examples
    --------
    >>> from sklipo.metrics import detection_scores
    >>> truth = [[[0, 0, 10, 10], [0, 20, 10, 30]], [[5, 5, 15, 15]]]
    >>> found = [[[0, 1, 10, 11]], [[5, 5, 15, 15], [40, 40, 50, 50]]]
    >>> scores = detection_scores(truth, found)
    >>> round(scores.precision, 3), round(scores.recall, 3), round(scores.f1, 3)
    (0.667, 0.667, 0.667)
    >>> scores.true_positives, scores.n_true, scores.n_pred
    (2, 3, 3)
    """
    pairs = _per_micrograph(true_boxes, pred_boxes, pred_scores)
    n_true = n_pred = tp = 0
    ious = []
    for truth, found, scores in pairs:
        _, _, iou = _match(truth, found, scores, iou_threshold, matching)
        n_true += len(truth)
        n_pred += len(found)
        tp += len(iou)
        ious.append(iou)
    ious = np.concatenate(ious) if ious else np.zeros(0)
    return Bunch(
        precision=tp / n_pred if n_pred else float(zero_division),
        recall=tp / n_true if n_true else float(zero_division),
        f1=2 * tp / (n_true + n_pred) if n_true + n_pred else float(zero_division),
        n_true=n_true,
        n_pred=n_pred,
        true_positives=tp,
        mean_iou=float(ious.mean()) if len(ious) else float("nan"),
    )


def detection_f1_score(true_boxes, pred_boxes, *, iou_threshold=0.5, matching="hungarian",
                       pred_scores=None, zero_division=0.0):
    """F1 of found boxes against labelled boxes at an IoU threshold.

    ``detection_scores(...).f1``: the harmonic mean of detection precision
    and recall, with counts summed over micrographs. See
    :func:`detection_scores` for the parameters.

    Parameters
    ----------
    true_boxes : array-like of shape (n, 4), or list of them
        The labelled boxes of one micrograph, or one array per micrograph.
    pred_boxes : array-like of shape (m, 4), or list of them
        The found boxes, in the same layout.
    iou_threshold : float, default=0.5
        Smallest IoU of a match.
    matching : {"hungarian", "greedy"}, default="hungarian"
        How boxes are matched; see :func:`match_boxes`.
    pred_scores : array-like of shape (m,), or list of them, default=None
        The confidence of each found box, for greedy matching.
    zero_division : float, default=0.0
        The F1 when there are neither labelled nor found boxes.

    Returns
    -------
    f1 : float
        ``2 TP / (2 TP + FP + FN)``.

    Examples
    --------
    >>> from sklipo.metrics import detection_f1_score
    >>> detection_f1_score([[0, 0, 10, 10]], [[0, 0, 10, 12], [30, 30, 40, 40]])
    0.6666666666666666
    """
    return detection_scores(
        true_boxes, pred_boxes, iou_threshold=iou_threshold, matching=matching,
        pred_scores=pred_scores, zero_division=zero_division,
    ).f1
