"""The result of compare(): per-fold numbers, their summaries and a paired test."""

# License: BSD 3 clause

from itertools import combinations

import numpy as np

from sklipo.compare import _report, _verdict
from sklipo.compare._paired import paired_fold_test
from sklipo.compare._population import POPULATION_SCORES
from sklipo.metrics import METRICS, mean_confusion_matrix, metrics_from_confusion
from sklipo.utils import json_ready

__all__ = ["ComparisonResult"]

# Scores over all classes, one per fold.
_SUMMARIES = ("balanced_accuracy", "f1_macro")


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


class ComparisonResult:
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

    def verdict(self, *, alpha=0.05):
        """Which model is best, by how much, and whether the difference is significant.

        The best model on balanced accuracy is compared with the runner-up
        (the best on macro F1 if that is another model, else the second on
        balanced accuracy) by :meth:`paired_test` on balanced accuracy, macro
        F1 and each class's F1.

        Parameters
        ----------
        alpha : float, default=0.05
            The significance level of the paired tests (not corrected for
            testing several metrics and classes).

        Returns
        -------
        verdict : dict
            ``"text"`` (the paragraph that opens the report), ``"alpha"``,
            ``"best"`` (per summary metric, the best model), ``"runner_up"``,
            ``"tests"`` (the paired tests of best against runner-up: per
            summary metric and ``"f1_per_class"``) and ``"ranking"``
            (models by mean balanced accuracy, best first).
        """
        return _verdict.verdict(self, alpha=alpha)

    def paired_tests(self):
        """Paired tests of every pair of models on every summary and per-class F1.

        Returns
        -------
        tests : list of dict
            One per (pair, metric): ``"model_a"``, ``"model_b"``,
            ``"metric"`` (``"balanced_accuracy"``, ``"f1_macro"`` or
            ``"f1_<class>"``) and the fields of :meth:`paired_test`.
        """
        classes = _verdict.safe_class_names(self.class_names)
        metrics = [*_SUMMARIES, *[f"f1_{name}" for name in classes]]
        return [
            {"model_a": a, "model_b": b, "metric": metric, **self.paired_test(a, b, metric=metric)}
            for a, b in combinations(self.model_names, 2)
            for metric in metrics
        ]

    # -- data --------------------------------------------------------------------

    def to_frame(self):
        """The per-fold numbers as a tidy :class:`pandas.DataFrame` (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            One row per model, fold and class, with columns ``model``,
            ``fold``, ``class``, ``status``, ``tpr``, ``tnr``, ``ppv``,
            ``npv``, ``f1``, ``support``, ``fit_time`` and ``predict_time``.
            Folds that did not run have NaN.
            ``frame.groupby(["model", "class"]).mean()`` gives the means of
            :meth:`table`.
        """
        import pandas as pd

        shape = (len(self.model_names), self.n_folds, len(self.labels))
        index = np.indices(shape).reshape(3, -1)
        columns = {
            "model": np.asarray(self.model_names)[index[0]],
            "fold": index[1],
            "class": self.class_names[index[2]],
            "status": self.status[index[0], index[1]],
        }
        for metric in (*METRICS, "support"):
            columns[metric] = self.fold_scores(metric).reshape(-1)
        columns["fit_time"] = self.fit_times[index[0], index[1]]
        columns["predict_time"] = self.predict_times[index[0], index[1]]
        return pd.DataFrame(columns)

    def to_dict(self):
        """Every number of the comparison, as JSON-ready plain Python.

        Returns
        -------
        data : dict
            Classes, folds (test indices), and per model its fold status,
            confusion matrices, times, fold-wise and mean/std scores of
            every metric, and ``"population"`` (:meth:`population_scores`:
            calibration error and class-share errors under prior shift);
            NaN (folds that did not run) as None. ``"errors"``
            lists the failed folds, ``"not_run"`` those an interruption
            left out, ``"verdict"`` is :meth:`verdict`, ``"paired_tests"``
            :meth:`paired_tests`, ``"unreliable_classes"``
            :meth:`unreliable_classes` and ``"provenance"`` the data,
            folds, models, seeds, versions, machine and wall time.
        """
        models = {}
        population = self.population_scores()
        for m, name in enumerate(self.model_names):
            entry = {
                "status": self.status[m],
                "confusion_matrices": self.confusion_matrices[m],
                "fit_time": self.fit_times[m],
                "predict_time": self.predict_times[m],
                "scores": {
                    metric: {
                        "folds": self.fold_scores(metric)[m],
                        "mean": self.mean_scores(metric)[m],
                        "std": self.std_scores(metric)[m],
                    }
                    for metric in (*METRICS, *_SUMMARIES)
                },
                "population": {
                    name: {key: values[m] for key, values in entry.items()}
                    for name, entry in population.items()
                },
            }
            if (self.status[m] == "ok").any():
                for normalize in (None, "true"):
                    mean, std = self.confusion_matrix(name, normalize=normalize)
                    key = "mean_confusion_matrix" + ("_normalized" if normalize else "")
                    entry[key] = {"mean": mean, "std": std}
            models[name] = entry
        return json_ready(
            {
                "n_samples": self.n_samples,
                "n_folds": self.n_folds,
                "labels": self.labels,
                "classes": self.class_names,
                "zero_division": self.zero_division,
                "test_indices": self.test_indices,
                "models": models,
                "errors": self.errors,
                "not_run": self.not_run(),
                "verdict": self.verdict(),
                "paired_tests": self.paired_tests(),
                "min_test_support": self.min_test_support,
                "unreliable_classes": self.unreliable_classes(),
                "provenance": self.provenance,
            }
        )

    def not_run(self):
        """The folds an interruption left unrun.

        Returns
        -------
        folds : list of dict
            ``{"model": name, "fold": k}`` (0-based) per fold not run.
        """
        return [
            {"model": self.model_names[m], "fold": int(k)}
            for m, k in zip(*np.nonzero(self.status == "not run"))
        ]

    # -- report (see sklipo.compare._report) -------------------------------------

    def table(self, metrics=METRICS, *, digits=3):
        """Mean ± standard deviation over folds of each metric, per class and model.

        Parameters
        ----------
        metrics : list of str, default=("tpr", "tnr", "ppv", "npv", "f1")
            The per-class metrics to show.
        digits : int, default=3
            Decimals.

        Returns
        -------
        table : str
            Plain text: one block per model (its classes, their metrics and
            mean test support per fold, then balanced accuracy and macro F1),
            then the unreliable classes (marked ``*``), the failures and the
            folds not run.
        """
        return _report.text_table(self, metrics, digits)

    def plot(self, metric="f1", *, ax=None, title=None):
        """Grouped bar chart of a per-class metric: classes along the axis, a bar per model.

        Parameters
        ----------
        metric : str, default="f1"
            A per-class metric, see :meth:`fold_scores`.
        ax : matplotlib Axes, default=None
            Where to draw.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : ~sklipo.metrics.PerClassScoreDisplay
            The drawn chart (error bars: standard deviation over folds).
        """
        return _report.plot_scores(self, metric, ax=ax, title=title)

    def plot_confusion_matrices(self, *, normalize="true", cmap="Blues"):
        """Draw each model's fold-averaged confusion matrix, side by side.

        Parameters
        ----------
        normalize : {"true", "pred", "all"} or None, default="true"
            See :meth:`confusion_matrix`; None shows mean raw counts per fold.
        cmap : str or matplotlib Colormap, default="Blues"
            Colour map.

        Returns
        -------
        figure : matplotlib Figure
            One panel per model (an empty panel for a model that ran on no
            fold).
        """
        return _report.plot_confusion_matrices(self, normalize=normalize, cmap=cmap)

    def save(self, directory, *, overwrite=False):
        """Write the report: Markdown, HTML, plots and a JSON of every number.

        Writes ``report.md`` and ``report.html`` (the verdict, the tables,
        the paired tests, the unreliable classes, the plots and the
        provenance), ``f1.png`` (per-class F1 by model),
        ``confusion.png`` (row-normalised fold-averaged confusion matrices)
        and ``results.json`` (:meth:`to_dict`).

        Parameters
        ----------
        directory : str or path-like
            Where to write; created if missing.
        overwrite : bool, default=False
            Whether to write into a folder that is not empty. Files other
            than the report's are left as they are.

        Returns
        -------
        path : pathlib.Path
            The report folder.
        """
        return _report.save(self, directory, overwrite=overwrite)

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
