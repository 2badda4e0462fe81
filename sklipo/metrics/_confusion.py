"""Confusion matrices per cross-validation fold, and their average."""

# License: BSD 3 clause

import warnings

import numpy as np
from sklearn.metrics import confusion_matrix
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = ["fold_confusion_matrices", "mean_confusion_matrix"]


def _test_indices(folds):
    """The test indices of each fold, from index arrays or a cross_validate result."""
    if isinstance(folds, dict):
        try:
            return list(folds["indices"]["test"])
        except KeyError:
            raise ValueError(
                "A cross_validate result must hold the fold indices: call "
                "cross_validate(..., return_indices=True)."
            ) from None
    return list(folds)


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like", list],
        "folds": [dict, list, tuple],
        "labels": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def fold_confusion_matrices(y_true, y_pred, folds, *, labels=None):
    """Compute the confusion matrix of each cross-validation fold, without refitting.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels of all samples.
    y_pred : array-like of shape (n_samples,) or list of array-like
        Predictions: either one per sample, as
        :func:`~sklearn.model_selection.cross_val_predict` returns them, or a
        list holding each fold's predictions of its test samples, in the
        order of `folds` (e.g. ``[est.predict(X[test]) for est, test in
        zip(res["estimator"], res["indices"]["test"])]``).
    folds : dict or list of array-like
        The test indices of each fold: a list of index arrays (``[test for _,
        test in cv.split(X, y)]``) or the dict returned by
        :func:`~sklearn.model_selection.cross_validate` called with
        ``return_indices=True``.
    labels : array-like of shape (n_classes,), default=None
        The classes, in matrix order; None takes the sorted classes of
        `y_true` and the predictions.

    Returns
    -------
    matrices : ndarray of shape (n_folds, n_classes, n_classes), dtype=int
        Counts per fold, rows true classes and columns predicted classes.

    See Also
    --------
    mean_confusion_matrix : Average the matrices, raw or row-normalised.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.metrics import fold_confusion_matrices
    >>> y_true = np.array([0, 0, 1, 1])
    >>> y_pred = np.array([0, 1, 1, 1])
    >>> fold_confusion_matrices(y_true, y_pred, [[0, 2], [1, 3]])
    array([[[1, 0],
            [0, 1]],
    <BLANKLINE>
           [[0, 1],
            [0, 1]]])
    """
    y_true = np.asarray(y_true)
    tests = [np.asarray(test) for test in _test_indices(folds)]
    if not tests:
        raise ValueError("folds holds no fold.")
    if isinstance(y_pred, list):
        if len(y_pred) != len(tests):
            raise ValueError(
                f"y_pred holds predictions of {len(y_pred)} folds, folds lists {len(tests)}."
            )
        per_fold = [np.asarray(pred) for pred in y_pred]
        for k, (pred, test) in enumerate(zip(per_fold, tests)):
            if pred.shape != test.shape:
                raise ValueError(
                    f"Fold {k} has {test.size} test samples but {pred.size} predictions."
                )
    else:
        y_pred = np.asarray(y_pred)
        if y_pred.shape != y_true.shape:
            raise ValueError(
                "y_pred must be a list of per-fold predictions or hold one prediction "
                f"per sample ({y_true.shape[0]}); got shape {y_pred.shape}."
            )
        per_fold = [y_pred[test] for test in tests]
    if labels is None:
        labels = np.unique(np.concatenate([y_true, *per_fold]))
    return np.stack(
        [
            confusion_matrix(y_true[test], pred, labels=labels)
            for test, pred in zip(tests, per_fold)
        ]
    )


@validate_params(
    {"matrices": ["array-like"], "normalize": [StrOptions({"true", "pred", "all"}), None]},
    prefer_skip_nested_validation=True,
)
def mean_confusion_matrix(matrices, *, normalize=None):
    """Average per-fold confusion matrices, raw or normalised.

    Parameters
    ----------
    matrices : array-like of shape (n_folds, n_classes, n_classes)
        Counts per fold, as :func:`fold_confusion_matrices` returns them.
        Folds that failed may be all NaN; they are left out.
    normalize : {"true", "pred", "all"}, default=None
        None averages the raw counts: the mean number of test samples per fold
        in each cell. ``"true"`` first divides each fold's rows by their sums
        (each row: how the fold's samples of one true class were predicted,
        the diagonal being the TPR), ``"pred"`` its columns, ``"all"`` the
        whole matrix, then averages; a row (column) of a class absent from a
        fold's test set is left out of the mean of that row (column).

    Returns
    -------
    mean : ndarray of shape (n_classes, n_classes)
        The mean over folds.
    std : ndarray of shape (n_classes, n_classes)
        The standard deviation over folds (population, ``ddof=0``).

    Examples
    --------
    >>> from sklipo.metrics import mean_confusion_matrix
    >>> mean, std = mean_confusion_matrix([[[3, 1], [0, 2]], [[4, 0], [1, 1]]], normalize="true")
    >>> mean
    array([[0.875, 0.125],
           [0.25 , 0.75 ]])
    """
    matrices = np.asarray(matrices, dtype=float)
    if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2]:
        raise ValueError(
            "matrices must have shape (n_folds, n_classes, n_classes); got "
            f"{matrices.shape}."
        )
    matrices = matrices[~np.isnan(matrices).all(axis=(1, 2))]
    if not len(matrices):
        raise ValueError("Every fold's matrix is NaN: there is nothing to average.")
    if normalize == "true":
        totals = matrices.sum(axis=2, keepdims=True)
    elif normalize == "pred":
        totals = matrices.sum(axis=1, keepdims=True)
    elif normalize == "all":
        totals = matrices.sum(axis=(1, 2), keepdims=True)
    else:
        totals = np.ones_like(matrices)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(totals > 0, matrices / totals, np.nan)
    with warnings.catch_warnings():
        # A class absent from every fold gives an all-NaN cell: NaN, quietly.
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0), np.nanstd(values, axis=0)
