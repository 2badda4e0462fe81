"""A table of bad inputs, each refused with the right exception and clear words.

Every row gives sklipo something wrong, across the API (particle sets,
loaders, transformers, features, the classifier, compare, metrics,
quantification, detection, deployment) and the command line, and checks the
exception type (or the exit status) and the words of the message: the rule
broken, the value got, and for the command line its own flags rather than
Python arguments. A row that fails shows a message a user would not
understand (a NumPy or torch traceback, a temporary file, a parameter name
the user never typed), or a bad input accepted without a word.

The data are tiny and fitted models are shared by module-scoped fixtures,
so the whole table runs in seconds.
"""

import types

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklipo import ParticleSet, as_particle_set
from sklipo.classifier import LipNetClassifier
from sklipo.cli import main
from sklipo.compare import compare
from sklipo.datasets import (
    load_particles,
    make_liposomes,
    read_image,
    read_mask,
    save_particles,
    segment_boxes,
)
from sklipo.deployment import export_onnx, load, save
from sklipo.detection import cut_particles, find_particles
from sklipo.features import ParticleFeatures
from sklipo.metrics import (
    box_iou,
    detection_scores,
    expected_calibration_error,
    match_boxes,
    mean_confusion_matrix,
    per_class_metrics,
)
from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize
from sklipo.quantification import (
    ConformalClassifier,
    PrevalenceEstimator,
    fit_temperature,
    label_prediction_sets,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

RND_SEED = 0
rng = np.random.RandomState(RND_SEED)
STACK = rng.rand(12, 16, 16).astype(np.float32)
Y = np.array([0, 1, 2] * 4)
RGB_LAST = rng.rand(6, 16, 16, 3)
TINY = ["--balanced", "--n-samples", "24", "--random-state", "0"]


def _lipnet(**params):
    return LipNetClassifier("lipnet1", max_epochs=1, batch_size=12, augment=None, **params)


def _logistic():
    return make_pipeline(Resize(8), Flatten(), LogisticRegression(max_iter=200))


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """Fitted models, saved files and folders shared by every row."""
    root = tmp_path_factory.mktemp("bad_inputs")
    data = make_liposomes("lamellarity", 12, weights=[1, 1, 1], random_state=RND_SEED)
    lipnet = _lipnet(random_state=RND_SEED).fit(STACK, Y)
    logistic = _logistic().fit(data.data, data.target)
    model_file = root / "model.joblib"
    save(logistic, model_file, X=data.data, y=data.target)
    lipnet_file = root / "lipnet.joblib"
    save(lipnet, lipnet_file, X=STACK, y=Y)
    folder = root / "particles"
    save_particles(data.data, data.target, folder, target_names=data.target_names)
    not_an_image = root / "notes.png"
    not_an_image.write_text("not an image")
    return types.SimpleNamespace(
        root=root, data=data, X=data.data, y=data.target, lipnet=lipnet,
        logistic=logistic, model_file=model_file, lipnet_file=lipnet_file, folder=folder,
        not_an_image=not_an_image,
    )


# Each row: (call taking the fixture, exception type, regex the message must match).
API_ROWS = {
    # -- ParticleSet and its checks -------------------------------------------
    "set-empty-image": (
        lambda c: ParticleSet([np.zeros((0, 5))]), ValueError, "empty image"),
    "set-string-pixels": (
        lambda c: ParticleSet([np.array([["a", "b"]])]), TypeError, "integer or floating"),
    "set-nan-pixels": (
        lambda c: ParticleSet([np.full((4, 4), np.nan)]), ValueError, "NaN or infinite"),
    "set-3d-without-channel-axis": (
        lambda c: ParticleSet([np.zeros((4, 4, 3))]), ValueError, "channel_axis=-1"),
    "set-mask-shape": (
        lambda c: ParticleSet([np.zeros((4, 4))], [np.ones((3, 3))]), ValueError,
        "must match the image's height and width"),
    "set-mask-empty": (
        lambda c: ParticleSet([np.zeros((4, 4))], [np.zeros((4, 4))]), ValueError,
        "mask .* is empty"),
    "set-negative-pixel-size": (
        lambda c: ParticleSet([np.zeros((4, 4))], pixel_size=-1), ValueError,
        "pixel_size must be positive"),
    "set-pixel-size-length": (
        lambda c: ParticleSet([np.zeros((4, 4))] * 2, pixel_size=[1, 2, 3]), ValueError,
        "one value per particle"),
    "set-ids-length": (
        lambda c: ParticleSet([np.zeros((4, 4))] * 2, ids=["a"]), ValueError,
        "one identifier per particle"),
    "set-mixed-channels": (
        lambda c: ParticleSet([np.zeros((4, 4, 1)), np.zeros((4, 4, 3))], channel_axis=-1),
        ValueError, "same number of channels"),
    "as-set-channels-last": (
        lambda c: as_particle_set(RGB_LAST), ValueError, r"looks channels-last.*moveaxis"),
    "as-set-2d": (
        lambda c: as_particle_set(np.zeros((4, 4))), ValueError, r"got an array of shape \(4, 4\)"),
    "as-set-wrong-type": (
        lambda c: as_particle_set("images"), TypeError, "got str"),
    "as-set-empty": (
        lambda c: as_particle_set(c.X[:0]), ValueError, "empty ParticleSet"),
    "set-bad-index": (
        lambda c: c.X[0, 1], IndexError, "one-dimensional"),
    "stack-sizes-differ": (
        lambda c: ParticleSet([np.zeros((4, 4)), np.zeros((5, 5))]).stack(), ValueError,
        "one size.*Resize"),
    # -- loaders and savers -----------------------------------------------------
    "load-missing-folder": (
        lambda c: load_particles(c.root / "nowhere"), FileNotFoundError, "nowhere"),
    "load-mask-suffix-empty": (
        lambda c: load_particles(c.folder, mask_suffix=""), ValueError, "non-empty string or None"),
    "read-not-an-image": (
        lambda c: read_image(c.not_an_image), ValueError, "notes.png"),
    "read-mask-missing": (
        lambda c: read_mask(c.root / "no_mask.png"), FileNotFoundError, "no_mask.png"),
    "save-existing-folder": (
        lambda c: save_particles(c.X, c.y, c.folder), FileExistsError, "overwrite=True"),
    "save-y-length": (
        lambda c: save_particles(c.X, c.y[:3], c.root / "new"), ValueError, "12"),
    "save-format": (
        lambda c: save_particles(c.X, c.y, c.root / "new", format="hdf5"), ValueError,
        "'folder'.*'zarr'|format"),
    "make-liposomes-problem": (
        lambda c: make_liposomes("bilayers", 5), ValueError, "lamellarity"),
    "make-liposomes-n-samples": (
        lambda c: make_liposomes("lamellarity", 0), ValueError, "n_samples"),
    # -- preprocessing and features ------------------------------------------
    "resize-zero": (
        lambda c: Resize(0).fit_transform(c.X), ValueError, "size"),
    "resize-channels-last": (
        lambda c: Resize(8).fit_transform(RGB_LAST), ValueError, "channels-last"),
    "crop-mode": (
        lambda c: CropParticle("square").fit_transform(c.X), ValueError, "masked"),
    "crop-negative-margin": (
        lambda c: CropParticle(margin=-1).fit_transform(c.X), ValueError, "margin"),
    "normalizer-method": (
        lambda c: IntensityNormalizer("zscore").fit_transform(c.X), ValueError, "standard"),
    "normalizer-quantiles": (
        lambda c: IntensityNormalizer("quantile", quantile_range=(99, 1)).fit_transform(c.X),
        ValueError, r"low < high"),
    "features-unknown-name": (
        lambda c: ParticleFeatures(["area", "volume"]).fit_transform(c.X), ValueError,
        "volume"),
    "features-bins": (
        lambda c: ParticleFeatures(n_profile_bins=0).fit_transform(c.X), ValueError,
        "n_profile_bins"),
    "features-edge-range": (
        lambda c: ParticleFeatures(edge_range_nm=(30, -10)).fit_transform(c.X), ValueError,
        "edge_range_nm"),
    "features-channels-last": (
        lambda c: ParticleFeatures().fit_transform(RGB_LAST), ValueError, "channels-last"),
    "features-predict-channels": (
        lambda c: ParticleFeatures().fit(c.X).transform(
            ParticleSet([np.ones((16, 16, 3))], channel_axis=-1)), ValueError, "channel"),
    # -- LipNetClassifier: parameters ------------------------------------------
    "lipnet-architecture": (
        lambda c: LipNetClassifier("resnet").fit(STACK, Y), ValueError, "lipnet4"),
    "lipnet-lr": (
        lambda c: _lipnet(lr=0).fit(STACK, Y), ValueError, "'lr' parameter"),
    "lipnet-device-gpu": (
        lambda c: _lipnet(device="gpu").fit(STACK, Y), ValueError,
        r"'cpu', 'cuda', 'cuda:<index>'.*got 'gpu'"),
    "lipnet-device-cuda-x": (
        lambda c: _lipnet(device="cuda:x").fit(STACK, Y), ValueError, "got 'cuda:x'"),
    "lipnet-class-weight-nan": (
        lambda c: _lipnet(class_weight={0: np.nan, 1: 1, 2: 1}).fit(STACK, Y), ValueError,
        r"finite weight >= 0; got \{0: nan\}"),
    "lipnet-class-weight-negative": (
        lambda c: _lipnet(class_weight={0: -1, 1: 1, 2: 1}).fit(STACK, Y), ValueError,
        r"finite weight >= 0; got \{0: -1\}"),
    "lipnet-class-weight-inf": (
        lambda c: _lipnet(class_weight={0: np.inf, 1: 1, 2: 1}).fit(STACK, Y), ValueError,
        "finite weight"),
    "lipnet-class-weight-zero-sum": (
        lambda c: _lipnet(class_weight={0: 0, 1: 0, 2: 0}).fit(STACK, Y), ValueError,
        "at least one class a positive weight"),
    "lipnet-class-weight-missing": (
        lambda c: _lipnet(class_weight={0: 1, 1: 1}).fit(STACK, Y), ValueError,
        r"every class; missing \[2\]"),
    "lipnet-two-resamplers": (
        lambda c: _lipnet(undersample_majority=0.5, balanced_batches=True).fit(STACK, Y),
        ValueError, "at most one"),
    # -- LipNetClassifier: X and y ---------------------------------------------
    "lipnet-x-channels-last": (
        lambda c: _lipnet().fit(RGB_LAST, Y[:6]), ValueError, r"channels-last.*moveaxis"),
    "lipnet-x-2d": (
        lambda c: _lipnet().fit(STACK.reshape(12, -1), Y), ValueError, "feature matrix"),
    "lipnet-x-nan": (
        lambda c: _lipnet().fit(np.where(STACK > 0.99, np.nan, STACK), Y), ValueError, "NaN"),
    "lipnet-x-strings": (
        lambda c: _lipnet().fit(STACK.astype(str), Y), TypeError, "dtype <U"),
    "lipnet-x-sizes-differ": (
        lambda c: _lipnet().fit(ParticleSet([np.ones((16, 16))] * 2 + [np.ones((9, 9))]),
                                [0, 1, 0]), ValueError, "Resize"),
    "lipnet-y-none": (
        lambda c: _lipnet().fit(STACK, None), ValueError, "requires y"),
    "lipnet-y-mixed-types": (
        lambda c: _lipnet().fit(STACK, [1, "a", 2] * 4), ValueError,
        "mixes numbers and strings"),
    "lipnet-y-holds-none": (
        lambda c: _lipnet().fit(STACK, np.array(["a", None, "b"] * 4, dtype=object)),
        ValueError, r"missing label \(None\) at position 1"),
    "lipnet-y-one-class": (
        lambda c: _lipnet().fit(STACK, [0] * 12), ValueError, "at least 2 classes"),
    "lipnet-y-length": (
        lambda c: _lipnet().fit(STACK, Y[:5]), ValueError, "inconsistent numbers of samples"),
    "lipnet-y-continuous": (
        lambda c: _lipnet().fit(STACK, rng.rand(12)), ValueError, "Unknown label type"),
    "lipnet-predict-unfitted": (
        lambda c: _lipnet().predict(STACK), Exception, "not fitted"),
    "lipnet-predict-other-size": (
        lambda c: c.lipnet.predict(rng.rand(2, 20, 20)), ValueError, "16"),
    "lipnet-predict-other-channels": (
        lambda c: c.lipnet.predict(rng.rand(2, 3, 16, 16)), ValueError, "channel"),
    # -- compare ---------------------------------------------------------------
    "compare-no-models": (
        lambda c: compare({}, c.X, c.y, cv=2), TypeError, "non-empty dict.*got an empty dict"),
    "compare-y-mixed": (
        lambda c: compare({"lr": _logistic()}, c.X, [1, "a", 2] * 4, cv=2), ValueError,
        "mixes numbers and strings"),
    "compare-y-length": (
        lambda c: compare({"lr": _logistic()}, c.X, c.y[:5], cv=2), ValueError,
        "12 samples but y 5"),
    "compare-cv-too-many": (
        lambda c: compare({"lr": _logistic()}, c.X, c.y, cv=6), ValueError, "6"),
    "compare-target-names": (
        lambda c: compare({"lr": _logistic()}, c.X, c.y, cv=2, target_names=["a"]),
        ValueError, "target_names"),
    # -- metrics -----------------------------------------------------------------
    "metrics-length": (
        lambda c: per_class_metrics([0, 1, 1], [0, 1]), ValueError,
        r"same length; got shapes \(3,\) and \(2,\)"),
    "metrics-y-mixed": (
        lambda c: per_class_metrics([1, "a"], [1, "a"]), ValueError,
        "y_true mixes numbers and strings"),
    "ece-proba-rows": (
        lambda c: expected_calibration_error([0, 1], [[0.9, 0.9], [0.5, 0.5]]), ValueError,
        "probabilities.*row 0 .* summing to 1.8"),
    "ece-bins": (
        lambda c: expected_calibration_error([0, 1], [[1, 0], [0, 1]], n_bins=0), ValueError,
        "n_bins"),
    "box-iou-shape": (
        lambda c: box_iou([[0, 0, 1]], [[0, 0, 1, 1]]), ValueError, "4"),
    "match-boxes-threshold": (
        lambda c: match_boxes([[0, 0, 1, 1]], [[0, 0, 1, 1]], iou_threshold=2), ValueError,
        "iou_threshold"),
    "detection-scores-matching": (
        lambda c: detection_scores([[0, 0, 1, 1]], [[0, 0, 1, 1]], matching="best"),
        ValueError, "hungarian"),
    "mean-confusion-shapes": (
        lambda c: mean_confusion_matrix([np.eye(2), np.eye(3)]), ValueError, "shape"),
    # -- quantification ------------------------------------------------------------
    "prevalence-y-mixed": (
        lambda c: PrevalenceEstimator(LogisticRegression(), cv=2).fit(
            STACK.reshape(12, -1), [1, "a", 2] * 4), ValueError, "mixes numbers and strings"),
    "prevalence-y-none": (
        lambda c: PrevalenceEstimator(LogisticRegression(), cv=2).fit(
            STACK.reshape(12, -1), [1, None, 2] * 4), ValueError, "missing label"),
    "prevalence-method": (
        lambda c: PrevalenceEstimator(LogisticRegression(), method="em").fit(
            STACK.reshape(12, -1), Y), ValueError, "pacc"),
    "prevalence-soft-needs-proba": (
        lambda c: PrevalenceEstimator(make_pipeline(Flatten(), _NoProba()), cv=2).fit(
            STACK, Y), TypeError, "predict_proba"),
    "conformal-coverage": (
        lambda c: ConformalClassifier(LogisticRegression(), coverage=1.5).fit(
            STACK.reshape(12, -1), Y), ValueError, "coverage"),
    "conformal-y-none": (
        lambda c: ConformalClassifier(LogisticRegression(), cv=2).fit(
            STACK.reshape(12, -1), ["a", None, "b"] * 4), ValueError, "missing label"),
    "label-sets-shape": (
        lambda c: label_prediction_sets(np.ones((2, 2), bool), ["a", "b", "c"]), ValueError,
        "3"),
    "temperature-logits": (
        lambda c: fit_temperature([0, 1], [[np.nan, 0], [0, 1]]), ValueError,
        "finite.*row 0 holds nan"),
    # -- detection -------------------------------------------------------------------
    "find-particles-1d": (
        lambda c: find_particles(np.zeros(10)), ValueError, "2-D"),
    "find-particles-threshold": (
        lambda c: find_particles(np.zeros((32, 32)), threshold=-1), ValueError, "threshold"),
    "find-particles-diameters": (
        lambda c: find_particles(np.zeros((32, 32)), diameter_range=(10, 5)), ValueError,
        "diameter_range"),
    "cut-particles-boxes": (
        lambda c: cut_particles(np.zeros((32, 32)), [[0, 0, 1]]), ValueError, "4"),
    "segment-boxes-polarity": (
        lambda c: segment_boxes(np.zeros((32, 32)), [[4, 4, 12, 12]], polarity="grey"),
        ValueError, "dark"),
    # -- deployment ------------------------------------------------------------------
    "save-cutout-setting": (
        lambda c: save(c.logistic, c.root / "m.joblib", cutout={"zoom": 2}), ValueError,
        "zoom"),
    "save-existing": (
        lambda c: save(c.logistic, c.model_file), FileExistsError, "overwrite=True"),
    "save-under-a-file": (
        lambda c: save(c.logistic, c.not_an_image / "m.joblib"), OSError,
        r"notes\.png/m\.joblib': .*notes\.png' is a file, not a folder"),
    "load-missing": (
        lambda c: load(c.root / "missing.joblib"), FileNotFoundError, "missing.joblib"),
    "load-without-card": (
        lambda c: load(c.not_an_image), FileNotFoundError, "notes.png' has no model card"),
    "export-not-a-lipnet": (
        lambda c: export_onnx(c.logistic, c.root / "m.onnx"), TypeError, "LipNet"),
}


class _NoProba(LogisticRegression):
    """A classifier without predict_proba."""

    predict_proba = property(doc="hidden")

    def __getattribute__(self, name):
        if name == "predict_proba":
            raise AttributeError(name)
        return super().__getattribute__(name)


@pytest.mark.parametrize("call, error, words", API_ROWS.values(), ids=API_ROWS.keys())
def test_bad_input_refused(ctx, call, error, words):
    """Check that a bad API input raises `error` with a message saying what is wrong."""
    with pytest.raises(error, match=words):
        call(ctx)


# Each row: (arguments from the fixture, exit status, regex stderr must match).
CLI_ROWS = {
    "cli-compare-cv-one": (
        lambda c: ["compare", *TINY, "--models", "logistic", "--cv", "1"], 2,
        "argument --cv: must be an integer >= 2; got '1'"),
    "cli-compare-cv-above-class": (
        lambda c: ["compare", *TINY, "--models", "logistic", "--cv", "9"], 1,
        r"--cv 9 needs at least 9 particles of every class"),
    "cli-compare-unknown-model": (
        lambda c: ["compare", *TINY, "--models", "resnet"], 2, "resnet"),
    "cli-compare-epochs-zero": (
        lambda c: ["compare", *TINY, "--models", "lipnet1", "--epochs", "0"], 2,
        "--epochs"),
    "cli-compare-missing-data": (
        lambda c: ["compare", "--data", str(c.root / "nowhere"), "--models", "logistic"], 1,
        "nowhere"),
    "cli-train-size-zero": (
        lambda c: ["train", *TINY, "--size", "0", "--out", str(c.root / "t.joblib")], 2,
        "--size"),
    "cli-train-n-samples-zero": (
        lambda c: ["train", "--n-samples", "0", "--out", str(c.root / "t.joblib")], 2,
        "--n-samples"),
    "cli-train-pixel-size-negative": (
        lambda c: ["train", *TINY, "--pixel-size", "-1", "--out", str(c.root / "t.joblib")],
        2, "--pixel-size"),
    "cli-train-coverage-above-one": (
        lambda c: ["train", *TINY, "--coverage", "1.5", "--out", str(c.root / "t.joblib")],
        2, "--coverage"),
    "cli-train-threads-zero": (
        lambda c: ["train", *TINY, "--threads", "0", "--out", str(c.root / "t.joblib")], 2,
        "--threads"),
    "cli-train-existing-out": (
        lambda c: ["train", *TINY, "--out", str(c.model_file)], 1,
        "exists; choose another --out or pass --force"),
    "cli-predict-missing-model": (
        lambda c: ["predict", str(c.root / "missing.joblib"), str(c.folder)], 1,
        "missing.joblib"),
    "cli-predict-not-a-folder": (
        lambda c: ["predict", str(c.model_file), str(c.root / "nowhere")], 1,
        "is not a folder"),
    "cli-predict-coverage-not-trained": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--coverage", "0.9"], 1,
        "--coverage"),
    "cli-export-not-a-lipnet": (
        lambda c: ["export", str(c.model_file), str(c.root / "m.onnx")], 1, "LipNet"),
    "cli-inspect-not-a-lipnet": (
        lambda c: ["inspect", str(c.model_file), str(c.not_an_image), "--out",
                   str(c.root / "plots"), "--no-masks"], 1, "LipNet"),
    "cli-compare-data-cv-above-class": (
        lambda c: ["compare", "--data", str(c.folder), "--models", "logistic", "--cv", "5"], 1,
        "--cv 5 needs at least 5 particles of every class.* has 4"),
    "cli-tune-cv-one": (
        lambda c: ["tune", *TINY, "--cv", "1", "--out", str(c.root / "t.joblib")], 2,
        "argument --cv: must be an integer >= 2"),
    "cli-predict-pixel-size-zero": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--pixel-size", "0"], 2,
        "argument --pixel-size: must be a number > 0; got '0'"),
    "cli-predict-existing-out": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--out", str(c.not_an_image)],
        1, "exists; choose another --out or pass --force"),
    "cli-convert-existing-store": (
        lambda c: ["convert", str(c.folder), str(c.folder)], 1,
        "exists; choose another STORE or pass --force"),
    "cli-export-existing-out": (
        lambda c: ["export", str(c.model_file), str(c.not_an_image)], 1,
        "exists; choose another OUT or pass --force"),
    "cli-inspect-missing-image": (
        lambda c: ["inspect", str(c.lipnet_file), str(c.root / "none.png"), "--out",
                   str(c.root / "plots"), "--no-masks"], 1, "none.png"),
    "cli-masks-not-a-folder": (
        lambda c: ["masks", str(c.root / "nowhere"), "--out", str(c.root / "g.png")], 1,
        "nowhere"),
    "cli-masks-max-particles-zero": (
        lambda c: ["masks", str(c.folder), "--out", str(c.root / "g.png"),
                   "--max-particles", "0"], 2, "--max-particles"),
    "cli-masks-sigma-zero": (
        lambda c: ["masks", str(c.folder), "--out", str(c.root / "g.png"), "--sigma", "0"],
        2, "argument --sigma: must be a number > 0; got '0'"),
    "cli-train-sigma-negative": (
        lambda c: ["train", *TINY, "--sigma", "-1", "--out", str(c.root / "t.joblib")], 2,
        "argument --sigma: must be a number > 0; got '-1'"),
    "cli-predict-sigma-nan": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--sigma", "nan"], 2,
        "argument --sigma: must be a number > 0; got 'nan'"),
    "cli-predict-threshold-zero": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--threshold", "0"], 2,
        "argument --threshold: must be a number > 0; got '0'"),
    "cli-predict-threshold-negative": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--threshold", "-3"], 2,
        "argument --threshold: must be a number > 0"),
    "cli-predict-min-confidence-above-one": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--min-confidence", "1.5"], 2,
        "argument --min-confidence: must be a number from 0 to 1; got '1.5'"),
    "cli-predict-min-confidence-negative": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--min-confidence", "-0.1"],
        2, "argument --min-confidence: must be a number from 0 to 1"),
    "cli-predict-min-confidence-text": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--min-confidence", "high"],
        2, "argument --min-confidence: must be a number from 0 to 1; got 'high'"),
    "cli-compare-n-jobs-zero": (
        lambda c: ["compare", *TINY, "--models", "logistic", "--n-jobs", "0"], 2,
        "argument --n-jobs: must be a positive integer, or negative"),
    "cli-compare-n-jobs-float": (
        lambda c: ["compare", *TINY, "--models", "logistic", "--n-jobs", "1.5"], 2,
        "argument --n-jobs: .*got '1.5'"),
    "cli-predict-diameter-range-reversed": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--diameter-range", "200,20"],
        2, "argument --diameter-range: expected LOW,HIGH with 0 < LOW < HIGH"),
    "cli-predict-diameter-range-zero-low": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--diameter-range", "0,50"],
        2, "argument --diameter-range: expected LOW,HIGH with 0 < LOW < HIGH"),
    "cli-predict-diameter-range-equal": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--diameter-range", "30,30"],
        2, "0 < LOW < HIGH, e.g. 20,200; got '30,30'"),
    "cli-predict-diameter-range-one-number": (
        lambda c: ["predict", str(c.model_file), str(c.folder), "--diameter-range", "30"],
        2, r"expected LOW,HIGH \(two numbers\)"),
}


@pytest.mark.parametrize("argv, status, words", CLI_ROWS.values(), ids=CLI_ROWS.keys())
def test_bad_cli_input_refused(ctx, capsys, argv, status, words):
    """Check that a bad command line exits with `status` and a message in CLI terms."""
    if status == 2:
        with pytest.raises(SystemExit) as exit_info:
            main(argv(ctx))
        assert exit_info.value.code == 2
    else:
        assert main(argv(ctx)) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) >= 1
    import re

    assert re.search(words, err), err
    assert "Traceback" not in err
