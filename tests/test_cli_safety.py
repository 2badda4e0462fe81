"""The command line never loses files, says when it was interrupted or a fold failed."""

import io
import json
import os
import sys

import pytest

from sklipo.cli import main
from sklipo.compare import _compare

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

TINY = ["--balanced", "--n-samples", "30", "--random-state", "0"]
COMPARE = ["compare", *TINY, "--models", "logistic,svm", "--cv", "2"]


def _patch_run_fold(monkeypatch, on_call):
    run_fold = _compare._run_fold
    calls = []

    def patched(*args, **kwargs):
        calls.append(1)
        return on_call(len(calls), run_fold, *args, **kwargs)

    monkeypatch.setattr(_compare, "_run_fold", patched)


def test_cli_compare_interrupted_saves_a_partial_report_and_exits_130(
    tmp_path, monkeypatch, capsys
):
    """Check that Ctrl-C during compare is reported, not 'Done', with exit status 130."""

    def on_call(n, run_fold, *args):
        if n == 3:  # the first fold of both models ran
            raise KeyboardInterrupt
        return run_fold(*args)

    _patch_run_fold(monkeypatch, on_call)
    out = tmp_path / "report"
    assert main([*COMPARE, "--out", str(out)]) == 130
    captured = capsys.readouterr()
    assert "Done" not in captured.out and "Interrupted" in captured.err
    assert "Report partial" in captured.out
    report = (out / "report.md").read_text()
    assert "Not run (interrupted)" in report and "failed on every fold" not in report
    data = json.loads((out / "results.json").read_text())
    assert data["models"]


def test_cli_compare_failed_fold_exits_1_naming_model_fold_and_error(monkeypatch, capsys):
    """Check that a failed fold makes the run fail, with the model, fold and error."""

    def on_call(n, run_fold, *args):
        if n == 2:
            return {"error": "ValueError: boom", "traceback": ""}
        return run_fold(*args)

    _patch_run_fold(monkeypatch, on_call)
    assert main(COMPARE) == 1
    err = capsys.readouterr().err
    assert "svm failed on fold 1 of 2: ValueError: boom" in err
    # the warning is one plain line, without a source path
    assert "warning (FitFailedWarning): Model 'svm' failed on fold 1" in err
    assert ".py:" not in err


