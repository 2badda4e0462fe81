"""Cross-validate several models on the same folds."""

# License: BSD 3 clause

import time
import traceback
import warnings
from functools import partial
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold, check_cv, cross_validate

from sklipo._progress import Progress
from sklipo._threads import WithThreads, parallel_jobs, worker_threads
from sklipo.compare._population import (
    POPULATION_SCORES,
    calibration_error,
    shifted_share_errors,
)
from sklipo.compare._provenance import collect_provenance
from sklipo.compare._result import ComparisonResult, _balanced_accuracy
from sklipo.metrics import check_target_names
from sklipo.utils import check_label_types

__all__ = ["compare"]


def _fold_counts(estimator, X, y, *, labels):
    """Scorer for cross_validate: the test fold's confusion counts, predict time and
    population numbers (calibration error, class-share errors under prior shift)."""
    start = time.perf_counter()
    y_pred = estimator.predict(X)
    scores = {"predict_time": time.perf_counter() - start}
    matrix = confusion_matrix(y, y_pred, labels=labels)
    scores.update((f"count_{i}", count) for i, count in enumerate(matrix.ravel()))
    scores["ece"] = calibration_error(estimator, X, y, labels)
    scores["cc_error"], scores["acc_error"] = shifted_share_errors(y, y_pred, labels)
    return scores


def _run_fold(model, X, y, split, labels):
    """Cross-validate `model` on one fold; return the fold's numbers or its error.

    The warnings raised during the fit are returned too, as (category,
    message) pairs, for the caller to raise again: a joblib worker would print
    them in its own format, beside the progress lines, not through the
    caller's filters.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = _fold_outcome(model, X, y, split, labels)
    outcome["warnings"] = [(w.category, str(w.message)) for w in caught]
    return outcome


def _fold_outcome(model, X, y, split, labels):
    # One call per (model, fold) with error_score="raise": each failure keeps its
    # own fold, error and traceback (error_score=np.nan only sums failures up in
    # one warning), Ctrl-C keeps the folds that finished, and one joblib pool
    # spreads models x folds.
    try:
        scores = cross_validate(
            model,
            X,
            y,
            cv=[split],
            scoring=partial(_fold_counts, labels=labels),
            error_score="raise",
        )
    except Exception as exc:  # noqa: BLE001 - a failure is recorded and warned about
        return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    counts = [scores[f"test_count_{i}"][0] for i in range(len(labels) ** 2)]
    return {
        "matrix": np.reshape(counts, (len(labels), len(labels))),
        "fit_time": scores["fit_time"][0],
        "predict_time": scores["test_predict_time"][0],
        **{name: scores[f"test_{name}"][0] for name in POPULATION_SCORES},
    }


def _check_models(models):
    if not isinstance(models, dict) or not models:
        raise TypeError(
            "models must be a non-empty dict mapping a name to an estimator, e.g. "
            f"{{'svm': make_svm_baseline()}}; got "
            f"{'an empty dict' if models == {} else type(models).__name__}."
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
    min_test_support=10,
    data_description=None,
):
    """Cross-validate several classifiers on the same folds and collect per-class results.

    Every model is fitted on the same training folds and tested on the same
    test folds, so their scores differ by the model only. Each (model, fold)
    pair runs through :func:`~sklearn.model_selection.cross_validate`, whose
    scorer keeps the fold's confusion matrix (from which all per-class
    metrics follow, see :func:`~sklipo.metrics.per_class_metrics`) and
    predict time. The fits run fold by fold (every model on fold 1, then
    on fold 2, ...), so an interrupted run holds paired folds. A model that
    raises on a fold is recorded with its error
    and warned about (:class:`~sklearn.exceptions.FitFailedWarning`); that
    fold of that model is left out of the means, and everything else carries
    on. Interrupting the run (Ctrl-C) returns the folds finished so far, with
    a warning; the others are marked ``"not run"``.

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
        When positive, report each finished (model, fold) fit with its
        balanced accuracy (as in :meth:`ComparisonResult.fold_scores`), the
        time elapsed and, from the first fit on, an estimate of the time
        left: a progress bar with these lines above it on a terminal, plain
        lines on standard output otherwise.
    random_state : int, RandomState instance or None, default=0
        Shuffles the folds when `cv` is an int.
    min_test_support : int, default=10
        A class with fewer test samples than this in some fold is warned
        about, and flagged in the table and report: its per-class scores
        vary with one or two samples and are unreliable.
    data_description : str, default=None
        Where the data came from (a folder, a data set and its settings),
        recorded in the report's provenance with the class counts.

    Returns
    -------
    result : ComparisonResult
        The per-fold confusion matrices, times, status and errors, with
        tables, plots, a paired test, a verdict and a report writer; its
        ``provenance`` records data, folds, models, seeds, versions, machine
        and wall time.

    Warns
    -----
    FitFailedWarning
        For each fold on which a model raised, naming model, fold and error.
    UserWarning
        For each class absent from some test folds (balanced accuracy leaves
        it out of those folds), each class with fewer than
        `min_test_support` test samples in a fold, and when interrupted.

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
    start = time.perf_counter()
    check_label_types(y)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D; got shape {y.shape}.")
    if len(y) != len(X):
        raise ValueError(f"X holds {len(X)} samples but y {len(y)} labels.")
    labels = np.unique(y) if labels is None else np.asarray(labels)
    names = check_target_names(labels, target_names)
    if isinstance(cv, Integral):
        cv = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    splits = list(check_cv(cv, y, classifier=True).split(np.zeros(len(y)), y))
    _warn_absent_classes(y, splits, labels, names)
    _warn_small_classes(y, splits, labels, names, min_test_support)
    provenance = collect_provenance(
        models, y, labels, names, splits, cv, random_state, data_description
    )
    # fold by fold: an interruption leaves every model on the same folds, and
    # the time left is estimated from all models once the first fold is done
    tasks = [(name, k) for k in range(len(splits)) for name in models]
    outcomes = {}
    # k workers get cores/k torch and BLAS threads each: k workers of all
    # threads each wait on each other and throughput collapses
    n_workers = parallel_jobs(n_jobs)
    run_fold = _run_fold if n_workers == 1 else WithThreads(_run_fold, worker_threads(n_workers))
    results = Parallel(n_jobs=n_workers, return_as="generator")(
        delayed(run_fold)(models[name], X, y, splits[k], labels) for name, k in tasks
    )
    progress = Progress(len(tasks), "[compare] fit") if verbose > 0 else None
    try:
        for (name, k), outcome in zip(tasks, results):
            outcomes[name, k] = outcome
            for category, message in outcome.pop("warnings", ()):
                # once per model and message (the default filter), not once per fold
                warnings.warn(f"Model {name!r}: {message}", category, stacklevel=2)
            if progress is not None:
                progress.update(_fold_line(name, k, len(splits), outcome))
            if "error" in outcome:
                warnings.warn(
                    f"Model {name!r} failed on fold {k + 1} of {len(splits)}; the fold is "
                    f"left out of its scores (details in result.errors). {outcome['error']}",
                    FitFailedWarning,
                    stacklevel=2,
                )
    except KeyboardInterrupt:
        warnings.warn(
            f"Interrupted: returning the {len(outcomes)} of {len(tasks)} fits that finished; "
            "the others are marked 'not run'.",
            UserWarning,
            stacklevel=2,
        )
    finally:
        if progress is not None:
            progress.close()
    provenance["wall_time"] = time.perf_counter() - start
    return _assemble(
        outcomes,
        list(models),
        labels,
        names,
        splits,
        zero_division,
        min_test_support=min_test_support,
        provenance=provenance,
    )


