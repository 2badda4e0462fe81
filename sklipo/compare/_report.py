"""Rendering of a ComparisonResult: text table, Markdown, HTML, plots and files."""

# License: BSD 3 clause

import html
import json
from itertools import combinations
from pathlib import Path

import numpy as np

from sklipo.compare._population import POPULATION_SCORES
from sklipo.compare._verdict import SUMMARY_HEADERS as _SUMMARY_HEADERS
from sklipo.metrics import METRICS, FoldConfusionMatrixDisplay, PerClassScoreDisplay
from sklipo.utils import replace_folder

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

    unreliable = {entry["class"] for entry in result.unreliable_classes()}
    population = result.population_scores()
    blocks = []
    for m, model in enumerate(result.model_names):
        rows = [
            [
                f"{name} *" if name in unreliable else name,
                *[cell(metric, m, c) for metric in metrics],
                _count(support[m][c]),
            ]
            for c, name in enumerate(result.class_names)
        ]
        summary = ", ".join(
            [*(f"{header} {cell(s, m)}" for s, header in _SUMMARY_HEADERS.items()),
             *_population_cells(population, m, digits)]
        )
        blocks.append((_model_title(result, m), rows, summary))
    return blocks


def _population_cells(population, m, digits):
    """ECE and the shifted-prior share errors of model `m`, each where it was measured."""
    cells = []
    for name, header in POPULATION_SCORES.items():
        mean, std = population[name]["mean"][m], population[name]["std"][m]
        if not np.isnan(mean):
            cells.append(f"{header} {mean:.{digits}f} ± {std:.{digits}f}")
    return cells


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
    described = (result.provenance or {}).get("data", {}).get("description")
    source = f" of {described}" if described else ""
    return (
        f"{result.n_folds}-fold cross-validation on {result.n_samples} samples{source}; "
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
    notes = _reliability_notes(result)
    if notes:
        lines += ["", _RELIABILITY_HEAD.format(n=result.min_test_support)]
        lines += [f"  {note}" for note in notes]
    if result.errors:
        lines += ["", "Failures:"]
        lines += [f"  {e['model']} fold {e['fold'] + 1}: {e['error']}" for e in result.errors]
    not_run = _not_run_line(result)
    if not_run:
        lines += ["", not_run]
    return "\n".join(lines)


_RELIABILITY_HEAD = (
    "* Unreliable: fewer than {n} test samples per fold, or absent from a fold; "
    "one sample more or less moves the per-class numbers by a large step, so "
    "they show their range over folds:"
)


def _reliability_notes(result):
    """One line per unreliable class: its test support and the range of its scores."""
    notes = []
    for entry in result.unreliable_classes():
        support = entry["support"]
        low, high = min(support), max(support)
        spread = f"{low}" if low == high else f"{low} to {high}"
        samples = "sample" if high == 1 else "samples"
        note = f"{entry['class']}: {spread} test {samples} per fold"
        if entry["absent_folds"]:
            folds = ", ".join(str(k + 1) for k in entry["absent_folds"])
            note += f", absent from fold(s) {folds} (balanced accuracy leaves it out there)"
        ranges = [
            f"{model} TPR {r['tpr'][0]:.2f} to {r['tpr'][1]:.2f}, F1 {r['f1'][0]:.2f} to "
            f"{r['f1'][1]:.2f}"
            for model, r in entry["ranges"].items()
        ]
        notes.append(note + (f"; over folds: {'; '.join(ranges)}" if ranges else "") + ".")
    return notes


def _provenance_fields(result):
    """The provenance as (text, code) list entries of the report."""
    p = result.provenance
    if not p:
        return []
    data = p["data"]
    counts = ", ".join(f"{name} {count}" for name, count in data["class_counts"].items())
    seeds = [
        f"{key} {value}"
        if not isinstance(value, dict)
        else f"{key}: " + ", ".join(f"{k}={v}" for k, v in value.items())
        for key, value in p["seeds"].items()
    ]
    machine = p["machine"]
    computer = f"{machine['platform']} ({machine['processor']}), {machine['cpu_count']} CPUs"
    if "torch_threads" in machine:
        computer += f", torch threads {machine['torch_threads']}"
    wall = p.get("wall_time")
    fields = [
        f"Data: {data['description'] or 'not described'}; {data['n_samples']} samples ({counts})",
        f"Folds: {p['folds']['n_folds']}, {p['folds']['splitter']}; test samples per fold "
        + ", ".join(str(n) for n in p["folds"]["test_sizes"]),
        f"Seeds: {'; '.join(seeds)}",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in p["versions"].items()),
        f"Machine: {computer}",
        f"Run: started {p['started']}" + ("" if wall is None else f", wall time {wall:.1f} s"),
    ]
    entries = [(text, None) for text in fields]
    entries[3:3] = [(f"Model {name}", model["estimator"]) for name, model in p["models"].items()]
    return entries


