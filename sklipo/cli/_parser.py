"""The ``sklipo`` argument parser: one sub-command per verb."""

# License: BSD 3 clause

import argparse

from sklipo import __version__
from sklipo.cli._common import _MODELS
from sklipo.cli._compare import _compare
from sklipo.cli._convert import _convert
from sklipo.cli._export import _export
from sklipo.cli._inspect import _inspect
from sklipo.cli._masks import _masks
from sklipo.cli._models import _model_names
from sklipo.cli._options import (
    _add_cutout_arguments,
    _add_data_arguments,
    _add_micrograph_arguments,
    _add_model_arguments,
    _add_run_arguments,
)
from sklipo.cli._predict import _predict
from sklipo.cli._train import _train
from sklipo.cli._tune import _tune
from sklipo.cli._types import _at_least, _fraction, _n_jobs, _parse_budget, _positive

__all__ = []


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklipo",
        description="Classify particles in electron-microscopy images.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    compare = commands.add_parser(
        "compare",
        aliases=["demo"],
        help="cross-validate models side by side and write a report",
        description=_compare.__doc__
        + " Without --data it runs on the embedded synthetic liposomes; the defaults "
        "take a few minutes on 2 cores. For the study's full-size runs use "
        "--synthetic lamellarity --n-samples 14169 or --synthetic encapsulation "
        "--n-samples 24918, with --epochs 30 (inputs stay 28 pixels, as in the study).",
    )
    _add_data_arguments(compare)
    compare.add_argument(
        "--models",
        type=_model_names,
        default=["lipnet4", "svm"],
        help=f"comma-separated, from {', '.join(_MODELS)} (default: lipnet4,svm)",
    )
    compare.add_argument("--cv", type=_at_least(2), default=5, help="folds (default: 5)")
    compare.add_argument(
        "--out",
        metavar="DIR",
        help="write the report into this folder (default: print the tables only)",
    )
    compare.add_argument(
        "--force", action="store_true", help="write into an existing --out (default: refuse)"
    )
    compare.add_argument("--n-jobs", type=_n_jobs, default=None, help="parallel fits (default: 1)")
    compare.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="run the fits on a Dask cluster: tcp://host:8786, or local:N for N local "
        "single-threaded workers (needs sklipo[scale]; --n-jobs then defaults to all workers)",
    )
    _add_model_arguments(compare)
    _add_run_arguments(compare)
    compare.set_defaults(handler=_compare)

    convert = commands.add_parser(
        "convert",
        help="convert a particle folder into a particle store",
        description=_convert.__doc__,
    )
    convert.add_argument("source", help="folder of class folders, or a manifest (.csv)")
    convert.add_argument("store", help="the store to write, e.g. particles.zarr")
    convert.add_argument("--pixel-size", type=_positive, default=None, help="nm per pixel")
    convert.add_argument("--no-masks", action="store_true", help="class folders without masks")
    convert.add_argument("--force", action="store_true", help="replace an existing store")
    convert.set_defaults(handler=_convert)

    train = commands.add_parser(
        "train", help="train one model and save it", description=_train.__doc__
    )
    _add_data_arguments(train)
    train.add_argument(
        "--model",
        choices=_MODELS,
        default="lipnet4",
        help="the model to train, preprocessing included (default: lipnet4)",
    )
    train.add_argument(
        "--out", metavar="FILE", required=True, help="model file to write (.joblib; required)"
    )
    train.add_argument(
        "--force", action="store_true", help="overwrite an existing --out (default: refuse)"
    )
    _add_model_arguments(train)
    train.add_argument(
        "--prevalence", action="store_true",
        help="also estimate the model's misclassification rates (5 more fits) for "
        "'predict --prevalence' (default: off)",
    )
    train.add_argument(
        "--coverage", type=_fraction, default=None, metavar="C",
        help="also calibrate prediction sets holding the true class with probability C, "
        "e.g. 0.9 (5 more fits), for 'predict --coverage C' (default: off)",
    )
    _add_cutout_arguments(train, training=True)
    _add_run_arguments(train)
    train.set_defaults(handler=_train)

    tune = commands.add_parser(
        "tune", help="search the best recipe within a time budget", description=_tune.__doc__
    )
    _add_data_arguments(tune)
    tune.add_argument(
        "--budget",
        type=_parse_budget,
        default=_parse_budget("30m"),
        help="wall-clock time of the search: seconds, or e.g. 30m, 2h (default: 30m)",
    )
    tune.add_argument(
        "--families",
        default="lipnet,lipnet_fcn,svm,ensemble",
        help="comma-separated model families to try (default: all four)",
    )
    tune.add_argument("--cv", type=_at_least(2), default=3, help="inner folds (default: 3)")
    tune.add_argument(
        "--out", metavar="FILE", required=True,
        help="model file to write (.joblib), with its card and a .md report (required)",
    )
    tune.add_argument(
        "--force", action="store_true", help="overwrite an existing --out (default: refuse)"
    )
    tune.add_argument(
        "--random-state", type=int, default=0,
        help="seed of the synthetic data, the search and the networks (default: 0)",
    )
    _add_run_arguments(tune)
    tune.set_defaults(handler=_tune)

    predict = commands.add_parser(
        "predict",
        help="classify particle images with a trained model",
        description=_predict.__doc__
        + " Images of any size are resized as in training; the number of channels "
        "must match.",
    )
    predict.add_argument("model", help="a file written by 'sklipo train'")
    predict.add_argument(
        "data",
        metavar="DIR",
        help="images (with <name>_mask masks), flat or in sub-folders, or a manifest.csv; "
        "or whole micrographs (--micrographs, or a YOLO folder with images/ and labels/)",
    )
    predict.add_argument("--out", metavar="FILE", help="CSV to write (default: print)")
    predict.add_argument(
        "--force", action="store_true", help="overwrite an existing --out (default: refuse)"
    )
    predict.add_argument(
        "--no-masks",
        action="store_true",
        help="images have no masks: use whole images (default: read <name>_mask files)",
    )
    predict.add_argument(
        "--pixel-size",
        type=_positive,
        default=None,
        help="nm per pixel (default: from the manifest or the file headers)",
    )
    predict.add_argument(
        "--prevalence", action="store_true",
        help="print (and with --out, write to <out>_prevalence.csv) the estimated class "
        "shares with 95%% intervals next to the naive counts; per micrograph and overall "
        "with whole micrographs (the model must be trained with --prevalence)",
    )
    predict.add_argument(
        "--coverage", type=_fraction, default=None, metavar="C",
        help="add each particle's prediction set and its label ('uncertain' for a set of "
        "several classes, 'ambiguous' if 'uncertain' is a class); the model must be "
        "trained with --coverage C",
    )
    predict.add_argument(
        "--runtime", choices=("auto", "torch", "onnx"), default="auto",
        help="what runs a LipNet: ONNX Runtime (faster; needs the onnx extra: pip install "
        "\"sklipo[onnx]\"), torch, or auto: ONNX Runtime where it is installed and can "
        "run the model (not with test-time augmentation or logit adjustment), checked "
        "against torch on the first particles (default: auto)",
    )
    _add_cutout_arguments(predict, training=False)
    _add_micrograph_arguments(predict)
    _add_run_arguments(predict, verbose=False)
    predict.set_defaults(handler=_predict)

    export = commands.add_parser(
        "export",
        help="export a trained LipNet model to ONNX",
        description=_export.__doc__
        + " The ONNX model includes the network's input scaling and softmax; the "
        "preprocessing before it (crop, normalisation, resize) is described in the "
        "model's metadata.",
    )
    export.add_argument("model", help="a LipNet model file written by 'sklipo train'")
    export.add_argument("out", metavar="OUT.onnx", help="the ONNX file to write")
    export.add_argument("--force", action="store_true", help="overwrite an existing OUT")
    export.add_argument("--verbose", action="store_true", help="show the exporter's progress")
    export.set_defaults(handler=_export)

    inspect = commands.add_parser(
        "inspect",
        help="plot a trained LipNet's kernels, feature maps and attribution maps",
        description=_inspect.__doc__
        + " Writes kernels_conv1.png ... kernels_convN.png (the conv layers in forward "
        "order), feature_maps.png, "
        "saliency.png, guided_backprop.png and deconvnet.png, all in the frame of the "
        "network's input (after the model's crop and resize), and prints the "
        "predicted class.",
    )
    inspect.add_argument("model", help="a LipNet model file written by 'sklipo train'")
    inspect.add_argument("image", help="one particle image (PNG, JPEG, BMP, TIFF or MRC)")
    inspect.add_argument("--out", metavar="DIR", required=True, help="folder for the plots")
    inspect.add_argument("--force", action="store_true", help="write into a non-empty --out")
    inspect_mask = inspect.add_mutually_exclusive_group()
    inspect_mask.add_argument(
        "--mask",
        metavar="FILE",
        help="the particle's mask (default: <name>_mask.* beside the image, as predict reads)",
    )
    inspect_mask.add_argument(
        "--no-masks", action="store_true", help="the image has no mask: use the whole image"
    )
    inspect.add_argument("--pixel-size", type=_positive, default=None, help="nm per pixel")
    inspect.set_defaults(handler=_inspect)

    masks = commands.add_parser(
        "masks",
        help="draw particles with their mask outlines in one grid, fallbacks in magenta",
        description=_masks.__doc__
        + " DATA is a YOLO folder (images/, labels/ and classes.txt, as annotation "
        "tools export them): the particles are cut out and segmented as "
        "sklipo.datasets.load_annotated_micrographs does; or a folder of "
        "particle cut-outs that sklipo.datasets.load_particles reads.",
    )
    masks.add_argument("data", metavar="DATA", help="a YOLO folder or a particle folder")
    masks.add_argument("--out", metavar="FILE", required=True, help="the PNG to write")
    masks.add_argument("--force", action="store_true", help="overwrite an existing --out")
    masks.add_argument(
        "--classes", help="class names, comma-separated or a file (default: DATA/classes.txt)"
    )
    masks.add_argument(
        "--surrounding", type=_at_least(0), default=10, help="pixels around each box (default: 10)"
    )
    masks.add_argument(
        "--polarity",
        choices=["auto", "dark", "bright"],
        default="auto",
        help="particles darker (TEM) or brighter (fluorescence) than the background",
    )
    masks.add_argument("--channel", type=int, default=None, help="segment on one channel")
    masks.add_argument("--sigma", type=_positive, default=1.0, help="smoothing in px (default: 1)")
    masks.add_argument(
        "--max-particles", type=_at_least(1), default=48, help="particles shown, fallbacks first"
    )
    masks.add_argument("--no-masks", action="store_true", help="particle folder without masks")
    masks.set_defaults(handler=_masks)
    return parser
