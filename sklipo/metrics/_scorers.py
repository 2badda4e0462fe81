"""Scorers of the per-class metrics for cross_validate and GridSearchCV."""

# License: BSD 3 clause

from numbers import Real

import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, make_scorer
from sklearn.utils._param_validation import Options, validate_params

from sklipo.metrics._per_class import METRICS, check_target_names, metrics_from_confusion

__all__ = ["per_class_scorers"]


def _class_score(y_true, y_pred, *, metric, index, labels, zero_division):
    """One metric of one class (the class at `index` of `labels`)."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    return float(metrics_from_confusion(matrix, zero_division=zero_division)[metric][index])


def _f1_macro(y_true, y_pred, *, labels, zero_division):
    """F1 averaged over the classes of `labels`, each counting the same."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels)
    return float(np.mean(metrics_from_confusion(matrix, zero_division=zero_division)["f1"]))


@validate_params(
    {
        "labels": ["array-like", None],
        "target_names": ["array-like", None],
        "metrics": [list, tuple],
        "zero_division": [Options(Real, {0.0, 1.0}), "nan"],
    },
    prefer_skip_nested_validation=True,
)
def per_class_scorers(labels=None, target_names=None, *, metrics=METRICS, zero_division=0.0):
    """Scorers of each per-class metric, for ``cross_validate`` and ``GridSearchCV``.

    Gives one scorer per metric and class, named ``"<metric>_<class name>"``
    (``"f1_uncertain"``, ``"tpr_empty"``), and two summaries over the
    classes: ``"f1_macro"`` (mean F1, each class counting the same) and
    ``"balanced_accuracy"`` (mean TPR over the classes present in the fold,
    :func:`~sklearn.metrics.balanced_accuracy_score`). Pass the dict as ``scoring`` to
    :func:`~sklearn.model_selection.cross_validate`, or to
    :class:`~sklearn.model_selection.GridSearchCV` with ``refit`` naming the
    scorer to select by, e.g. ``refit="f1_uncertain"`` to tune for a rare
    class. scikit-learn computes each model's predictions once and shares
    them between the scorers.

    Parameters
    ----------
    labels : array-like of shape (n_classes,), default=None
        The classes as they appear in ``y``. None means ``0, 1, ...,
        n_classes - 1``, the integer targets of
        :func:`~sklipo.datasets.make_liposomes` and
        :func:`~sklipo.datasets.load_particles`, and then `target_names` is
        required.
    target_names : array-like of str of shape (n_classes,), default=None
        Names of the classes in the scorer names, in the order of `labels`;
        None uses ``str(label)``. Characters other than letters, digits and
        ``_`` become ``_``.
    metrics : list of str, default=("tpr", "tnr", "ppv", "npv", "f1")
        The per-class metrics to score; see :func:`per_class_metrics`.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        The score when a metric's denominator is zero (a class never predicted
        in a fold has PPV = `zero_division`). NaN scores rank last in
        ``GridSearchCV``.

    Returns
    -------
    scorers : dict of str to callable
        Scorers ``scorer(estimator, X, y)``, greater is better.

    See Also
    --------
    per_class_metrics : The same metrics as a table.

    Examples
    --------
    >>> from sklipo.metrics import per_class_scorers
    >>> scoring = per_class_scorers(target_names=["unilamellar", "multilamellar", "uncertain"])
    >>> sorted(scoring)[:4]
    ['balanced_accuracy', 'f1_macro', 'f1_multilamellar', 'f1_uncertain']
    """
    if labels is None:
        if target_names is None:
            raise ValueError(
                "per_class_scorers needs the classes: pass labels (the values in y), "
                "target_names (for targets 0, 1, ..., n_classes - 1), or both."
            )
        labels = np.arange(len(target_names))
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size < 2:
        raise ValueError(f"labels must list at least 2 classes; got {labels.tolist()!r}.")
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(
            f"Unknown metric(s) {unknown}; choose from {', '.join(METRICS)}."
        )
    names = [_safe_name(name) for name in check_target_names(labels, target_names)]
    if len(set(names)) < len(names):
        raise ValueError(f"The class names must differ; got {names}.")
    common = {"labels": labels, "zero_division": zero_division}
    scorers = {}
    for metric in metrics:
        for index, name in enumerate(names):
            scorers[f"{metric}_{name}"] = make_scorer(
                _class_score, metric=metric, index=index, **common
            )
    scorers["f1_macro"] = make_scorer(_f1_macro, **common)
    scorers["balanced_accuracy"] = make_scorer(balanced_accuracy_score)
    return scorers


def _safe_name(name):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
