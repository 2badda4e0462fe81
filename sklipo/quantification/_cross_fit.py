"""Cross-fitting: a classifier fitted without each fold, and its predictions of that fold."""

# License: BSD 3 clause

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import indexable

__all__ = ["cross_fit", "predicted_labels", "predicted_probabilities"]


def cross_fit(estimator, X, y, cv, *, predict, n_jobs=None):
    """Fit a clone of `estimator` without each fold of `cv`, and predict the fold.

    What ``cross_val_predict`` computes, keeping the fold models: the
    quantifiers and conformal sets that calibrate on out-of-fold predictions
    then predict new particles with the very models they measured.

    Parameters
    ----------
    estimator : estimator
        The unfitted estimator, cloned for each fold.
    X : ParticleSet, array-like or any input the estimator takes
        The samples, indexable along the first axis.
    y : ndarray of shape (n_samples,)
        Their labels.
    cv : cross-validation generator
        The folds; their test parts must hold every sample exactly once.
    predict : callable
        ``predict(model, X_fold)``, the out-of-fold predictions as an array.
    n_jobs : int, default=None
        Folds fitted in parallel.

    Returns
    -------
    models : list of estimators
        The model of each fold, fitted on the other folds.
    predictions : ndarray of shape (n_samples, ...)
        Each sample's prediction by the model that did not see it.
    folds : ndarray of int of shape (n_samples,)
        The position in `models` of that model.
    """
    X = indexable(X)[0]  # sparse matrices as CSR, other array-likes as arrays
    splits = list(cv.split(X, y))
    tested = np.concatenate([test for _, test in splits])
    if len(tested) != len(y) or not np.array_equal(np.sort(tested), np.arange(len(y))):
        raise ValueError(
            "The cross-validation folds must test every training sample exactly once "
            "(a partition, as KFold and StratifiedKFold give); got test folds covering "
            f"{len(np.unique(tested))} of {len(y)} samples in {len(tested)} places."
        )
    models = Parallel(n_jobs=n_jobs)(
        delayed(_fit_on)(clone(estimator), X, y, train) for train, _ in splits
    )
    outputs = [predict(model, _safe_indexing(X, test)) for model, (_, test) in zip(models, splits)]
    order = np.argsort(tested, kind="stable")
    folds = np.repeat(np.arange(len(splits)), [len(test) for _, test in splits])
    return models, np.concatenate(outputs)[order], folds[order]


def _fit_on(estimator, X, y, train):
    return estimator.fit(_safe_indexing(X, train), y[train])


def predicted_probabilities(model, X):
    """`model`'s class probabilities of `X`, as floats (a `predict` of :func:`cross_fit`)."""
    return np.asarray(model.predict_proba(X), dtype=float)


def predicted_labels(model, X):
    """`model`'s labels of `X`, as an array (a `predict` of :func:`cross_fit`)."""
    return np.asarray(model.predict(X))
