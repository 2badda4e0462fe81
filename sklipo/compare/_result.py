"""The result of compare(): per-fold numbers, tables, plots and a report."""

# License: BSD 3 clause

import html
import json
from itertools import combinations
from pathlib import Path

import numpy as np

from sklipo.compare._paired import paired_fold_test
from sklipo.metrics._confusion import mean_confusion_matrix
from sklipo.metrics._per_class import METRICS, metrics_from_confusion

__all__ = ["ComparisonResult"]

# Scores over all classes, one per fold.
_SUMMARIES = {"balanced_accuracy": "tpr", "f1_macro": "f1"}
_HEADERS = {
    "tpr": "TPR",
    "tnr": "TNR",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro F1",
}


def _json_value(value):
    """Lists of plain floats and ints, NaN as None (null), for JSON."""
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return [_json_value(v) for v in array] if array.ndim else (
            None if np.isnan(array) else float(array)
        )
    return array.tolist()


class ComparisonResult:
    """Per-fold results of :func:`compare`, with tables, plots and a report.

    Everything derives from the per-fold confusion matrices and times; a
    fold on which a model failed holds NaN and is left out of that model's
    means and standard deviations (over the folds that succeeded,
    ``ddof=0``).

    Parameters
    ----------
    model_names : list of str
        The models, in input order.
    labels : ndarray of shape (n_classes,)
        The classes as they appear in ``y``.
    class_names : ndarray of str of shape (n_classes,)
        Their display names.
    confusion_matrices : ndarray of shape (n_models, n_folds, n_classes, n_classes)
        Counts per model and fold (rows true classes); NaN for failed folds.
    fit_times : ndarray of shape (n_models, n_folds)
        Seconds to fit; NaN for failed folds.
    predict_times : ndarray of shape (n_models, n_folds)
        Seconds to predict the test fold; NaN for failed folds.
    errors : list of dict
        One dict per failed fit: ``"model"``, ``"fold"`` (0-based),
        ``"error"`` (type and message) and ``"traceback"``.
    test_indices : list of ndarray
        The test samples of each fold.
    n_samples : int
        Number of samples cross-validated.
    zero_division : float, default=0.0
        Value of a metric with a zero denominator.

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
        errors,
        test_indices,
        n_samples,
        zero_division=0.0,
    ):
        self.model_names = list(model_names)
        self.labels = np.asarray(labels)
        self.class_names = np.asarray(class_names, dtype=str)
        self.confusion_matrices = np.asarray(confusion_matrices, dtype=float)
        self.fit_times = np.asarray(fit_times, dtype=float)
        self.predict_times = np.asarray(predict_times, dtype=float)
        self.errors = list(errors)
        self.test_indices = [np.asarray(test) for test in test_indices]
        self.n_samples = int(n_samples)
        self.zero_division = zero_division
        self.n_folds = len(self.test_indices)

    @classmethod
    def from_outcomes(cls, outcomes, *, model_names, labels, class_names, folds, zero_division):
        """Assemble a result from the outcome of each (model, fold) fit."""
        n_models, n_folds, n_classes = len(model_names), len(folds), len(labels)
        matrices = np.full((n_models, n_folds, n_classes, n_classes), np.nan)
        fit_times = np.full((n_models, n_folds), np.nan)
        predict_times = np.full((n_models, n_folds), np.nan)
        errors = []
        for m, name in enumerate(model_names):
            for k in range(n_folds):
                outcome = outcomes[name, k]
                if "error" in outcome:
                    errors.append({"model": name, "fold": k, **outcome})
                    continue
                matrices[m, k] = outcome["matrix"]
                fit_times[m, k] = outcome["fit_time"]
                predict_times[m, k] = outcome["predict_time"]
        return cls(
            model_names,
            labels,
            class_names,
            matrices,
            fit_times,
            predict_times,
            errors,
            [test for _, test in folds],
            sum(len(test) for _, test in folds),
            zero_division,
        )

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
            ``"f1"``, ``"support"``) or a summary (``"balanced_accuracy"``,
            ``"f1_macro"``: the mean of TPR or F1 over the classes).

        Returns
        -------
        scores : ndarray of shape (n_models, n_folds, n_classes) or (n_models, n_folds)
            The scores; NaN on failed folds. Summaries have no class axis.
        """
        summary = _SUMMARIES.get(metric)
        name = summary or metric
        if name not in (*METRICS, "support"):
            raise ValueError(
                f"Unknown metric {metric!r}; choose from "
                f"{', '.join([*METRICS, 'support', *_SUMMARIES])}."
            )
        scores = metrics_from_confusion(
            self.confusion_matrices, zero_division=self.zero_division
        )[name]
        failed = np.isnan(self.confusion_matrices).all(axis=(2, 3))
        scores[failed] = np.nan
        return scores.mean(axis=-1) if summary else scores

    def mean_scores(self, metric="f1"):
        """Mean score of each model over its successful folds.

        Parameters
        ----------
        metric : str, default="f1"
            See :meth:`fold_scores`.

        Returns
        -------
        mean : ndarray of shape (n_models, n_classes) or (n_models,)
            NaN for a model that failed on every fold.
        """
        return _nan_reduce(np.nanmean, self.fold_scores(metric))

    def std_scores(self, metric="f1"):
        """Standard deviation of each model's score over its successful folds.

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

    def confusion_matrix(self, model, *, normalize=None):
        """Confusion matrix of one model averaged over its successful folds.

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
        matrices = self.confusion_matrices[self._model_index(model)]
        if np.isnan(matrices).all():
            raise ValueError(f"Model {model!r} failed on every fold: it has no confusion matrix.")
        return mean_confusion_matrix(matrices, normalize=normalize)

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
        safe = ["".join(c if c.isalnum() or c == "_" else "_" for c in n) for n in self.class_names]
        if name not in METRICS or class_name not in safe:
            raise ValueError(
                f"Unknown metric {metric!r}: expected f1_macro, balanced_accuracy or "
                f"<metric>_<class> with a metric in {', '.join(METRICS)} and a class "
                f"in {', '.join(safe)}."
            )
        return self.fold_scores(name)[:, :, safe.index(class_name)]

    # -- tables ------------------------------------------------------------------

    def _rows(self, metrics, digits):
        """Per model: a header line and rows of cells (class, metrics..., support)."""
        means = {metric: self.mean_scores(metric) for metric in (*metrics, *_SUMMARIES)}
        stds = {metric: self.std_scores(metric) for metric in (*metrics, *_SUMMARIES)}
        support = self.mean_scores("support")

        def cell(metric, m, c=None):
            mean, std = means[metric][m], stds[metric][m]
            if c is not None:
                mean, std = mean[c], std[c]
            return "n/a" if np.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"

        blocks = []
        for m, model in enumerate(self.model_names):
            n_ok = int(np.sum(~np.isnan(self.fit_times[m])))
            title = model
            if n_ok:
                title += f" (fit {np.nanmean(self.fit_times[m]):.1f} s per fold"
                title += ")" if n_ok == self.n_folds else f"; {n_ok} of {self.n_folds} folds ran)"
            else:
                title += " (failed on every fold)"
            rows = [
                [name, *[cell(metric, m, c) for metric in metrics], _count(support[m][c])]
                for c, name in enumerate(self.class_names)
            ]
            summary = ", ".join(f"{_HEADERS[s]} {cell(s, m)}" for s in _SUMMARIES)
            blocks.append((title, rows, summary))
        return blocks

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
            then the failures.
        """
        header = ["class", *[_HEADERS[m] for m in metrics], "support"]
        lines = [self._intro()]
        for title, rows, summary in self._rows(metrics, digits):
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
            lines += ["", title]
            for row in [header, *rows]:
                lines.append(
                    "  ".join(
                        v.ljust(w) if i == 0 else v.rjust(w)
                        for i, (v, w) in enumerate(zip(row, widths))
                    ).rstrip()
                )
            lines.append(summary)
        lines += self._failure_lines()
        return "\n".join(lines)

    def _intro(self):
        return (
            f"{self.n_folds}-fold cross-validation on {self.n_samples} samples; "
            "mean ± std over folds (support: test samples per fold)."
        )

    def _failure_lines(self):
        if not self.errors:
            return []
        return ["", "Failures:"] + [
            f"  {e['model']} fold {e['fold'] + 1}: {e['error']}" for e in self.errors
        ]

    def to_frame(self):
        """The per-fold numbers as a tidy :class:`pandas.DataFrame` (needs pandas).

        Returns
        -------
        frame : pandas.DataFrame
            One row per model, fold and class, with columns ``model``,
            ``fold``, ``class``, ``tpr``, ``tnr``, ``ppv``, ``npv``, ``f1``,
            ``support``, ``fit_time`` and ``predict_time``. Failed folds have
            NaN. ``frame.groupby(["model", "class"]).mean()`` gives the means
            of :meth:`table`.
        """
        import pandas as pd

        n_models, n_folds, n_classes = len(self.model_names), self.n_folds, len(self.labels)
        shape = (n_models, n_folds, n_classes)
        index = np.indices(shape).reshape(3, -1)
        columns = {
            "model": np.asarray(self.model_names)[index[0]],
            "fold": index[1],
            "class": self.class_names[index[2]],
        }
        for metric in (*METRICS, "support"):
            columns[metric] = self.fold_scores(metric).reshape(-1)
        columns["fit_time"] = np.broadcast_to(self.fit_times[:, :, None], shape).reshape(-1)
        columns["predict_time"] = np.broadcast_to(
            self.predict_times[:, :, None], shape
        ).reshape(-1)
        return pd.DataFrame(columns)

    def to_dict(self):
        """Every number of the comparison, as JSON-ready plain Python.

        Returns
        -------
        data : dict
            Classes, folds (test indices), and per model its confusion
            matrices, times, fold-wise and mean/std scores of every metric;
            NaN (failed folds) as None.
        """
        models = {}
        for m, name in enumerate(self.model_names):
            entry = {
                "confusion_matrices": _json_value(self.confusion_matrices[m]),
                "fit_time": _json_value(self.fit_times[m]),
                "predict_time": _json_value(self.predict_times[m]),
                "scores": {},
            }
            for metric in (*METRICS, *_SUMMARIES):
                entry["scores"][metric] = {
                    "folds": _json_value(self.fold_scores(metric)[m]),
                    "mean": _json_value(self.mean_scores(metric)[m]),
                    "std": _json_value(self.std_scores(metric)[m]),
                }
            if not np.isnan(self.confusion_matrices[m]).all():
                for normalize in (None, "true"):
                    mean, std = self.confusion_matrix(name, normalize=normalize)
                    key = "mean_confusion_matrix" + ("_normalized" if normalize else "")
                    entry[key] = {"mean": _json_value(mean), "std": _json_value(std)}
            models[name] = entry
        return {
            "n_samples": self.n_samples,
            "n_folds": self.n_folds,
            "labels": self.labels.tolist(),
            "classes": self.class_names.tolist(),
            "zero_division": _json_value(self.zero_division),
            "test_indices": [test.tolist() for test in self.test_indices],
            "models": models,
            "errors": [dict(e) for e in self.errors],
        }

    # -- plots -------------------------------------------------------------------

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
        from sklipo.metrics import PerClassScoreDisplay

        display = PerClassScoreDisplay(
            self.mean_scores(metric),
            errors=self.std_scores(metric),
            model_names=self.model_names,
            class_names=list(self.class_names),
            metric=_HEADERS.get(metric, metric),
        )
        return display.plot(ax=ax, title=title)

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
            One panel per model (an empty panel for a model that failed on
            every fold).
        """
        import matplotlib.pyplot as plt

        from sklipo.metrics import FoldConfusionMatrixDisplay

        n_models, n_classes = len(self.model_names), len(self.labels)
        size = 1.3 * n_classes + 1.5
        figure, axes = plt.subplots(
            1, n_models, figsize=(size * n_models, size), squeeze=False, layout="constrained"
        )
        for ax, model in zip(axes[0], self.model_names):
            if np.isnan(self.confusion_matrices[self._model_index(model)]).all():
                ax.set_title(f"{model}: failed")
                ax.set_axis_off()
                continue
            mean, std = self.confusion_matrix(model, normalize=normalize)
            FoldConfusionMatrixDisplay(mean, std=std, display_labels=self.class_names).plot(
                ax=ax, cmap=cmap, colorbar=False, title=model
            )
        return figure

    # -- report ------------------------------------------------------------------

    def save(self, directory, *, overwrite=False):
        """Write the report: Markdown, HTML, plots and a JSON of every number.

        Writes ``report.md`` and ``report.html`` (the tables, the paired
        tests and the plots), ``f1.png`` (per-class F1 by model),
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
        import matplotlib.pyplot as plt

        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise FileExistsError(f"'{directory}' exists and is not a folder.")
        if directory.is_dir() and any(directory.iterdir()) and not overwrite:
            raise FileExistsError(
                f"The folder '{directory}' is not empty; choose another or pass "
                "overwrite=True (--force on the command line) to write the report into it."
            )
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / "results.json", "w", encoding="utf-8") as file:
            json.dump(self.to_dict(), file, indent=1)
        display = self.plot("f1", title="F1 per class (mean ± std over folds)")
        display.figure_.savefig(directory / "f1.png", dpi=120, bbox_inches="tight")
        plt.close(display.figure_)
        figure = self.plot_confusion_matrices(normalize="true")
        figure.savefig(directory / "confusion.png", dpi=120, bbox_inches="tight")
        plt.close(figure)
        (directory / "report.md").write_text(self._markdown(), encoding="utf-8")
        (directory / "report.html").write_text(self._html(), encoding="utf-8")
        return directory

    def _pair_rows(self):
        """Paired test of macro F1 for every pair of models."""
        rows = []
        for a, b in combinations(self.model_names, 2):
            test = self.paired_test(a, b)
            rows.append(
                [
                    f"{a} vs {b}",
                    f"{test.mean_difference:+.3f}",
                    f"{test.wins}/{test.n_folds}",
                    "n/a" if np.isnan(test.p_value) else f"{test.p_value:.3f}",
                ]
            )
        return rows

    def _markdown(self):
        header = ["class", *[_HEADERS[m] for m in METRICS], "support"]
        lines = ["# Model comparison", "", self._intro(), ""]
        for title, rows, summary in self._rows(METRICS, 3):
            lines += [f"## {title}", "", _md_row(header), _md_row(["---"] * len(header))]
            lines += [_md_row(row) for row in rows] + ["", summary, ""]
        pairs = self._pair_rows()
        if pairs:
            lines += [
                "## Paired tests (macro F1, corrected resampled t-test)",
                "",
                _md_row(["models", "mean difference", "wins", "p-value"]),
                _md_row(["---"] * 4),
                *[_md_row(row) for row in pairs],
                "",
            ]
        lines += [
            "## F1 per class",
            "",
            "![F1 per class](f1.png)",
            "",
            "## Confusion matrices (row-normalised, mean ± std over folds)",
            "",
            "![Confusion matrices](confusion.png)",
            "",
        ]
        if self.errors:
            lines += ["## Failures", ""] + [
                f"- {e['model']} fold {e['fold'] + 1}: `{e['error']}`" for e in self.errors
            ]
        return "\n".join(lines) + "\n"

    def _html(self):
        escape = html.escape
        header = ["class", *[_HEADERS[m] for m in METRICS], "support"]
        parts = [
            "<!DOCTYPE html>",
            '<html><head><meta charset="utf-8"><title>Model comparison</title>',
            "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
            "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ccc;"
            "text-align:right}td:first-child,th:first-child{text-align:left}</style>",
            "</head><body>",
            "<h1>Model comparison</h1>",
            f"<p>{escape(self._intro())}</p>",
        ]
        for title, rows, summary in self._rows(METRICS, 3):
            parts += [f"<h2>{escape(title)}</h2>", _html_table(header, rows)]
            parts.append(f"<p>{escape(summary)}</p>")
        pairs = self._pair_rows()
        if pairs:
            parts += [
                "<h2>Paired tests (macro F1, corrected resampled t-test)</h2>",
                _html_table(["models", "mean difference", "wins", "p-value"], pairs),
            ]
        parts += [
            "<h2>F1 per class</h2>",
            '<img src="f1.png" alt="F1 per class">',
            "<h2>Confusion matrices (row-normalised, mean ± std over folds)</h2>",
            '<img src="confusion.png" alt="Confusion matrices">',
        ]
        if self.errors:
            parts.append("<h2>Failures</h2><ul>")
            parts += [
                f"<li>{escape(e['model'])} fold {e['fold'] + 1}: <code>{escape(e['error'])}</code></li>"
                for e in self.errors
            ]
            parts.append("</ul>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

    def __repr__(self):
        failed = f", {len(self.errors)} failed fits" if self.errors else ""
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


def _count(value):
    return "n/a" if np.isnan(value) else f"{value:.1f}"


def _md_row(cells):
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def _html_table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"
