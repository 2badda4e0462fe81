"""Tests of the ``sklipo tune`` command."""

import argparse

import pytest

from sklipo.cli import main
from sklipo.cli._types import _parse_budget


@pytest.mark.parametrize("text, seconds", [("90", 90.0), ("90s", 90.0), ("30m", 1800.0), ("1.5h", 5400.0)])
def test_parse_budget(text, seconds):
    assert _parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "0"])
def test_parse_budget_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError, match="budget"):
        _parse_budget(text)


def test_tune_writes_model_card_and_report(tmp_path, capsys):
    """Check that tune saves the best recipe with its card and a Markdown report."""
    out = tmp_path / "best.joblib"
    status = main(["tune", "--n-samples", "36", "--balanced", "--budget", "5",
                   "--families", "svm", "--cv", "2", "--threads", "1", "--out", str(out)])
    assert status == 0
    assert out.exists() and (tmp_path / "best.joblib.card.json").exists()
    report = (tmp_path / "best.md").read_text()
    assert "## Chosen recipe" in report and "svm" in report
