"""Tests of the ``sklipo`` command, run in-process at tiny size."""

import csv
import io
import json

import joblib
import numpy as np
import pytest

from sklipo.cli import main
from sklipo.datasets import make_liposomes, save_particles

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

TINY = ["--balanced", "--n-samples", "45", "--random-state", "0"]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A logistic model trained by ``sklipo train`` on tiny synthetic data."""
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    assert main(["train", *TINY, "--model", "logistic", "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def particle_dir(tmp_path_factory):
    """Nine saved particles in class folders with masks and a manifest."""
    data = make_liposomes("lamellarity", 9, weights=[1, 1, 1], dtype="uint8", random_state=1)
    path = tmp_path_factory.mktemp("particles") / "particles"
    save_particles(data.data, data.target, path, target_names=data.target_names)
    return path


def test_cli_compare_writes_report(tmp_path, capsys):
    """Check that compare prints the table and writes a readable report."""
    out = tmp_path / "report"
    status = main(
        ["compare", *TINY, "--models", "logistic,lipnet2", "--epochs", "1", "--cv", "3",
         "--out", str(out)]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "lipnet2 (fit" in printed and "uncertain" in printed
    data = json.loads((out / "results.json").read_text())
    assert list(data["models"]) == ["logistic", "lipnet2"]
    assert data["classes"] == ["unilamellar", "multilamellar", "uncertain"]
    assert (out / "f1.png").stat().st_size > 0 and (out / "confusion.png").exists()


def test_cli_compare_refuses_existing_out_without_force(tmp_path, capsys):
    """Check that an existing --out is not overwritten unless --force is given."""
    out = tmp_path / "report"
    out.mkdir()
    (out / "old.txt").write_text("old")
    args = ["compare", *TINY, "--models", "logistic", "--cv", "2", "--out", str(out)]
    assert main(args) == 1
    assert "exists; choose another --out or pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert (out / "report.md").exists() and (out / "old.txt").read_text() == "old"


def test_cli_demo_is_compare_alias(capsys):
    """Check that ``demo`` runs compare on the synthetic data."""
    assert main(["demo", "--problem", "encapsulation", *TINY, "--models", "logistic", "--cv", "2"]) == 0
    assert "synthetic encapsulation liposomes" in capsys.readouterr().out


def test_cli_compare_empty_class_folder(tmp_path, particle_dir, capsys):
    """Check the loader's clear error for a class folder holding no images."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(particle_dir, data)
    (data / "manifest.csv").unlink()
    (data / "empty_class").mkdir()
    assert main(["compare", "--data", str(data), "--models", "logistic", "--cv", "2"]) == 1
    err = capsys.readouterr().err
    assert "empty_class" in err and "holds no images" in err


def test_cli_compare_unknown_model():
    """Check that argparse rejects an unknown model name."""
    with pytest.raises(SystemExit):
        main(["compare", "--models", "lipnet9"])


def test_cli_train_and_predict(model_file, particle_dir, tmp_path):
    """Check the CSV of ids, labels and probabilities on other-sized images."""
    bundle = joblib.load(model_file)
    assert bundle["classes"] == ["unilamellar", "multilamellar", "uncertain"]
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model_file), str(particle_dir), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 9
    assert set(rows[0]) == {
        "id", "label", "p_multilamellar", "p_uncertain", "p_unilamellar", "folder_label"
    }
    assert {row["label"] for row in rows} <= set(bundle["classes"])
    proba = np.array([[float(row[f"p_{c}"]) for c in bundle["classes"]] for row in rows])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_cli_predict_flat_folder_to_stdout(model_file, particle_dir, tmp_path, capsys):
    """Check prediction of images lying directly in a folder, printed as CSV."""
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in particle_dir.glob("*/*.png"):
        (flat / path.name).write_bytes(path.read_bytes())
    capsys.readouterr()
    assert main(["predict", str(model_file), str(flat)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["id", "label"] and len(rows) == 10


def test_cli_predict_rejects_other_channel_count(model_file, tmp_path, capsys):
    """Check the clear error for RGB images given to a grayscale model."""
    from sklipo.datasets._image_files import write_image

    folder = tmp_path / "rgb"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for k in range(2):
        write_image(folder / f"p{k}.png", (rng.rand(40, 50, 3) * 255).astype(np.uint8))
    assert main(["predict", str(model_file), str(folder), "--no-masks"]) == 1
    err = capsys.readouterr().err
    assert "trained on images with 1 channel(s)" in err and "have 3" in err


def test_cli_predict_missing_masks_and_bad_model(model_file, tmp_path, capsys):
    """Check the errors for images without masks and a file that is not a model."""
    from sklipo.datasets._image_files import write_image

    folder = tmp_path / "nomask"
    folder.mkdir()
    write_image(folder / "p0.png", np.zeros((30, 30), dtype=np.uint8))
    assert main(["predict", str(model_file), str(folder)]) == 1
    assert "--no-masks" in capsys.readouterr().err
    other = tmp_path / "other.joblib"
    joblib.dump([1, 2], other)
    assert main(["predict", str(other), str(folder), "--no-masks"]) == 1
    assert "not a model saved by 'sklipo train'" in capsys.readouterr().err


def test_cli_train_refuses_existing_out(model_file, capsys):
    """Check that train does not overwrite a model file without --force."""
    before = model_file.stat().st_mtime
    assert main(["train", *TINY, "--model", "logistic", "--out", str(model_file)]) == 1
    assert "--force" in capsys.readouterr().err
    assert model_file.stat().st_mtime == before
