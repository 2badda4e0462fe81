"""One-vs-rest metrics per class, from the multiclass confusion matrix."""

# License: BSD 3 clause

from numbers import Real

import numpy as np
from sklearn.metrics import confusion_matrix
from sklearn.utils._param_validation import Options, validate_params

__all__ = ["METRICS", "metrics_from_confusion", "per_class_metrics"]

# The per-class metrics, in the order tables show them.
METRICS = ("tpr", "tnr", "ppv", "npv", "f1")


def _ratio(numerator, denominator, zero_division):
    """Divide elementwise, with `zero_division` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, float(zero_division))
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def metrics_from_confusion(matrix, *, zero_division=0.0):
    """Compute the one-vs-rest metrics of each class from confusion matrices.

    Parameters
    ----------
    matrix : array-like of shape (..., n_classes, n_classes)
        Counts, rows true classes and columns predicted classes; leading
        axes (folds, say) are kept.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        The value of a ratio whose denominator is zero.

    Returns
    -------
    metrics : dict of str to ndarray of shape (..., n_classes)
        ``"tpr"``, ``"tnr"``, ``"ppv"``, ``"npv"``, ``"f1"`` and ``"support"``.
    """
    matrix = np.asarray(matrix, dtype=float)
    tp = np.diagonal(matrix, axis1=-2, axis2=-1)
    support = matrix.sum(axis=-1)
    predicted = matrix.sum(axis=-2)
    total = matrix.sum(axis=(-2, -1))[..., None]
    fn = support - tp
    fp = predicted - tp
    tn = total - tp - fn - fp
    return {
        "tpr": _ratio(tp, tp + fn, zero_division),
        "tnr": _ratio(tn, tn + fp, zero_division),
        "ppv": _ratio(tp, tp + fp, zero_division),
        "npv": _ratio(tn, tn + fn, zero_division),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, zero_division),
        "support": support,
    }


def _resolve_labels(y_true, y_pred, labels):
    if labels is None:
        return np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D list of classes; got {labels!r}.")
    return labels


def _class_names(labels, target_names):
    if target_names is None:
        return np.array([str(label) for label in labels])
    target_names = np.asarray(target_names, dtype=str)
    if target_names.shape != (len(labels),):
        raise ValueError(
            f"target_names must hold one name per class: {len(labels)} classes "
            f"({', '.join(map(str, labels))}); got {target_names.size} names."
        )
    return target_names


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "labels": ["array-like", None],
        "target_names": ["array-like", None],
        "zero_division": [Options(Real, {0.0, 1.0}), "nan"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def per_class_metrics(
    y_true, y_pred, *, labels=None, target_names=None, zero_division=0.0, as_frame=False
):
    """Per-class TPR, TNR, PPV, NPV, F1 and support, one class against the rest.

    Each class in turn is the positive class and all others the negative
    one; the counts come from the multiclass confusion matrix:

    - TPR (recall, sensitivity) = TP / (TP + FN)
    - TNR (specificity) = TN / (TN + FP)
    - PPV (precision) = TP / (TP + FP)
    - NPV = TN / (TN + FN)
    - F1 = 2 TP / (2 TP + FP + FN), the harmonic mean of PPV and TPR
    - support = TP + FN, the class's true samples

    Under heavy class imbalance these, not accuracy, tell whether a
    classifier finds the rare classes: always answering the majority class
    scores a high accuracy and a TPR of 0 on every other class.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like of shape (n_classes,), default=None
        The classes, in table order. None takes the sorted classes found in
        `y_true` and `y_pred`. A class missing from both gets a support of 0
        and `zero_division` for every ratio.
    target_names : array-like of str of shape (n_classes,), default=None
        Display names of the classes, in the order of `labels`; None uses the
        labels themselves.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        The value of a ratio whose denominator is zero: PPV of a class never
        predicted, TPR of a class absent from `y_true`, and so on. 0.0 is what
        scikit-learn's metrics return (without their warning); ``np.nan``
        marks such values as undefined, and averages over folds then have to
        skip them (``np.nanmean``). F1 has a zero denominator only when the
        class is neither present nor predicted: a class never predicted but
        present has F1 = 0 whatever `zero_division`.
    as_frame : bool, default=False
        Return a :class:`pandas.DataFrame` indexed by class name (needs
        pandas) instead of a dict.

    Returns
    -------
    table : dict or pandas.DataFrame
        ``"class"`` (ndarray of str, the class names), ``"tpr"``, ``"tnr"``,
        ``"ppv"``, ``"npv"``, ``"f1"`` (ndarrays of float of shape
        (n_classes,)) and ``"support"`` (ndarray of int).

    See Also
    --------
    per_class_scorers : The same metrics as scorers for ``cross_validate``.
    sklearn.metrics.classification_report : PPV, TPR and F1 as text.

    Examples
    --------
    >>> from sklipo.metrics import per_class_metrics
    >>> y_true = ["full", "full", "full", "empty", "uncertain"]
    >>> y_pred = ["full", "full", "empty", "empty", "full"]
    >>> table = per_class_metrics(y_true, y_pred, labels=["full", "uncertain", "empty"])
    >>> table["tpr"]
    array([0.66666667, 0.        , 1.        ])
    >>> table["ppv"]
    array([0.66666667, 0.        , 0.5       ])
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            "y_true and y_pred must be 1-D and of the same length; got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    labels = _resolve_labels(y_true, y_pred, labels)
    names = _class_names(labels, target_names)
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    metrics = metrics_from_confusion(matrix, zero_division=zero_division)
    table = {"class": names, **{name: metrics[name] for name in METRICS}}
    table["support"] = metrics["support"].astype(int)
    if as_frame:
        import pandas as pd

        return pd.DataFrame(table).set_index("class")
    return table
