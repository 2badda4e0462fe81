"""The views of a ComparisonResult: verdict, paired tests, data frame, JSON, tables, plots, files.

Each method reads the result's numbers and hands rendering to
``sklipo.compare._report`` and ``sklipo.compare._verdict``.
"""

# License: BSD 3 clause

from itertools import combinations

import numpy as np

from sklipo.compare import _report, _verdict
from sklipo.metrics import METRICS
from sklipo.utils import json_ready

__all__ = []

# Scores over all classes, one per fold.
_SUMMARIES = tuple(_verdict.SUMMARY_HEADERS)


class _ResultViews:
    """Methods of :class:`~sklipo.compare.ComparisonResult` that present its numbers."""

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
