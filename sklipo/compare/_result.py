"""The result of compare(): per-fold numbers, their summaries and a paired test."""

# License: BSD 3 clause

import numpy as np

from sklipo.compare import _verdict
from sklipo.compare._paired import paired_fold_test
from sklipo.compare._population import POPULATION_SCORES
from sklipo.compare._result_views import _SUMMARIES, _ResultViews
from sklipo.metrics import METRICS, mean_confusion_matrix, metrics_from_confusion

__all__ = ["ComparisonResult"]


def _balanced_accuracy(matrices):
    """Mean TPR over the classes present in each fold.

    scikit-learn's :func:`~sklearn.metrics.balanced_accuracy_score`, computed
    from confusion matrices.

    Parameters
    ----------
    matrices : array-like of shape (..., n_classes, n_classes)
        Counts, rows true classes; NaN matrices (failed folds) give NaN.

    Returns
    -------
    score : ndarray of shape (...)
        The balanced accuracy of each matrix.
    """
    matrices = np.asarray(matrices, dtype=float)
    support = matrices.sum(axis=-1)
    present = support > 0
    tp = np.diagonal(matrices, axis1=-2, axis2=-1)
    recall = np.divide(tp, support, out=np.zeros_like(support), where=present)
    failed = np.isnan(matrices).all(axis=(-2, -1))
    return np.where(failed, np.nan, recall.sum(axis=-1) / np.maximum(present.sum(axis=-1), 1))


