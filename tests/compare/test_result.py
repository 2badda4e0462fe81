"""Tests of ComparisonResult: tables, frame, JSON, plots and the saved report."""

import json

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression

from sklipo.compare import compare

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

X, Y = make_classification(
    n_samples=200, n_classes=3, n_informative=5, weights=[0.6, 0.3, 0.1], random_state=0
)
NAMES = ["unilamellar", "multilamellar", "uncertain"]
RESULT = compare(
    {"logistic": LogisticRegression(max_iter=1000), "dummy": DummyClassifier()},
    X,
    Y,
    cv=4,
    target_names=NAMES,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_result_table_shows_mean_and_std():
    """Check that the table prints each class's mean ± std of the fold scores."""
    table = RESULT.table(digits=2)
    f1 = RESULT.fold_scores("f1")[0, :, 2]
    assert f"{f1.mean():.2f} ± {f1.std():.2f}" in table.splitlines()[6]
    assert table.splitlines()[6].startswith("uncertain")
    assert "4-fold cross-validation on 200 samples" in table
    assert "macro F1" in table and "Failures" not in table


def test_result_to_frame_groups_to_means():
    """Check that the tidy frame averages to mean_scores."""
    pytest.importorskip("pandas")
    frame = RESULT.to_frame()
    assert len(frame) == 2 * 4 * 3
    means = frame.groupby(["model", "class"], sort=False)["tpr"].mean()
    np.testing.assert_allclose(means["logistic"].to_numpy(), RESULT.mean_scores("tpr")[0])


def test_result_confusion_matrix_rows():
    """Check the fold-averaged confusion matrix, raw and row-normalised."""
    raw, _ = RESULT.confusion_matrix("logistic")
    assert raw.sum() == pytest.approx(len(Y) / 4)
    normalised, _ = RESULT.confusion_matrix("logistic", normalize="true")
    np.testing.assert_allclose(np.diagonal(normalised), RESULT.mean_scores("tpr")[0])
    with pytest.raises(ValueError, match="Unknown model 'svm'"):
        RESULT.confusion_matrix("svm")


def test_result_paired_test():
    """Check that the logistic model beats the dummy on every fold."""
    test = RESULT.paired_test("logistic", "dummy")
    assert test.wins == 4 and test.losses == 0
    assert test.mean_difference > 0.3 and test.p_value < 0.05
    per_class = RESULT.paired_test("logistic", "dummy", metric="f1_uncertain")
    assert per_class.mean_difference == pytest.approx(
        RESULT.mean_scores("f1")[0, 2] - RESULT.mean_scores("f1")[1, 2]
    )
    with pytest.raises(ValueError, match="Unknown metric 'f1_empty'"):
        RESULT.paired_test("logistic", "dummy", metric="f1_empty")


def test_result_plots():
    """Check the bar chart (one group per model) and the confusion-matrix grid."""
    display = RESULT.plot("f1")
    assert len(display.bars_) == 2
    figure = RESULT.plot_confusion_matrices(normalize=None)
    assert [ax.get_title() for ax in figure.axes] == ["logistic", "dummy"]


def test_result_save_writes_report(tmp_path):
    """Check the report files and that the JSON holds the table's numbers."""
    out = RESULT.save(tmp_path / "report")
    names = {p.name for p in out.iterdir()}
    assert names == {"report.md", "report.html", "results.json", "f1.png", "confusion.png"}
    data = json.loads((out / "results.json").read_text())
    assert data["classes"] == NAMES
    np.testing.assert_allclose(
        data["models"]["logistic"]["scores"]["f1"]["mean"], RESULT.mean_scores("f1")[0]
    )
    assert len(data["models"]["dummy"]["confusion_matrices"]) == 4
    markdown = (out / "report.md").read_text()
    assert "![F1 per class](f1.png)" in markdown and "logistic vs dummy" in markdown
    assert "<table>" in (out / "report.html").read_text()
    assert data["models"]["logistic"]["status"] == ["ok"] * 4 and data["not_run"] == []


def test_result_markdown_and_html_show_the_same_rows(tmp_path):
    """Check that every Markdown table row is an HTML table row too."""
    out = RESULT.save(tmp_path / "report")
    markdown = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]
    # two models' tables, then the paired tests: a header and two metrics for one pair
    assert len(rows) == 2 * (1 + 3) + 1 + 2
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split(" | ")]
        tag = "th" if cells[0] in ("class", "models") else "td"
        assert "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) in page


def test_result_save_refuses_non_empty_folder(tmp_path):
    """Check that an existing non-empty folder is only written with overwrite=True."""
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        RESULT.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"notes.txt"}
    RESULT.save(tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert (tmp_path / "report.md").exists()


def test_result_json_null_for_failed_model(tmp_path):
    """Check that a model failing everywhere is NaN in tables and null in JSON."""

    class Broken(DummyClassifier):
        def fit(self, X, y):
            raise ValueError("no")

    with pytest.warns(FitFailedWarning, match="Model 'broken' failed on fold [12] of 2"):
        result = compare({"ok": DummyClassifier(), "broken": Broken()}, X, Y, cv=2)
    data = result.to_dict()
    assert data["models"]["broken"]["scores"]["f1"]["mean"] == [None, None, None]
    assert len(data["errors"]) == 2
    assert "failed on every fold" in result.table()
    assert data["models"]["broken"]["status"] == ["failed", "failed"]
    result.save(tmp_path / "r")
    json.loads((tmp_path / "r" / "results.json").read_text())
