"""Tests of the progress reports and thread limits of long runs."""

import io
import pickle
import re
import sys

import numpy as np
import pytest

from sklipo._progress import Progress, format_duration, limit_threads


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


def test_epoch_progress_reports_each_epoch_of_a_fit(capsys):
    """Check that the callback makes each epoch of a LipNet fit one progress line."""
    from sklipo._epoch_progress import EpochProgress
    from sklipo.classifier import LipNetClassifier

    X = np.random.RandomState(0).rand(24, 16, 16).astype(np.float32)
    clf = LipNetClassifier(
        "lipnet1", max_epochs=2, early_stopping=True, validation_fraction=0.25,
        callbacks=[EpochProgress("[x] epoch", bar=False)], random_state=0,
    ).fit(X, [0, 1] * 12)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["[x] epoch 1/2", "[x] epoch 2/2"]
    assert re.match(r"\[x\] epoch 1/2: train_loss \d\.\d{4}, valid_loss \d\.\d{4}, "
                    r"\d+\.\d s \(.* elapsed, about .* left\)$", lines[0])
    # the fitted clone let go of its progress; the parameter's own was never used
    fitted = dict(clf.net_.callbacks_)["EpochProgress"]
    assert not hasattr(fitted, "progress_") and fitted is not clf.callbacks[0]
    assert vars(clf.callbacks[0]) == {"desc": "[x] epoch", "bar": False, "keep_lines": False}


def test_epoch_progress_draws_a_bar_and_pickles(capsys):
    """Check the bar on standard error, and that a callback in use pickles without it."""
    from sklipo._epoch_progress import EpochProgress

    class _Net:
        max_epochs = 3
        history = [{"epoch": 1, "train_loss": 0.5, "train_loss_best": True, "dur": 0.25}]

    callback = EpochProgress("[x] epoch", bar=True)
    callback.on_train_begin(_Net())
    callback.on_epoch_end(_Net())
    copy = pickle.loads(pickle.dumps(callback))
    assert not hasattr(copy, "progress_") and copy.get_params() == callback.get_params()
    callback.on_train_end(_Net())
    captured = capsys.readouterr()
    assert "\r[x] epoch:" in captured.err and "/3" in captured.err and captured.out == ""
    assert not hasattr(callback, "progress_")


def test_epoch_progress_scores_skip_bookkeeping():
    """Check that an epoch's message holds its scores and duration, not flags or counts."""
    from sklipo._epoch_progress import _scores

    row = {"epoch": 3, "batches": [], "train_loss": 0.91234, "train_loss_best": False,
           "train_batch_count": 3, "valid_acc": 0.5, "event_cp": True, "note": "x", "dur": 1.234}
    assert _scores(row) == "train_loss 0.9123, valid_acc 0.5000, 1.2 s"


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