def _warn_absent_classes(y, splits, labels, names):
    """Warn about each class missing from some test folds."""
    for label, name in zip(labels, names):
        folds = [str(k + 1) for k, (_, test) in enumerate(splits) if not np.any(y[test] == label)]
        if folds:
            warnings.warn(
                f"Class '{name}' is absent from the test set of fold(s) {', '.join(folds)}: "
                "balanced accuracy leaves it out there, and its TPR is zero_division.",
                UserWarning,
                stacklevel=3,
            )


def _warn_small_classes(y, splits, labels, names, min_test_support):
    """Warn about each class with fewer than `min_test_support` test samples in a fold."""
    for label, name in zip(labels, names):
        counts = np.array([np.sum(y[test] == label) for _, test in splits])
        present = counts[counts > 0]
        if present.size and present.min() < min_test_support:
            spread = (
                f"{present.min()}" if present.min() == present.max()
                else f"{present.min()} to {present.max()}"
            )
            samples = "sample" if present.max() == 1 else "samples"
            warnings.warn(
                f"Class '{name}' has only {spread} test {samples} per fold (fewer than "
                f"{min_test_support}): its per-class scores change by a large step with "
                "each sample and are unreliable; read their spread over folds, not "
                "only the mean.",
                UserWarning,
                stacklevel=3,
            )


def _assemble(
    outcomes,
    model_names,
    labels,
    class_names,
    splits,
    zero_division,
    *,
    min_test_support=10,
    provenance=None,
):
    """A ComparisonResult from the outcome of each (model, fold) fit that finished."""
    n_models, n_folds, n_classes = len(model_names), len(splits), len(labels)
    matrices = np.full((n_models, n_folds, n_classes, n_classes), np.nan)
    fit_times = np.full((n_models, n_folds), np.nan)
    predict_times = np.full((n_models, n_folds), np.nan)
    status = np.full((n_models, n_folds), "not run", dtype=object)
    population = {name: np.full((n_models, n_folds), np.nan) for name in POPULATION_SCORES}
    errors = []
    for (name, k), outcome in outcomes.items():
        m = model_names.index(name)
        if "error" in outcome:
            status[m, k] = "failed"
            errors.append({"model": name, "fold": k, **outcome})
            continue
        status[m, k] = "ok"
        matrices[m, k] = outcome["matrix"]
        fit_times[m, k] = outcome["fit_time"]
        predict_times[m, k] = outcome["predict_time"]
        for score in POPULATION_SCORES:
            population[score][m, k] = outcome.get(score, np.nan)
    return ComparisonResult(
        model_names,
        labels,
        class_names,
        matrices,
        fit_times,
        predict_times,
        status,
        errors,
        [test for _, test in splits],
        sum(len(test) for _, test in splits),
        zero_division,
        min_test_support=min_test_support,
        provenance=provenance,
        population=population,
    )


def _fold_line(name, k, n_folds, outcome):
    """One progress line: the fit's balanced accuracy and fit time, or its error."""
    if "error" in outcome:
        return f"{name} fold {k + 1}/{n_folds}: FAILED, {outcome['error']}"
    return (
        f"{name} fold {k + 1}/{n_folds}: balanced accuracy "
        f"{_balanced_accuracy(outcome['matrix']):.3f}, fit {outcome['fit_time']:.1f} s"
    )
