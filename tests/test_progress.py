"""Tests of the progress reports and thread limits of long runs."""

import io
import sys

import pytest

from sklipo._progress import EpochLog, Progress, format_duration, limit_threads


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    "seconds, text", [(0.04, "0.0 s"), (42, "42 s"), (185, "3 min 05 s"), (7260, "2 h 01 min")]
)
def test_format_duration(seconds, text):
    """Check the short durations of progress lines."""
    assert format_duration(seconds) == text


def test_progress_prints_plain_lines_off_a_terminal():
    """Check one line per step with the time elapsed, and the time left until the last."""
    out = io.StringIO()
    with Progress(3, "[x] step", file=out) as progress:
        for k in range(3):
            progress.update(f"score {k}")
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [
        "[x] step 1/3: score 0", "[x] step 2/3: score 1", "[x] step 3/3: score 2"
    ]
    assert all("elapsed, about" in line for line in lines[:2])
    assert lines[2].endswith("elapsed)") and "\r" not in out.getvalue()


def test_progress_draws_a_bar_on_a_terminal():
    """Check that a terminal gets a tqdm bar, with messages above it or in it."""
    terminal = _Terminal()
    with Progress(2, "[x] fit", file=terminal, keep_lines=True) as progress:
        progress.update("first")
    assert "[x] fit 1/2: first" in terminal.getvalue() and "\r" in terminal.getvalue()
    terminal = _Terminal()
    with Progress(2, "[x] epoch", file=terminal, keep_lines=False) as progress:
        progress.update("loss 0.5")
    assert "[x] epoch 1/2: loss" not in terminal.getvalue()
    assert "0/2" in terminal.getvalue()


def test_epoch_log_turns_skorch_rows_into_steps():
    """Check that each row of skorch's epoch table becomes one progress line."""
    out = io.StringIO()
    progress = Progress(2, "[train] epoch", file=out)
    log = EpochLog(progress, out)
    log.write("  epoch    train_loss     dur\n-------  ------------  ------\n")
    log.write("      1        \x1b[36m1.0986\x1b[0m  0.1234\n      2        0.9")
    log.write("500  0.1100\nsomething else\n")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[train] epoch 1/2: train_loss 1.0986, 0.1 s (")
    assert lines[1].startswith("[train] epoch 2/2: train_loss 0.9500, 0.1 s (")
    assert lines[2] == "something else"


def test_limit_threads_sets_torch_and_restores_it():
    """Check that torch, once imported, runs with the limit inside the block only."""
    torch = pytest.importorskip("torch")
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
    with limit_threads(None):
        assert torch.get_num_threads() == before


def test_limit_threads_does_not_import_torch(monkeypatch):
    """Check that an SVM-only run (torch not imported) does not import torch."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    with limit_threads(1):
        assert "torch" not in sys.modules
