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


def test_cli_predict_particle_stack(model_file, particle_dir, tmp_path, capsys):
    """Check that an .mrcs stack in a flat folder gives one row per frame, with its masks."""
    mrcfile = pytest.importorskip("mrcfile")
    from sklipo.datasets import read_image, read_mask

    paths = sorted(p for p in particle_dir.glob("*/*.png") if not p.stem.endswith("_mask"))[:3]
    images = [read_image(p)[0] for p in paths]
    masks = [read_mask(p.with_name(p.stem + "_mask.png")) for p in paths]
    h, w = min(i.shape[0] for i in images), min(i.shape[1] for i in images)
    flat = tmp_path / "stack"
    flat.mkdir()
    mrcfile.new(flat / "stack.mrcs", np.stack([i[:h, :w] for i in images]).astype(np.float32))
    mrcfile.new(flat / "stack_mask.mrcs", np.stack([m[:h, :w] for m in masks]).astype(np.int8))
    capsys.readouterr()
    assert main(["predict", str(model_file), str(flat)]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [row[0] for row in rows[1:]] == ["stack:0", "stack:1", "stack:2"]
    (flat / "stack_mask.mrcs").unlink()
    mrcfile.new(flat / "stack_mask.mrcs", masks[0][None, :h, :w].astype(np.int8))
    assert main(["predict", str(model_file), str(flat)]) == 1
    assert "holds 3 frame(s) but its mask" in capsys.readouterr().err


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
    """Check that inspect finds the mask, writes every plot and prints the class."""
    import re

    image = sorted(particle_dir.glob("multilamellar/*[0-9].png"))[0]
    out = tmp_path / "inspect"
    capsys.readouterr()
    assert main(["inspect", str(lipnet_file), str(image), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    names = [f"kernels_conv{i}.png" for i in range(1, 5)] + [
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
    assert main(["inspect", str(lipnet_file), str(image), "--out", str(out), "--force"]) == 1
    assert "has no mask 'particle_mask.*' beside it" in capsys.readouterr().err
    assert main(
        ["inspect", str(lipnet_file), str(image), "--out", str(out), "--force", "--no-masks"]
    ) == 0
    assert (out / "deconvnet.png").exists() and (out / "old.png").exists()
    assert main(["inspect", str(model_file), str(image), "--out", str(tmp_path / "o2")]) == 1
    assert "the pipeline's last step is LogisticRegression" in capsys.readouterr().err


def test_cli_inspect_reads_the_mask_beside_the_image(particle_dir, tmp_path):
    """Check inspect's mask: <name>_mask.* beside the image, --mask, or none with --no-masks."""
    import argparse

    from sklipo.cli._common import CommandError
    from sklipo.cli._inspect import _inspected_mask
    from sklipo.datasets import read_mask

    image = sorted(particle_dir.glob("multilamellar/*[0-9].png"))[0]
    beside = read_mask(image.with_name(f"{image.stem}_mask.png"))
    other = sorted(particle_dir.glob("unilamellar/*_mask.png"))[0]

    def mask(**kwargs):
        options = {"image": str(image), "mask": None, "no_masks": False, **kwargs}
        return _inspected_mask(argparse.Namespace(**options))

    np.testing.assert_array_equal(mask(), beside)
    np.testing.assert_array_equal(mask(mask=str(other)), read_mask(other))
    assert mask(no_masks=True) is None
    with pytest.raises(CommandError, match="pass --no-masks to use the whole image"):
        mask(image=str(tmp_path / "lonely.png"))
    with pytest.raises(SystemExit):
        main(["inspect", "m.joblib", str(image), "--out", "o", "--mask", "x", "--no-masks"])


def test_cli_compare_report_opens_with_verdict_and_holds_provenance(tmp_path, capsys):
    """Check that the report starts with the verdict and its provenance agrees with results.json."""
    import sklipo

    out = tmp_path / "r"
    args = ["compare", "--synthetic", "lamellarity", *TINY, "--models", "logistic,svm"]
    assert main([*args, "--cv", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "results.json").read_text())
    verdict, provenance = data["verdict"], data["provenance"]
    lines = (out / "report.md").read_text().splitlines()
    assert lines[:4] == ["# Model comparison", "", "## Verdict", ""]
    assert lines[4] == verdict["text"] and f"Verdict: {verdict['text']}" in printed
    means = {m: data["models"][m]["scores"]["balanced_accuracy"]["mean"] for m in data["models"]}
    assert verdict["best"]["balanced_accuracy"] == max(means, key=means.get)
    assert verdict["text"].startswith(f"{verdict['best']['balanced_accuracy']} is the best model")
    assert "at the 0.05 level" in verdict["text"].lower()
    p_value = verdict["tests"]["f1_macro"]["p_value"]
    assert f"p = {p_value:.3f}" in verdict["text"]
    pairs = [t for t in data["paired_tests"] if t["metric"] == "f1_macro"]
    assert [(t["model_a"], t["model_b"]) for t in pairs] == [("logistic", "svm")]
    assert provenance["data"]["description"].startswith("synthetic lamellarity liposomes")
    assert provenance["data"]["class_counts"] == {
        "unilamellar": 15, "multilamellar": 15, "uncertain": 15
    }
    assert provenance["folds"]["n_folds"] == 3 and provenance["seeds"]["folds"] == 0
    assert provenance["versions"]["sklipo"] == sklipo.__version__
    assert {"scikit-learn", "python"} <= set(provenance["versions"])
    assert provenance["wall_time"] > 0 and set(provenance["models"]) == {"logistic", "svm"}
    assert provenance["models"]["logistic"]["params"]["clf__C"] == 0.01
    report = "\n".join(lines)
    counts = "unilamellar 15, multilamellar 15, uncertain 15"
    assert f"- Data: {provenance['data']['description']}; 45 samples ({counts})" in report
    assert f"sklipo {sklipo.__version__}" in report and "wall time" in report
    assert f"- Model svm: `{provenance['models']['svm']['estimator']}`" in report
    assert "## Provenance" in (out / "report.html").read_text().replace("<h2>", "## ")


def test_cli_compare_without_out_says_nothing_was_written(tmp_path, monkeypatch, capsys):
    """Check that compare without --out says that it wrote no report, and writes nothing."""
    monkeypatch.chdir(tmp_path)
    assert main(["compare", *TINY, "--models", "logistic", "--cv", "2"]) == 0
    assert "No report written: pass --out DIR" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_cli_compare_warns_about_a_class_with_one_test_particle_per_fold(tmp_path, capsys):
    """Check that a class with 1 test particle per fold is flagged on stderr and in the report."""
    # 510 particles at the study's proportions hold 3 uncertain ones: 1 per fold
    out = tmp_path / "r"
    args = ["compare", "--n-samples", "510", "--models", "logistic", "--cv", "3"]
    assert main([*args, "--size", "16", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert (
        "sklipo compare: warning: Class 'uncertain' has only 1 test sample per fold "
        "(fewer than 10)" in captured.err
    )
    assert "multilamellar" not in captured.err
    assert "uncertain *" in captured.out and "unilamellar *" not in captured.out
    report = (out / "report.md").read_text()
    assert "## Unreliable classes" in report and "| uncertain * |" in report
    assert "- uncertain: 1 test sample per fold; over folds: logistic TPR" in report
    data = json.loads((out / "results.json").read_text())
    assert [c["class"] for c in data["unreliable_classes"]] == ["uncertain"]
    assert data["unreliable_classes"][0]["support"] == [1, 1, 1]


def test_cli_train_prints_plain_progress_lines_off_a_terminal(tmp_path, capsys):
    """Check that train, not on a terminal, prints one progress line per epoch."""
    path = tmp_path / "lipnet.joblib"
    args = ["train", *TINY, "--model", "lipnet1", "--epochs", "2", "--size", "16", "--threads", "1"]
    assert main([*args, "--out", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    epochs = [line for line in lines if line.startswith("[train] epoch")]
    assert len(epochs) == 2
    assert epochs[0].startswith("[train] epoch 1/2: train_loss ")
    assert "elapsed, about" in epochs[0] and epochs[1].startswith("[train] epoch 2/2")
    assert "\r" not in "".join(lines)
    assert joblib.load(path).named_steps["net"].verbose == 0


def test_cli_train_verbose_prints_skorchs_table(tmp_path, capsys):
    """Check that --verbose shows skorch's per-epoch table instead of progress lines."""
    path = tmp_path / "lipnet.joblib"
    args = ["train", *TINY, "--model", "lipnet1", "--epochs", "1", "--size", "16", "--verbose"]
    assert main([*args, "--out", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "train_loss" in printed and "[train] epoch" not in printed
    assert "epoch" in printed.split("train_loss")[0]


def test_cli_predict_progress_goes_to_stderr_when_csv_goes_to_stdout(
    model_file, particle_dir, capsys
):
    """Check that predict reports its progress without mixing it into the CSV."""
    assert main(["predict", str(model_file), str(particle_dir), "--threads", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("id,label,") and "[predict]" not in captured.out
    assert "[predict] particles 9/9" in captured.err


def test_cli_version(capsys):
    """Check that --version prints the package version."""
    import sklipo

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sklipo {sklipo.__version__}"


@pytest.mark.parametrize("module", ["sklipo", "sklipo.cli"])
def test_cli_runs_as_module(module):
    """Check that ``python -m sklipo`` and ``python -m sklipo.cli`` run the CLI."""
    import subprocess
    import sys

    import sklipo

    result = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sklipo {sklipo.__version__}"


@pytest.mark.parametrize("command", ["compare", "train", "predict", "export"])
def test_cli_every_flag_has_help_and_states_its_default(command):
    """Check that every option has help text, and that help names any default."""
    from sklipo.cli._parser import _build_parser

    parser = _build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for action in subparsers.choices[command]._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        if action.default not in (None, False) and action.required is False:
            assert "default" in action.help, f"{command} {action.option_strings[0]}"


def test_cli_compare_svm_with_threads_does_not_import_torch(tmp_path):
    """Check that an SVM-only compare, --threads included, never imports torch."""
    import subprocess
    import sys

    code = (
        "import sys; from sklipo.cli import main; "
        "status = main(['compare', '--balanced', '--n-samples', '45', '--models', 'svm', "
        "'--cv', '2', '--threads', '1']); "
        "print('torch imported:', 'torch' in sys.modules); sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "torch imported: False" in result.stdout


@pytest.fixture(scope="module")
def micrograph_dirs(tmp_path_factory):
    """Annotated micrographs (a YOLO folder) and unannotated ones (a flat folder)."""
    from sklipo.datasets import make_micrographs, write_yolo

    root = tmp_path_factory.mktemp("micrographs")
    data = make_micrographs("fluorescence", 4, shape=(160, 160), n_particles=(5, 7),
                            weights=[1, 1, 1], random_state=0)
    train = write_yolo(root / "train", data.images[:3], data.labels[:3], data.target_names,
                       image_format="tif")
    new = write_yolo(root / "new", data.images[3:], data.labels[3:], data.target_names,
                     image_format="tif")
    return train, new


def test_cli_train_on_micrographs_records_cutout_and_predict_finds_particles(
    micrograph_dirs, tmp_path, capsys
):
    """Check train on a YOLO folder records the cut-out; predict --micrographs reuses it."""
    train, new = micrograph_dirs
    model = tmp_path / "m.joblib"
    assert main(["train", "--data", str(train), "--model", "logistic", "--surrounding", "6",
                 "--out", str(model)]) == 0
    card = load_card(model)
    assert card["cutout"]["surrounding"] == 6 and card["cutout"]["polarity"] == "auto"
    assert card["metadata"]["sklipo_train"]["box_sides"][0] > 0
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(new / "images"), "--micrographs",
                 "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows and rows[0]["micrograph"] == "micrograph-000.tif"
    assert {"top", "left", "bottom", "right", "score", "label", "p_full"} <= set(rows[0])
    assert (tmp_path / "pred_overlays" / "micrograph-000.png").stat().st_size > 0
    # A YOLO folder: its labels (a detector's boxes) replace the finder.
    assert main(["predict", str(model), str(new), "--out", str(tmp_path / "boxes.csv")]) == 0
    rows = list(csv.DictReader((tmp_path / "boxes.csv").open()))
    assert len(rows) == len((new / "labels" / "micrograph-000.txt").read_text().splitlines())


def test_cli_predict_micrographs_without_cutout_says_what_to_pass(
    model_file, micrograph_dirs, capsys
):
    """Check that a model trained on cut-outs asks for the cut-out settings."""
    _, new = micrograph_dirs
    assert main(["predict", str(model_file), str(new / "images"), "--micrographs"]) == 1
    assert "--surrounding/--polarity/--channel/--sigma as used for training" in (
        capsys.readouterr().err
    )


@pytest.fixture(scope="module")
def population_model_file(tmp_path_factory):
    """A logistic model trained with --prevalence and --coverage 0.9."""
    path = tmp_path_factory.mktemp("population") / "model.joblib"
    args = ["train", *TINY, "--model", "logistic", "--prevalence", "--coverage", "0.9"]
    assert main([*args, "--out", str(path)]) == 0
    return path


def test_cli_predict_prevalence_prints_and_writes_shares(
    population_model_file, particle_dir, tmp_path, capsys
):
    """Check that predict --prevalence reports shares with intervals next to the counts."""
    out = tmp_path / "pred.csv"
    capsys.readouterr()
    args = ["predict", str(population_model_file), str(particle_dir), "--prevalence"]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Class shares, all:" in printed and "95% interval" in printed
    shares = list(csv.DictReader((tmp_path / "pred_prevalence.csv").open()))
    assert [row["class"] for row in shares] == ["multilamellar", "uncertain", "unilamellar"]
    assert sum(int(row["count"]) for row in shares) == 9
    for row in shares:
        assert float(row["lower"]) <= float(row["estimate"]) <= float(row["upper"])
    assert sum(float(row["estimate"]) for row in shares) == pytest.approx(1.0)


def test_cli_predict_coverage_adds_the_prediction_set(
    population_model_file, particle_dir, tmp_path
):
    """Check that predict --coverage adds each particle's set, a label for several classes."""
    out = tmp_path / "pred.csv"
    args = ["predict", str(population_model_file), str(particle_dir), "--coverage", "0.9"]
    assert main([*args, "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert {"set", "set_label"} <= set(rows[0])
    for row in rows:
        members = row["set"].split("|") if row["set"] else []
        # "uncertain" is a class of these particles: several classes read "ambiguous"
        expected = members[0] if len(members) == 1 else "ambiguous"
        assert row["set_label"] == expected


def test_cli_predict_population_needs_the_training_flags(
    model_file, population_model_file, particle_dir, capsys
):
    """Check the clear errors of --prevalence/--coverage on a model trained without them."""
    assert main(["predict", str(model_file), str(particle_dir), "--prevalence"]) == 1
    assert "trained without --prevalence" in capsys.readouterr().err
    args = ["predict", str(population_model_file), str(particle_dir), "--coverage", "0.8"]
    assert main(args) == 1
    assert "calibrated for --coverage 0.9" in capsys.readouterr().err


def test_cli_predict_micrographs_prevalence_per_micrograph_and_overall(
    micrograph_dirs, tmp_path, capsys
):
    """Check predict --prevalence on whole micrographs: a share table per micrograph and all."""
    train, new = micrograph_dirs
    model = tmp_path / "m.joblib"
    assert main(["train", "--data", str(train), "--model", "logistic", "--prevalence",
                 "--out", str(model)]) == 0
    out = tmp_path / "pred.csv"
    capsys.readouterr()
    assert main(["predict", str(model), str(new), "--prevalence", "--out", str(out)]) == 0
    assert "Class shares, micrograph-000.tif:" in capsys.readouterr().out
    shares = list(csv.DictReader((tmp_path / "pred_prevalence.csv").open()))
    assert {row["sample"] for row in shares} == {"micrograph-000.tif", "all"}
    n_rows = len(list(csv.DictReader(out.open())))
    assert sum(int(row["count"]) for row in shares if row["sample"] == "all") == n_rows
