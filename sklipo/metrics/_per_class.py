"""One-vs-rest metrics per class, from the multiclass confusion matrix."""

# License: BSD 3 clause

from numbers import Real

import numpy as np
from sklearn.metrics import multilabel_confusion_matrix
from sklearn.utils._param_validation import Options, validate_params

from sklipo.utils import check_label_types

__all__ = ["METRICS", "check_target_names", "metrics_from_confusion", "per_class_metrics"]

# The per-class metrics, in the order tables show them.
METRICS = ("tpr", "tnr", "ppv", "npv", "f1")


def _ratio(numerator, denominator, zero_division):
    """Divide elementwise, with `zero_division` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    out = np.full(np.broadcast(numerator, denominator).shape, float(zero_division))
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _ratios(tn, fp, fn, tp, zero_division):
    """The one-vs-rest metrics from the counts of each class."""
    return {
        "tpr": _ratio(tp, tp + fn, zero_division),
        "tnr": _ratio(tn, tn + fp, zero_division),
        "ppv": _ratio(tp, tp + fp, zero_division),
        "npv": _ratio(tn, tn + fn, zero_division),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, zero_division),
        "support": np.asarray(tp + fn, dtype=float),
    }


def metrics_from_confusion(matrix, *, zero_division=0.0):
    """Compute the one-vs-rest metrics of each class from confusion matrices.

    The counts follow as in :func:`~sklearn.metrics.multilabel_confusion_matrix`:
    TP on the diagonal, FN the rest of the class's row, FP the rest of its
    column, TN all other samples.

    Parameters
    ----------
    matrix : array-like of shape (..., n_classes, n_classes)
        Counts, rows true classes and columns predicted classes; leading
        axes (folds, say) are kept, and NaN matrices give NaN metrics.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        The value of a ratio whose denominator is zero.

    Returns
    -------
    metrics : dict of str to ndarray of shape (..., n_classes)
        ``"tpr"``, ``"tnr"``, ``"ppv"``, ``"npv"``, ``"f1"`` and ``"support"``.

    See Also
    --------
    per_class_metrics : The same metrics from labels and predictions.

    Examples
    --------
    >>> from sklipo.metrics import metrics_from_confusion
    >>> metrics = metrics_from_confusion([[3, 1], [0, 2]])
    >>> metrics["tpr"], metrics["ppv"]
    (array([0.75, 1.  ]), array([1.        , 0.66666667]))
    """
    matrix = np.asarray(matrix, dtype=float)
    tp = np.diagonal(matrix, axis1=-2, axis2=-1)
    fn = matrix.sum(axis=-1) - tp
    fp = matrix.sum(axis=-2) - tp
    tn = matrix.sum(axis=(-2, -1))[..., None] - tp - fn - fp
    return _ratios(tn, fp, fn, tp, zero_division)


def _resolve_labels(y_true, y_pred, labels):
    if labels is None:
        return np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D list of classes; got {labels!r}.")
    return labels


def check_target_names(labels, target_names=None):
    """Check the display names of the classes, one per label.

    Parameters
    ----------
    labels : array-like of shape (n_classes,)
        The classes as they appear in ``y``.
    target_names : array-like of str of shape (n_classes,), default=None
        Their display names, in the order of `labels`; None uses
        ``str(label)``.

    Returns
    -------
    names : ndarray of str of shape (n_classes,)
        The display names.

    Examples
    --------
    >>> from sklipo.metrics import check_target_names
    >>> check_target_names([0, 1])
    array(['0', '1'], dtype='<U1')
    """
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
    one; the counts are those of
    :func:`~sklearn.metrics.multilabel_confusion_matrix`:

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
        and `zero_division` for every ratio; samples of classes not listed
        count as negatives of every listed class, as in scikit-learn.
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
    metrics_from_confusion : The same metrics from confusion matrices.
    imblearn.metrics.sensitivity_specificity_support : TPR and TNR, with
        0 for undefined values.
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
    check_label_types(y_true, "y_true")
    check_label_types(y_pred, "y_pred")
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            "y_true and y_pred must be 1-D and of the same length; got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    labels = _resolve_labels(y_true, y_pred, labels)
    names = check_target_names(labels, target_names)
    counts = multilabel_confusion_matrix(y_true, y_pred, labels=labels).reshape(-1, 4)
    metrics = _ratios(*counts.T, zero_division)
    table = {"class": names, **{name: metrics[name] for name in METRICS}}
    table["support"] = metrics["support"].astype(int)
    if as_frame:
        import pandas as pd

        return pd.DataFrame(table).set_index("class")
    return table
