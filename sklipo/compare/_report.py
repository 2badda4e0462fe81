"""Rendering of a ComparisonResult: text table, Markdown, HTML, plots and files."""

# License: BSD 3 clause

import html
import json
from itertools import combinations
from pathlib import Path

import numpy as np

from sklipo.metrics import METRICS, FoldConfusionMatrixDisplay, PerClassScoreDisplay

__all__ = [
    "plot_confusion_matrices",
    "plot_scores",
    "save",
    "text_table",
    "to_html",
    "to_markdown",
]

_HEADERS = {"tpr": "TPR", "tnr": "TNR", "ppv": "PPV", "npv": "NPV", "f1": "F1"}
# The scores over all classes shown under each model's table.
_SUMMARY_HEADERS = {"balanced_accuracy": "balanced accuracy", "f1_macro": "macro F1"}
_HTML_HEAD = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Model comparison</title>\n'
    "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ccc;"
    "text-align:right}td:first-child,th:first-child{text-align:left}</style>\n"
    "</head><body>"
)


def _model_blocks(result, metrics, digits):
    """The rows of every table: per model a title, rows (class, metrics, support), a summary."""
    shown = (*metrics, *_SUMMARY_HEADERS)
    means = {metric: result.mean_scores(metric) for metric in shown}
    stds = {metric: result.std_scores(metric) for metric in shown}
    support = result.mean_scores("support")

    def cell(metric, m, c=None):
        mean, std = means[metric][m], stds[metric][m]
        if c is not None:
            mean, std = mean[c], std[c]
        return "n/a" if np.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"

    blocks = []
    for m, model in enumerate(result.model_names):
        rows = [
            [name, *[cell(metric, m, c) for metric in metrics], _count(support[m][c])]
            for c, name in enumerate(result.class_names)
        ]
        summary = ", ".join(f"{header} {cell(s, m)}" for s, header in _SUMMARY_HEADERS.items())
        blocks.append((_model_title(result, m), rows, summary))
    return blocks


def _model_title(result, m):
    title = result.model_names[m]
    status = result.status[m]
    n_ok = int(np.sum(status == "ok"))
    if n_ok == result.n_folds:
        return f"{title} (fit {np.mean(result.fit_times[m]):.1f} s per fold)"
    if n_ok:
        return (
            f"{title} (fit {np.nanmean(result.fit_times[m]):.1f} s per fold; "
            f"{n_ok} of {result.n_folds} folds ran)"
        )
    if (status == "failed").all():
        return f"{title} (failed on every fold)"
    return f"{title} (no fold ran)"


def _header(metrics):
    return ["class", *[_HEADERS[m] for m in metrics], "support"]


def _intro(result):
    return (
        f"{result.n_folds}-fold cross-validation on {result.n_samples} samples; "
        "mean ± std over folds (support: test samples per fold)."
    )


def _not_run_line(result):
    folds = [f"{f['model']} fold {f['fold'] + 1}" for f in result.not_run()]
    return f"Not run (interrupted): {', '.join(folds)}." if folds else None


def text_table(result, metrics=METRICS, digits=3):
    """Plain-text table, see :meth:`ComparisonResult.table`."""
    header = _header(metrics)
    lines = [_intro(result)]
    for title, rows, summary in _model_blocks(result, metrics, digits):
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["", title]
        for row in [header, *rows]:
            cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:])]
            lines.append("  ".join(cells).rstrip())
        lines.append(summary)
    if result.errors:
        lines += ["", "Failures:"]
        lines += [f"  {e['model']} fold {e['fold'] + 1}: {e['error']}" for e in result.errors]
    not_run = _not_run_line(result)
    if not_run:
        lines += ["", not_run]
    return "\n".join(lines)


def _pair_rows(result):
    """Paired test of macro F1 for every pair of models."""
    rows = []
    for a, b in combinations(result.model_names, 2):
        test = result.paired_test(a, b)
        difference = "n/a" if np.isnan(test.mean_difference) else f"{test.mean_difference:+.3f}"
        p_value = "n/a" if np.isnan(test.p_value) else f"{test.p_value:.3f}"
        rows.append([f"{a} vs {b}", difference, f"{test.wins}/{test.n_folds}", p_value])
    return rows


