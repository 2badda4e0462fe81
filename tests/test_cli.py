"""Tests of the ``sklipo`` command, run in-process at tiny size."""

import csv
import io
import json

import joblib
import numpy as np
import pytest

from sklipo.cli import main
from sklipo.datasets import make_liposomes, save_particles
from sklipo.deployment import card_path, load_card

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
    """Check the model card of train, and predict's CSV on other-sized images."""
    card = load_card(model_file)
    assert card["classes"] == ["multilamellar", "uncertain", "unilamellar"]
    assert card["input"]["channels"] == 1 and card["training_data"]["n_samples"] == 45
    assert card["metadata"]["sklipo_train"] == {
        "model": "logistic", "masks": True, "input_mode": "masked"
    }
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model_file), str(particle_dir), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 9
    assert set(rows[0]) == {
        "id", "label", "p_multilamellar", "p_uncertain", "p_unilamellar", "folder_label"
    }
    assert {row["label"] for row in rows} <= set(card["classes"])
    proba = np.array([[float(row[f"p_{c}"]) for c in card["classes"]] for row in rows])
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
    assert "has no model card 'other.joblib.card.json'" in capsys.readouterr().err


def test_cli_train_refuses_existing_out(model_file, capsys):
    """Check that train does not overwrite a model file without --force."""
    before = model_file.stat().st_mtime
    assert main(["train", *TINY, "--model", "logistic", "--out", str(model_file)]) == 1
    assert "--force" in capsys.readouterr().err
    assert model_file.stat().st_mtime == before


def test_cli_predict_refuses_mismatched_card(model_file, particle_dir, tmp_path, capsys):
    """Check that a model file swapped under its card is refused before loading."""
    import shutil

    from sklearn.dummy import DummyClassifier

    copy = tmp_path / "model.joblib"
    shutil.copy(model_file, copy)
    shutil.copy(card_path(model_file), card_path(copy))
    joblib.dump(DummyClassifier(), copy)
    assert main(["predict", str(copy), str(particle_dir)]) == 1
    assert "does not match its model card" in capsys.readouterr().err


def test_cli_export_refuses_non_lipnet(model_file, tmp_path, capsys):
    """Check that exporting the logistic model names what can be exported."""
    out = tmp_path / "model.onnx"
    assert main(["export", str(model_file), str(out)]) == 1
    err = capsys.readouterr().err
    assert "exports LipNet networks only" in err and "ending in LogisticRegression" in err
    assert not out.exists()


def test_cli_export_lipnet(tmp_path, capsys):
    """Check that a trained LipNet exports to an ONNX file onnxruntime runs."""
    import onnxruntime

    model = tmp_path / "lipnet.joblib"
    args = ["train", *TINY, "--model", "lipnet1", "--epochs", "1", "--size", "16"]
    assert main([*args, "--out", str(model)]) == 0
    out = tmp_path / "lipnet.onnx"
    assert main(["export", str(model), str(out)]) == 0
    assert f"Exported to {out}" in capsys.readouterr().out
    session = onnxruntime.InferenceSession(str(out))
    (proba,) = session.run(["probabilities"], {"image": np.zeros((3, 1, 16, 16), np.float32)})
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert main(["export", str(model), str(out)]) == 1
    assert "--force" in capsys.readouterr().err


@pytest.fixture(scope="module")
def lipnet_file(tmp_path_factory):
    """A LipNet-4 trained by ``sklipo train`` for one epoch on tiny synthetic data."""
    path = tmp_path_factory.mktemp("lipnet") / "lipnet.joblib"
    assert main(["train", *TINY, "--model", "lipnet4", "--epochs", "1", "--out", str(path)]) == 0
    return path


def test_cli_inspect_writes_plots(lipnet_file, particle_dir, tmp_path, capsys):
    """Check that inspect writes every plot and prints the predicted class."""
    import re

    image = sorted(particle_dir.glob("multilamellar/*[0-9].png"))[0]
    mask = image.with_name(f"{image.stem}_mask.png")
    out = tmp_path / "inspect"
    capsys.readouterr()
    assert main(["inspect", str(lipnet_file), str(image), "--mask", str(mask), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    names = [f"kernels_features.{i}.png" for i in (0, 2, 6, 8)] + [
        "feature_maps.png", "saliency.png", "guided_backprop.png", "deconvnet.png"
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert all((out / name).stat().st_size > 0 for name in names)
    assert f"Wrote {out / 'saliency.png'}" in printed
    assert "Predicted class: " in printed
    assert re.search(r"Probabilities: multilamellar [01]\.\d{3}, uncertain", printed)


def test_cli_inspect_refuses_non_empty_out_and_non_lipnet(lipnet_file, model_file, tmp_path, capsys):
    """Check the errors for a non-empty --out without --force and a non-network model."""
    from sklipo.datasets._image_files import write_image

    pixels = np.random.RandomState(0).randint(0, 255, (40, 36)).astype(np.uint8)
    image = write_image(tmp_path / "particle", pixels)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.png").write_bytes(b"x")
    assert main(["inspect", str(lipnet_file), str(image), "--out", str(out)]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main(["inspect", str(lipnet_file), str(image), "--out", str(out), "--force"]) == 0
    assert (out / "deconvnet.png").exists() and (out / "old.png").exists()
    assert main(["inspect", str(model_file), str(image), "--out", str(tmp_path / "o2")]) == 1
    assert "the pipeline's last step is LogisticRegression" in capsys.readouterr().err
