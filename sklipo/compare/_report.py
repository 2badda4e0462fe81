"""Rendering of a ComparisonResult: text table, Markdown, HTML, plots and files."""

# License: BSD 3 clause

import html
import json
from itertools import combinations
from pathlib import Path

import numpy as np

from sklipo.compare._population import POPULATION_SCORES
from sklipo.metrics import METRICS, FoldConfusionMatrixDisplay, PerClassScoreDisplay
from sklipo.utils import replace_folder

__all__ = [
    "plot_confusion_matrices",
    "plot_scores",
    "safe_class_names",
    "save",
    "text_table",
    "to_html",
    "to_markdown",
    "verdict",
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


def _p_text(test):
    return "p undefined" if np.isnan(test.p_value) else f"p = {test.p_value:.3f}"


def _significance(test, model, alpha):
    """Whether a paired test finds a difference at `alpha`, in words."""
    folds = f"{_p_text(test)}; {model} better on {test.wins} of {test.n_folds} folds"
    if np.isnan(test.p_value):
        return f"untestable ({folds})"
    return f"{'' if test.p_value < alpha else 'not '}significant ({folds})"


def verdict(result, *, alpha=0.05):
    """The verdict of a comparison, see :meth:`ComparisonResult.verdict`."""
    ran = [m for m in range(len(result.model_names)) if (result.status[m] == "ok").any()]
    data = {"alpha": alpha, "best": {}, "runner_up": None, "tests": {}, "ranking": []}
    if not ran:
        data["text"] = "No model ran on any fold: there is nothing to compare."
        return data
    means = {s: result.mean_scores(s) for s in _SUMMARY_HEADERS}
    stds = {s: result.std_scores(s) for s in _SUMMARY_HEADERS}
    names = result.model_names

    def best_of(summary, among):
        return max(among, key=lambda m: np.nan_to_num(means[summary][m], nan=-np.inf))

    ranked = sorted(ran, key=lambda m: -np.nan_to_num(means["balanced_accuracy"][m], nan=-np.inf))
    data["ranking"] = [names[m] for m in ranked]
    best = ranked[0]
    best_f1 = best_of("f1_macro", ran)
    data["best"] = {"balanced_accuracy": names[best], "f1_macro": names[best_f1]}

    def score(summary, m):
        return f"{means[summary][m]:.3f} ± {stds[summary][m]:.3f}"

    unreliable = [entry["class"] for entry in result.unreliable_classes()]
    caveat = (
        f"The numbers of {', '.join(unreliable)} rest on fewer than "
        f"{result.min_test_support} test samples per fold and are unreliable."
    )
    if len(ran) == 1:
        data["text"] = (
            f"Only {names[best]} ran: balanced accuracy {score('balanced_accuracy', best)}, "
            f"macro F1 {score('f1_macro', best)} over {result.n_folds} folds; there is no "
            "other model to compare it with." + (f" {caveat}" if unreliable else "")
        )
        return data
    runner = best_f1 if best_f1 != best else ranked[1]
    data["runner_up"] = names[runner]
    a, b = names[best], names[runner]
    tests = {s: result.paired_test(a, b, metric=s) for s in _SUMMARY_HEADERS}
    class_metrics = {
        str(c): f"f1_{safe}"
        for c, safe in zip(result.class_names, safe_class_names(result.class_names))
    }
    per_class = {c: result.paired_test(a, b, metric=m) for c, m in class_metrics.items()}
    data["tests"] = {**tests, "f1_per_class": per_class}

    def versus(summary):
        return (
            f"{score(summary, best)} against {score(summary, runner)} for {b}, "
            f"{tests[summary].mean_difference:+.3f}"
        )

    if best == best_f1:
        sentences = [
            f"{a} is the best model on both balanced accuracy ({versus('balanced_accuracy')}) "
            f"and macro F1 ({versus('f1_macro')})."
        ]
    else:
        sentences = [
            f"{a} is the best model on balanced accuracy ({versus('balanced_accuracy')}), "
            f"but {b} is best on macro F1 ({score('f1_macro', runner)} against "
            f"{score('f1_macro', best)} for {a})."
        ]
    sentences.append(
        f"At the {alpha:g} level, the corrected resampled t-test over "
        f"{tests['balanced_accuracy'].n_folds} folds (Nadeau and Bengio) finds the "
        f"difference between {a} and {b} in balanced accuracy "
        f"{_significance(tests['balanced_accuracy'], a, alpha)}, and in macro F1 "
        f"{_significance(tests['f1_macro'], a, alpha)}."
    )
    differ = [c for c, t in per_class.items() if t.p_value < alpha]
    if differ:
        sentences.append(
            "Per class, their F1 differs significantly for "
            + ", ".join(
                f"{c} ({per_class[c].mean_difference:+.3f}, {_p_text(per_class[c])})"
                for c in differ
            )
            + "."
        )
    else:
        largest = max(per_class, key=lambda c: np.nan_to_num(abs(per_class[c].mean_difference)))
        sentences.append(
            f"No class's F1 differs significantly; the largest difference is for {largest} "
            f"({per_class[largest].mean_difference:+.3f}, {_p_text(per_class[largest])})."
        )
    if len(ran) > 2:
        sentences.append(
            "All models by balanced accuracy: "
            + ", ".join(f"{names[m]} {means['balanced_accuracy'][m]:.3f}" for m in ranked)
            + "."
        )
    if unreliable:
        sentences.append(caveat)
    data["text"] = " ".join(sentences)
    return data


def safe_class_names(class_names):
    """Class names as metric names use them: characters other than [A-Za-z0-9_] as "_"."""
    return ["".join(c if c.isalnum() or c == "_" else "_" for c in n) for n in class_names]


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