def _document(result):
    """The report as a list of (kind, content...) items, rendered to Markdown or HTML."""
    items = [("h1", "Model comparison"), ("p", _intro(result))]
    for title, rows, summary in _model_blocks(result, METRICS, 3):
        items += [("h2", title), ("table", _header(METRICS), rows), ("p", summary)]
    pairs = _pair_rows(result)
    if pairs:
        items += [
            ("h2", "Paired tests (macro F1, corrected resampled t-test)"),
            ("table", ["models", "mean difference", "wins", "p-value"], pairs),
        ]
    items += [
        ("h2", "F1 per class"),
        ("img", "f1.png", "F1 per class"),
        ("h2", "Confusion matrices (row-normalised, mean ± std over folds)"),
        ("img", "confusion.png", "Confusion matrices"),
    ]
    if result.errors:
        failures = [(f"{e['model']} fold {e['fold'] + 1}", e["error"]) for e in result.errors]
        items += [("h2", "Failures"), ("list", failures)]
    not_run = _not_run_line(result)
    if not_run:
        items += [("h2", "Not run"), ("p", not_run)]
    return items


def _md_row(cells):
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


_MARKDOWN = {
    "h1": lambda text: [f"# {text}"],
    "h2": lambda text: [f"## {text}"],
    "p": lambda text: [text],
    "table": lambda header, rows: [
        _md_row(header),
        _md_row(["---"] * len(header)),
        *[_md_row(row) for row in rows],
    ],
    "img": lambda src, alt: [f"![{alt}]({src})"],
    "list": lambda entries: [f"- {text}: `{code}`" for text, code in entries],
}


def to_markdown(result):
    """The report in Markdown, its plots linked as ``f1.png`` and ``confusion.png``."""
    lines = []
    for kind, *content in _document(result):
        lines += [*_MARKDOWN[kind](*content), ""]
    return "\n".join(lines)


def _html_table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


_HTML = {
    "h1": lambda text: f"<h1>{html.escape(text)}</h1>",
    "h2": lambda text: f"<h2>{html.escape(text)}</h2>",
    "p": lambda text: f"<p>{html.escape(text)}</p>",
    "table": _html_table,
    "img": lambda src, alt: f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">',
    "list": lambda entries: "<ul>"
    + "".join(
        f"<li>{html.escape(text)}: <code>{html.escape(code)}</code></li>" for text, code in entries
    )
    + "</ul>",
}


def to_html(result):
    """The report as a standalone HTML page, its plots linked as in :func:`to_markdown`."""
    parts = [_HTML_HEAD, *[_HTML[kind](*content) for kind, *content in _document(result)]]
    return "\n".join([*parts, "</body></html>", ""])


def plot_scores(result, metric="f1", *, ax=None, title=None):
    """Grouped bar chart of a per-class metric, see :meth:`ComparisonResult.plot`."""
    display = PerClassScoreDisplay(
        result.mean_scores(metric),
        errors=result.std_scores(metric),
        model_names=result.model_names,
        class_names=list(result.class_names),
        metric=_HEADERS.get(metric, metric),
    )
    return display.plot(ax=ax, title=title)


def plot_confusion_matrices(result, *, normalize="true", cmap="Blues"):
    """Fold-averaged confusion matrices, see :meth:`ComparisonResult.plot_confusion_matrices`."""
    import matplotlib.pyplot as plt

    n_models, n_classes = len(result.model_names), len(result.labels)
    size = 1.3 * n_classes + 1.5
    figure, axes = plt.subplots(
        1, n_models, figsize=(size * n_models, size), squeeze=False, layout="constrained"
    )
    for ax, model, status in zip(axes[0], result.model_names, result.status):
        if not (status == "ok").any():
            ax.set_title(f"{model}: no fold ran")
            ax.set_axis_off()
            continue
        mean, std = result.confusion_matrix(model, normalize=normalize)
        FoldConfusionMatrixDisplay(mean, std=std, display_labels=result.class_names).plot(
            ax=ax, cmap=cmap, colorbar=False, title=model
        )
    return figure


def save(result, directory, *, overwrite=False):
    """Write the report files, see :meth:`ComparisonResult.save`."""
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
        json.dump(result.to_dict(), file, indent=1)
    display = plot_scores(result, "f1", title="F1 per class (mean ± std over folds)")
    display.figure_.savefig(directory / "f1.png", dpi=120, bbox_inches="tight")
    plt.close(display.figure_)
    figure = plot_confusion_matrices(result, normalize="true")
    figure.savefig(directory / "confusion.png", dpi=120, bbox_inches="tight")
    plt.close(figure)
    (directory / "report.md").write_text(to_markdown(result), encoding="utf-8")
    (directory / "report.html").write_text(to_html(result), encoding="utf-8")
    return directory


def _count(value):
    return "n/a" if np.isnan(value) else f"{value:.1f}"