class ComparisonResult(_ResultViews):
    """Per-fold results of :func:`compare`, with tables, plots and a report.

    Everything derives from the per-fold confusion matrices and times; a
    fold on which a model failed, or that an interruption left unrun, holds
    NaN and is left out of that model's means and standard deviations (over
    the folds that ran, ``ddof=0``).

    Parameters
    ----------
    model_names : list of str
        The models, in input order.
    labels : ndarray of shape (n_classes,)
        The classes as they appear in ``y``.
    class_names : ndarray of str of shape (n_classes,)
        Their display names.
    confusion_matrices : ndarray of shape (n_models, n_folds, n_classes, n_classes)
        Counts per model and fold (rows true classes); NaN for folds that
        did not run.
    fit_times : ndarray of shape (n_models, n_folds)
        Seconds to fit; NaN for folds that did not run.
    predict_times : ndarray of shape (n_models, n_folds)
        Seconds to predict the test fold; NaN for folds that did not run.
    status : ndarray of str of shape (n_models, n_folds)
        ``"ok"``, ``"failed"`` (the model raised) or ``"not run"`` (the
        comparison was interrupted first).
    errors : list of dict
        One dict per failed fit: ``"model"``, ``"fold"`` (0-based),
        ``"error"`` (type and message) and ``"traceback"``.
    test_indices : list of ndarray
        The test samples of each fold.
    n_samples : int
        Number of samples cross-validated.
    zero_division : float, default=0.0
        Value of a metric with a zero denominator.
    min_test_support : int, default=10
        A class with fewer test samples than this in some fold (or absent
        from one) is flagged as unreliable, see :meth:`unreliable_classes`.
    provenance : dict, default=None
        Where the comparison came from (data, folds, models, seeds,
        versions, machine, wall time), as :func:`compare` records it.
    population : dict of str to ndarray of shape (n_models, n_folds), default=None
        Per-fold population numbers, see :meth:`population_scores`; None
        (or a missing key) leaves them NaN.

    Attributes
    ----------
    n_folds : int
        Number of folds.
    """

    def __init__(
        self,
        model_names,
        labels,
        class_names,
        confusion_matrices,
        fit_times,
        predict_times,
        status,
        errors,
        test_indices,
        n_samples,
        zero_division=0.0,
        *,
        min_test_support=10,
        provenance=None,
        population=None,
    ):
        self.model_names = list(model_names)
        self.labels = np.asarray(labels)
        self.class_names = np.asarray(class_names, dtype=str)
        self.confusion_matrices = np.asarray(confusion_matrices, dtype=float)
        self.fit_times = np.asarray(fit_times, dtype=float)
        self.predict_times = np.asarray(predict_times, dtype=float)
        self.status = np.asarray(status, dtype=str)
        self.errors = list(errors)
        self.test_indices = [np.asarray(test) for test in test_indices]
        self.n_samples = int(n_samples)
        self.zero_division = zero_division
        self.min_test_support = min_test_support
        self.provenance = provenance
        self.n_folds = len(self.test_indices)
        self.population = {
            name: np.asarray(
                (population or {}).get(name, np.full(self.fit_times.shape, np.nan)), dtype=float
            )
            for name in POPULATION_SCORES
        }

    # -- numbers ---------------------------------------------------------------

    def _model_index(self, model):
        try:
            return self.model_names.index(model)
        except ValueError:
            raise ValueError(
                f"Unknown model {model!r}; the models are {', '.join(self.model_names)}."
            ) from None

    def fold_scores(self, metric="f1"):
        """Score of each model on each fold.

        Parameters
        ----------
        metric : str, default="f1"
            A per-class metric (``"tpr"``, ``"tnr"``, ``"ppv"``, ``"npv"``,
            ``"f1"``, ``"support"``) or a summary: ``"balanced_accuracy"``
            (mean TPR over the classes present in the test fold, as
            :func:`~sklearn.metrics.balanced_accuracy_score`) or
            ``"f1_macro"`` (mean F1 over all classes).

        Returns
        -------
        scores : ndarray of shape (n_models, n_folds, n_classes) or (n_models, n_folds)
            The scores; NaN on folds that did not run. Summaries have no
            class axis.
        """
        if metric == "balanced_accuracy":
            return _balanced_accuracy(self.confusion_matrices)
        name = "f1" if metric == "f1_macro" else metric
        if name not in (*METRICS, "support"):
            raise ValueError(
                f"Unknown metric {metric!r}; choose from "
                f"{', '.join([*METRICS, 'support', *_SUMMARIES])}."
            )
        scores = metrics_from_confusion(
            self.confusion_matrices, zero_division=self.zero_division
        )[name]
        scores[self.status != "ok"] = np.nan
        return scores.mean(axis=-1) if metric == "f1_macro" else scores

    def mean_scores(self, metric="f1"):
        """Mean score of each model over the folds that ran.

        Parameters
        ----------
        metric : str, default="f1"
            See :meth:`fold_scores`.

        Returns
        -------
        mean : ndarray of shape (n_models, n_classes) or (n_models,)
            NaN for a model that ran on no fold.
        """
        return _nan_reduce(np.nanmean, self.fold_scores(metric))

    def std_scores(self, metric="f1"):
        """Standard deviation of each model's score over the folds that ran.

        Parameters
        ----------
        metric : str, default="f1"
            See :meth:`fold_scores`.

        Returns
        -------
        std : ndarray of shape (n_models, n_classes) or (n_models,)
            Population standard deviation (``ddof=0``).
        """
        return _nan_reduce(np.nanstd, self.fold_scores(metric))

    def population_scores(self):
        """Calibration and class-share errors of each model: per fold, mean and std.

        ``"ece"``: expected calibration error of ``predict_proba`` on the
        test fold (NaN for a model without it). ``"cc_error"`` and
        ``"acc_error"``: mean absolute error of the class shares estimated
        by classify-and-count and by adjusted count on test samples whose
        class shares are shifted away from the training data's (drawn
        uniformly on the simplex from one half of the test fold, the other
        half giving the adjusted count's misclassification rates; see
        ``sklipo.compare._population``). Lower is better for all three.

        Returns
        -------
        scores : dict of str to dict
            Per number, ``"folds"`` (n_models, n_folds), ``"mean"`` and
            ``"std"`` (n_models,), over the folds that ran.
        """
        return {
            name: {
                "folds": folds,
                "mean": _nan_reduce(np.nanmean, folds),
                "std": _nan_reduce(np.nanstd, folds),
            }
            for name, folds in self.population.items()
        }

    def confusion_matrix(self, model, *, normalize=None):
        """Confusion matrix of one model averaged over the folds that ran.

        Parameters
        ----------
        model : str
            The model's name.
        normalize : {"true", "pred", "all"}, default=None
            None averages raw counts per fold; ``"true"`` averages the
            row-normalised matrices; see
            :func:`~sklipo.metrics.mean_confusion_matrix`.

        Returns
        -------
        mean : ndarray of shape (n_classes, n_classes)
            The mean matrix.
        std : ndarray of shape (n_classes, n_classes)
            Its standard deviation over folds.
        """
        m = self._model_index(model)
        if not (self.status[m] == "ok").any():
            raise ValueError(f"Model {model!r} ran on no fold: it has no confusion matrix.")
        return mean_confusion_matrix(self.confusion_matrices[m], normalize=normalize)

    def paired_test(self, model_a, model_b, *, metric="f1_macro"):
        """Test whether model A scores differently from model B across the folds.

        A corrected resampled t-test (Nadeau and Bengio, 2003) on the fold-wise
        differences: the folds share training samples, so the variance of the
        mean difference is inflated by ``1/k + n_test/n_train``. With 5 folds
        it has little power; read ``wins`` and the mean difference too.

        Parameters
        ----------
        model_a, model_b : str
            The two models.
        metric : str, default="f1_macro"
            ``"f1_macro"``, ``"balanced_accuracy"`` or one class's metric
            named ``"<metric>_<class name>"`` as in
            :func:`~sklipo.metrics.per_class_scorers` (``"f1_uncertain"``).

        Returns
        -------
        result : Bunch
            ``mean_difference`` (A - B), ``std_difference``, ``t``,
            ``p_value`` (two-sided), ``wins`` (folds where A beats B),
            ``losses`` and ``n_folds``.
        """
        scores = self._named_scores(metric)
        test_size = np.mean([len(test) for test in self.test_indices])
        return paired_fold_test(
            scores[self._model_index(model_a)],
            scores[self._model_index(model_b)],
            test_fraction=test_size / (self.n_samples - test_size),
        )

    def _named_scores(self, metric):
        if metric in _SUMMARIES:
            return self.fold_scores(metric)
        name, _, class_name = metric.partition("_")
        safe = _verdict.safe_class_names(self.class_names)
        if name not in METRICS or class_name not in safe:
            raise ValueError(
                f"Unknown metric {metric!r}: expected f1_macro, balanced_accuracy or "
                f"<metric>_<class> with a metric in {', '.join(METRICS)} and a class "
                f"in {', '.join(safe)}."
            )
        return self.fold_scores(name)[:, :, safe.index(class_name)]

    def test_support(self):
        """Number of test samples of each class in each fold.

        Returns
        -------
        support : ndarray of shape (n_folds, n_classes)
            Counts from the confusion matrices; NaN for a fold on which no
            model ran.
        """
        rows = self.confusion_matrices.sum(axis=-1)
        support = np.full((self.n_folds, len(self.labels)), np.nan)
        for k in range(self.n_folds):
            ran = np.flatnonzero(self.status[:, k] == "ok")
            if ran.size:
                support[k] = rows[ran[0], k]
        return support

    def unreliable_classes(self):
        """The classes too rare in the test folds for their per-class scores to mean much.

        A class is unreliable when it has fewer than ``min_test_support``
        test samples in some fold, or none: one sample more or less right
        moves its TPR and F1 by a large step, so its numbers are noise
        around the truth. Read their spread (the range over folds), not only
        the mean.

        Returns
        -------
        classes : list of dict
            One per unreliable class: ``"class"`` (its name),
            ``"support"`` (its test samples in each fold that ran),
            ``"absent_folds"`` (0-based folds without it) and ``"ranges"``,
            per model the ``[min, max]`` over folds of its TPR and F1.
        """
        support = self.test_support()
        ran = ~np.isnan(support).all(axis=1)
        tpr, f1 = self.fold_scores("tpr"), self.fold_scores("f1")
        classes = []
        for c, name in enumerate(self.class_names):
            counts = support[ran, c]
            if not counts.size or counts.min() >= self.min_test_support:
                continue
            ranges = {}
            for m, model in enumerate(self.model_names):
                if (self.status[m] == "ok").any():
                    ranges[model] = {
                        metric: [float(np.nanmin(s[m, :, c])), float(np.nanmax(s[m, :, c]))]
                        for metric, s in (("tpr", tpr), ("f1", f1))
                    }
            classes.append(
                {
                    "class": str(name),
                    "support": counts.astype(int).tolist(),
                    "absent_folds": [int(k) for k in np.flatnonzero(ran & (support[:, c] == 0))],
                    "ranges": ranges,
                }
            )
        return classes

    def __repr__(self):
        failed = f", {len(self.errors)} failed fits" if self.errors else ""
        not_run = len(self.not_run())
        failed += f", {not_run} fits not run" if not_run else ""
        return (
            f"ComparisonResult(models={self.model_names}, classes={self.class_names.tolist()}, "
            f"n_folds={self.n_folds}{failed})"
        )


def _nan_reduce(function, scores):
    """Reduce over the fold axis, skipping NaN folds, quietly NaN if all are."""
    scores = np.moveaxis(scores, 1, -1)
    failed = np.isnan(scores).all(axis=-1)
    out = np.full(scores.shape[:-1], np.nan)
    out[~failed] = function(scores[~failed], axis=-1)
    return out
