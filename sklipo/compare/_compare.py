"""Cross-validate several models on the same folds."""

# License: BSD 3 clause

import time
import traceback
import warnings
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing

from sklipo.compare._result import ComparisonResult
from sklipo.metrics._per_class import _class_names

__all__ = ["compare"]


def _fit_and_evaluate(model, X, y, train, test, labels):
    """Fit on `train`, predict `test`; return the fold's numbers or its error."""
    try:
        start = time.perf_counter()
        model.fit(_safe_indexing(X, train), y[train])
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        y_pred = model.predict(_safe_indexing(X, test))
        predict_time = time.perf_counter() - start
        matrix = confusion_matrix(y[test], y_pred, labels=labels)
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    return {"matrix": matrix, "fit_time": fit_time, "predict_time": predict_time}


def _check_models(models):
    if not isinstance(models, dict) or not models:
        raise TypeError(
            "models must be a non-empty dict mapping a name to an estimator, e.g. "
            f"{{'svm': make_svm_baseline()}}; got {type(models).__name__}."
        )
    for name, model in models.items():
        if not isinstance(name, str):
            raise TypeError(f"Model names must be strings; got {name!r}.")
        if not (hasattr(model, "fit") and hasattr(model, "predict")):
            raise TypeError(
                f"Model {name!r} must be an estimator with fit and predict; got "
                f"{type(model).__name__}."
            )


def compare(
    models,
    X,
    y,
    *,
    cv=5,
    labels=None,
    target_names=None,
    zero_division=0.0,
    n_jobs=None,
    verbose=0,
    random_state=0,
):
    """Cross-validate several classifiers on the same folds and collect per-class results.

    Every model is fitted on the same training folds and tested on the same
    test folds, so their scores differ by the model only. For each model and
    fold it keeps the confusion matrix (from which all per-class metrics
    follow, see :func:`~sklipo.metrics.per_class_metrics`) and the fit and
    predict times. A model that raises on a fold is recorded with its error,
    that fold of that model is left out of the means, and everything else
    carries on; interrupting the run (Ctrl-C) returns the folds finished so
    far, with a warning.

    Parameters
    ----------
    models : dict of str to estimator
        The classifiers, by name (the name labels tables and plots). Each is
        cloned for every fold; the given objects are not fitted.
    X : ParticleSet or array-like of shape (n_samples, ...)
        The samples, as the models take them.
    y : array-like of shape (n_samples,)
        The labels.
    cv : int, cross-validation generator or iterable, default=5
        The folds. An int gives
        ``StratifiedKFold(cv, shuffle=True, random_state=random_state)``;
        otherwise as the ``cv`` of
        :func:`~sklearn.model_selection.cross_validate`. The splits are drawn
        once and shared by all models.
    labels : array-like of shape (n_classes,), default=None
        The classes, in table order; None sorts the classes of `y`.
    target_names : array-like of str of shape (n_classes,), default=None
        Display names of the classes in the order of `labels`, e.g. the
        ``target_names`` of :func:`~sklipo.datasets.make_liposomes`; None
        uses the labels.
    zero_division : {0.0, 1.0, np.nan}, default=0.0
        The value of a metric whose denominator is zero, see
        :func:`~sklipo.metrics.per_class_metrics`.
    n_jobs : int, default=None
        Number of (model, fold) fits run in parallel; None means 1. Networks
        use several threads each: on a small machine keep it at 1.
    verbose : int, default=0
        Print one line per finished fold when positive.
    random_state : int, RandomState instance or None, default=0
        Shuffles the folds when `cv` is an int.

    Returns
    -------
    result : ComparisonResult
        The per-fold confusion matrices, times and errors, with tables,
        plots, a paired test and a report writer.

    See Also
    --------
    sklipo.metrics.per_class_scorers : The same metrics as scorers for
        ``cross_validate`` and ``GridSearchCV``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklipo.compare import compare
    >>> X, y = load_iris(return_X_y=True)
    >>> result = compare(
    ...     {"logistic": LogisticRegression(max_iter=500), "dummy": DummyClassifier()},
    ...     X, y, cv=3)
    >>> result.mean_scores("f1").round(2)
    array([[1.  , 0.94, 0.94],
           [0.16, 0.16, 0.16]])
    >>> print(result.paired_test("logistic", "dummy").wins)
    3
    """
    _check_models(models)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}.")
    if len(y) != len(X):
        raise ValueError(f"X holds {len(X)} samples but y {len(y)} labels.")
    labels = np.unique(y) if labels is None else np.asarray(labels)
    names = _class_names(labels, target_names)
    if isinstance(cv, Integral):
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    splits = list(check_cv(cv, y, classifier=True).split(np.zeros(len(y)), y))
    tasks = [(name, k) for name in models for k in range(len(splits))]
    outcomes = {}
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = parallel(
        delayed(_fit_and_evaluate)(clone(models[name]), X, y, *splits[k], labels)
        for name, k in tasks
    )
    try:
        for (name, k), outcome in zip(tasks, results):
            outcomes[name, k] = outcome
            if verbose > 0:
                _report_fold(name, k, len(splits), outcome)
    except KeyboardInterrupt:
        warnings.warn(
            f"Interrupted: returning the {len(outcomes)} of {len(tasks)} fits that finished.",
            UserWarning,
        )
        for task in tasks[len(outcomes) :]:
            outcomes[task] = {"error": "not run (interrupted)", "traceback": ""}
    return ComparisonResult.from_outcomes(
        outcomes,
        model_names=list(models),
        labels=labels,
        class_names=names,
        folds=splits,
        zero_division=zero_division,
    )


def _report_fold(name, k, n_folds, outcome):
    if "error" in outcome:
        print(f"[compare] {name} fold {k + 1}/{n_folds}: FAILED, {outcome['error']}")
        return
    matrix = outcome["matrix"]
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.diagonal(matrix) / matrix.sum(axis=1)
    print(
        f"[compare] {name} fold {k + 1}/{n_folds}: balanced accuracy "
        f"{np.nanmean(recall):.3f}, fit {outcome['fit_time']:.1f} s"
    )