def test_cli_train_creates_missing_parent_folders(tmp_path):
    out = tmp_path / "a" / "b" / "model.joblib"
    assert main(["train", *TINY, "--model", "logistic", "--out", str(out)]) == 0
    assert out.is_file()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_cli_train_refuses_read_only_out_before_training(tmp_path, capsys, monkeypatch):
    """Check that an --out that cannot be written is refused before any work."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    from sklipo.cli import _train

    monkeypatch.setattr(_train, "_load_labelled", lambda args: pytest.fail("trained first"))
    assert main(["train", *TINY, "--model", "logistic", "--out", str(folder / "m.joblib")]) == 1
    assert "Cannot write --out" in capsys.readouterr().err


def test_cli_train_interrupted_exits_130(monkeypatch, capsys):
    from sklipo.cli import _train

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(_train, "_load_labelled", interrupted)
    assert main(["train", *TINY, "--model", "logistic", "--out", "unused.joblib"]) == 130
    assert "interrupted" in capsys.readouterr().err


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_cli_closed_pipe_ends_quietly(tmp_path, monkeypatch, capsys):
    """Check that `sklipo predict ... | head` ends without a traceback or error line."""
    model = tmp_path / "m.joblib"
    assert main(["train", *TINY, "--model", "logistic", "--out", str(model)]) == 0
    from sklipo.datasets import make_liposomes, save_particles

    data = make_liposomes("lamellarity", 6, weights=[1, 1, 1], dtype="uint8", random_state=1)
    folder = save_particles(data.data, data.target, tmp_path / "p", target_names=data.target_names)
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main(["predict", str(model), str(folder)]) == 141
    err = capsys.readouterr().err  # the progress line only
    assert "error" not in err and "Traceback" not in err and "Broken pipe" not in err


@pytest.fixture(scope="module")
def masked_folder(tmp_path_factory):
    """Twelve particles with mask files, in class folders (no manifest) and flat."""
    import shutil

    from sklipo.datasets import make_liposomes, save_particles

    data = make_liposomes("lamellarity", 12, weights=[1, 1, 1], random_state=0)
    root = tmp_path_factory.mktemp("masked")
    classes = save_particles(data.data, data.target, root / "classes",
                             target_names=data.target_names)
    (classes / "manifest.csv").unlink()
    flat = root / "flat"
    flat.mkdir()
    for file in classes.glob("*/*"):
        shutil.copy(file, flat / file.name)
    return classes, flat


@pytest.mark.parametrize("layout", ["classes", "flat"])
def test_cli_predict_no_masks_leaves_mask_files_out(masked_folder, layout, tmp_path, capsys):
    """Check that predict --no-masks classifies the 12 images, not their 12 masks too."""
    folder = masked_folder[0] if layout == "classes" else masked_folder[1]
    model = tmp_path / "model.joblib"
    assert main(["train", *TINY, "--model", "logistic", "--out", str(model)]) == 0
    out = tmp_path / "predictions.csv"
    assert main(["predict", str(model), str(folder), "--no-masks", "--out", str(out)]) == 0
    ids = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert len(ids) == 12 and not any(i.endswith("_mask") for i in ids)
    err = capsys.readouterr().err
    assert "sklipo predict: warning: left out 12 mask file(s) (*_mask.*)" in err
    assert len(err.strip().splitlines()) == 1


def test_cli_inspect_force_removes_the_earlier_plots(masked_folder, tmp_path, capsys):
    """Check that inspect --force into an earlier inspection's folder keeps no old plot."""
    out = tmp_path / "plots"
    out.mkdir()
    # an earlier inspection of a deeper network, and a file of the user's
    for name in ["kernels_conv9.png", "feature_maps.png", "saliency.png"]:
        (out / name).write_bytes(b"old plot")
    (out / "notes.txt").write_text("mine")
    model = tmp_path / "lipnet.joblib"
    args = ["train", *TINY, "--model", "lipnet1", "--epochs", "1", "--size", "16"]
    assert main([*args, "--out", str(model)]) == 0
    image = min(masked_folder[1].glob("*[0-9].tif"))
    assert main(["inspect", str(model), str(image), "--out", str(out), "--force"]) == 0
    assert not (out / "kernels_conv9.png").exists()
    assert (out / "saliency.png").read_bytes() != b"old plot"
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("error", [TypeError, ValueError])
def test_cli_library_error_is_one_line_unless_sklipo_debug(monkeypatch, capsys, error):
    """Check that a TypeError/ValueError from library code is one plain line, exit 1,
    and that SKLIPO_DEBUG=1 keeps the traceback so real bugs are not hidden."""
    import argparse

    import sklipo.cli

    def handler(args):
        raise error("n_neighbors must be an int, got 'x'")

    class Parser:
        def parse_args(self, argv):
            return argparse.Namespace(command="train", handler=handler)

    monkeypatch.setattr(sklipo.cli, "_build_parser", Parser)
    monkeypatch.delenv("SKLIPO_DEBUG", raising=False)
    assert main(["train"]) == 1
    err = capsys.readouterr().err
    assert err == "sklipo train: error: n_neighbors must be an int, got 'x'\n"
    assert "Traceback" not in err
    for off in ("0", ""):
        monkeypatch.setenv("SKLIPO_DEBUG", off)
        assert main(["train"]) == 1
    monkeypatch.setenv("SKLIPO_DEBUG", "1")
    with pytest.raises(error, match="n_neighbors"):
        main(["train"])