def _pair_rows(result):
    """Paired tests of balanced accuracy and macro F1 for every pair of models."""
    rows = []
    for a, b in combinations(result.model_names, 2):
        for summary, header in _SUMMARY_HEADERS.items():
            test = result.paired_test(a, b, metric=summary)
            difference = (
                "n/a" if np.isnan(test.mean_difference) else f"{test.mean_difference:+.3f}"
            )
            p_value = "n/a" if np.isnan(test.p_value) else f"{test.p_value:.3f}"
            rows.append(
                [f"{a} vs {b}", header, difference, f"{test.wins}/{test.n_folds}", p_value]
            )
    return rows


def _document(result):
    """The report as a list of (kind, content...) items, rendered to Markdown or HTML."""
    items = [
        ("h1", "Model comparison"),
        ("h2", "Verdict"),
        ("p", result.verdict()["text"]),
        ("p", _intro(result)),
    ]
    notes = _reliability_notes(result)
    for title, rows, summary in _model_blocks(result, METRICS, 3):
        items += [("h2", title), ("table", _header(METRICS), rows), ("p", summary)]
    if notes:
        items += [
            ("h2", "Unreliable classes"),
            ("p", _RELIABILITY_HEAD.format(n=result.min_test_support)),
            ("list", [(note, None) for note in notes]),
        ]
    pairs = _pair_rows(result)
    if pairs:
        items += [
            ("h2", "Paired tests (corrected resampled t-test over folds)"),
            (
                "table",
                ["models", "metric", "mean difference (A - B)", "wins of A", "p-value"],
                pairs,
            ),
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
    provenance = _provenance_fields(result)
    if provenance:
        items += [("h2", "Provenance"), ("list", provenance)]
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
    "list": lambda entries: [
        f"- {text}" if code is None else f"- {text}: `{code}`" for text, code in entries
    ],
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
        f"<li>{html.escape(text)}</li>"
        if code is None
        else f"<li>{html.escape(text)}: <code>{html.escape(code)}</code></li>"
        for text, code in entries
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


_REPORT_FILES = ("results.json", "f1.png", "confusion.png", "report.md", "report.html")


def _write_report(result, directory):
    import matplotlib.pyplot as plt

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


def save(result, directory, *, overwrite=False):
    """Write the report files, see :meth:`ComparisonResult.save`."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"'{directory}' exists and is not a folder.")
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(
            f"The folder '{directory}' is not empty; choose another or pass "
            "overwrite=True (--force on the command line) to write the report into it."
        )
    # Every file is written into a folder beside `directory` and swapped in
    # together: a failure half-way never mixes a new results.json with an
    # old report.md. Files of the folder that are not report files are kept.
    keep = []
    if directory.is_dir():
        keep = [
            file.relative_to(directory).as_posix()
            for file in directory.rglob("*")
            if file.is_file() and file.relative_to(directory).as_posix() not in _REPORT_FILES
        ]
    directory.parent.mkdir(parents=True, exist_ok=True)
    with replace_folder(directory, keep=keep) as temp:
        _write_report(result, temp)
    return directory


def _count(value):
    return "n/a" if np.isnan(value) else f"{value:.1f}"
