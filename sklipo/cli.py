"""The ``sklipo`` command: compare models, train one, predict, inspect and export it."""

# License: BSD 3 clause

import argparse
import csv
import sys
import time
from pathlib import Path

__all__ = ["main"]

_PROBLEMS = ("lamellarity", "encapsulation")
_LIPNETS = ("lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6")
_MODELS = (*_LIPNETS, "lipnet_fcn", "svm", "logistic")


class CommandError(Exception):
    """A problem with the command's input, reported without a traceback."""


# -- data ----------------------------------------------------------------------


def _load_labelled(args):
    """Load the data set the arguments name: a folder, else synthetic particles."""
    if args.data is not None:
        from sklipo.datasets import load_particles

        data = load_particles(
            args.data,
            pixel_size=args.pixel_size,
            mask_suffix=None if args.no_masks else "_mask",
        )
        origin = f"'{args.data}'"
    else:
        from sklipo.datasets import make_liposomes

        weights = [1, 1, 1] if args.balanced else None
        data = make_liposomes(
            args.synthetic,
            n_samples=args.n_samples,
            weights=weights,
            random_state=args.random_state,
        )
        origin = f"synthetic {args.synthetic} liposomes"
    X, y, names = data.data, data.target, data.target_names
    counts = ", ".join(f"{name} {int((y == k).sum())}" for k, name in enumerate(names))
    print(f"Data: {len(X)} particles from {origin} ({counts})")
    return X, y, names


def _load_unlabelled(folder, *, no_masks, pixel_size):
    """Particles to classify: a folder layout load_particles reads, or a flat folder."""
    from sklipo.datasets import load_particles

    folder = Path(folder)
    if not folder.is_dir():
        raise CommandError(f"'{folder}' is not a folder.")
    mask_suffix = None if no_masks else "_mask"
    has_subfolders = any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())
    if has_subfolders or (folder / "manifest.csv").exists():
        data = load_particles(folder, pixel_size=pixel_size, mask_suffix=mask_suffix)
        return data.data, data.target_names[data.target]
    return _load_flat(folder, mask_suffix, pixel_size), None


def _load_flat(folder, mask_suffix, pixel_size):
    """Read the images (and masks) lying directly in `folder`."""
    import numpy as np

    from sklipo import ParticleSet
    from sklipo.datasets._image_files import IMAGE_EXTENSIONS, read_image, read_mask

    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    masks = {p.stem: p for p in files if mask_suffix and p.stem.endswith(mask_suffix)}
    images = [p for p in files if p.stem not in masks]
    if not images:
        raise CommandError(
            f"'{folder}' holds no images ({', '.join(IMAGE_EXTENSIONS)} files)."
        )
    pixels, mask_list, sizes = [], [], []
    for path in images:
        image, size = read_image(path)
        pixels.append(image)
        sizes.append(size if pixel_size is None else pixel_size)
        if mask_suffix is None:
            continue
        mask = masks.get(path.stem + mask_suffix)
        if mask is None:
            raise CommandError(
                f"The image '{path}' has no mask '{path.stem + mask_suffix}.*'; add the "
                "masks or pass --no-masks to use whole images."
            )
        mask_list.append(read_mask(mask))
    return ParticleSet(
        pixels,
        mask_list or None,
        pixel_size=np.asarray(sizes, dtype=float),
        ids=[p.stem for p in images],
        channel_axis=-1 if any(image.ndim == 3 for image in pixels) else None,
    )


# -- models --------------------------------------------------------------------


def _make_model(name, args):
    """The named model, preprocessing included, as an unfitted pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

    if name == "svm":
        from sklipo.features import make_svm_baseline

        return make_svm_baseline(probability=args.probability)
    steps = [("crop", CropParticle(args.input_mode)), ("normalize", IntensityNormalizer("quantile"))]
    if name == "logistic":
        steps += [
            ("resize", Resize(args.size)),
            ("flatten", Flatten()),
            ("clf", LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)),
        ]
        return Pipeline(steps)
    from sklipo.classifier import LipNetClassifier

    if name in _LIPNETS:
        steps.append(("resize", Resize(args.size)))
    net = LipNetClassifier(
        name,
        max_epochs=args.epochs,
        balanced_batches=True,
        verbose=0,
        random_state=args.random_state,
    )
    return Pipeline([*steps, ("net", net)])


def _model_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in _MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(_MODELS)}"
        )
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"a model is listed twice: {text}")
    return names


def _check_out(path, force):
    path = Path(path)
    if path.exists() and not force:
        if path.is_dir() and not any(path.iterdir()):
            return path
        raise CommandError(f"'{path}' exists; choose another --out or pass --force to overwrite.")
    return path


# -- commands ------------------------------------------------------------------


def _compare(args):
    """Cross-validate models side by side on the same folds and write a report."""
    from sklipo.compare import compare

    if args.out is not None:
        import matplotlib

        # The report's PNGs are written to files: no window, no display needed.
        matplotlib.use("Agg")
        _check_out(args.out, args.force)
    start = time.perf_counter()
    X, y, names = _load_labelled(args)
    models = {name: _make_model(name, args) for name in args.models}
    print(f"Models: {', '.join(models)}; {args.cv}-fold cross-validation")
    result = compare(
        models,
        X,
        y,
        cv=args.cv,
        target_names=names,
        n_jobs=args.n_jobs,
        verbose=1,
        random_state=args.random_state,
    )
    print()
    print(result.table())
    if args.out is not None:
        out = result.save(args.out, overwrite=args.force)
        print(f"\nReport: {out / 'report.md'} (also report.html, results.json, PNGs)")
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 1 if len(result.errors) == len(models) * args.cv else 0


def _train(args):
    """Train one model on a labelled data set; save it with joblib and a model card."""
    from sklipo.deployment import card_path, save

    out = _check_out(args.out, args.force)
    X, y, names = _load_labelled(args)
    model = _make_model(args.model, args)
    start = time.perf_counter()
    model.fit(X, names[y])
    print(f"Trained {args.model} in {time.perf_counter() - start:.1f} s.")
    command = {"model": args.model, "masks": not args.no_masks, "input_mode": args.input_mode}
    save(model, out, X=X, y=names[y], metadata={"sklipo_train": command}, overwrite=args.force)
    print(f"Saved to {out} (model card: {card_path(out)})")
    return 0


def _predict(args):
    """Classify the particles of a folder with a saved model; write a CSV."""
    from sklipo.deployment import load, load_card

    estimator = load(args.model)
    channels = load_card(args.model)["input"]["channels"]
    X, true = _load_unlabelled(args.data, no_masks=args.no_masks, pixel_size=args.pixel_size)
    if channels is not None and X.n_channels != channels:
        raise CommandError(
            f"The model was trained on images with {channels} channel(s); the "
            f"images in '{args.data}' have {X.n_channels}. Convert them to the training "
            "images' mode (grayscale or the same channels) first."
        )
    labels = estimator.predict(X)
    header = ["id", "label"]
    rows = [[i, label] for i, label in zip(X.ids, labels)]
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        header += [f"p_{c}" for c in estimator.classes_]
        rows = [row + [f"{p:.6f}" for p in ps] for row, ps in zip(rows, proba)]
    if true is not None:
        header.append("folder_label")
        rows = [row + [t] for row, t in zip(rows, true)]
    if args.out is None:
        _write_csv(sys.stdout, header, rows)
    else:
        out = _check_out(args.out, args.force)
        with open(out, "w", newline="", encoding="utf-8") as file:
            _write_csv(file, header, rows)
        print(f"Predicted {len(rows)} particles; wrote {out}")
    return 0


def _write_csv(file, header, rows):
    writer = csv.writer(file)
    writer.writerow(header)
    writer.writerows(rows)


def _export(args):
    """Export a LipNet model saved by 'sklipo train' to ONNX, for any ONNX runtime."""
    from sklipo.deployment import export_onnx, load

    out = _check_out(args.out, args.force)
    estimator = load(args.model)
    try:
        export_onnx(estimator, out, verbose=args.verbose)
    except (TypeError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"Exported to {out}")
    return 0


def _inspect(args):
    """Plot what a trained LipNet model sees in one particle image."""
    import matplotlib

    # the plots are written to files: no window, no display needed
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklipo import ParticleSet
    from sklipo.datasets._image_files import read_image, read_mask
    from sklipo.deployment import load
    from sklipo.inspection import (
        ATTRIBUTION_METHODS,
        AttributionDisplay,
        FeatureMapDisplay,
        KernelDisplay,
        conv_layers,
    )

    out = _check_out(args.out, args.force)
    estimator = load(args.model)
    try:
        layers = conv_layers(estimator)
    except TypeError as exc:
        raise CommandError(str(exc)) from exc
    image, pixel_size = read_image(args.image)
    X = ParticleSet(
        [image],
        None if args.mask is None else [read_mask(args.mask)],
        pixel_size=pixel_size if args.pixel_size is None else args.pixel_size,
        ids=[Path(args.image).stem],
        channel_axis=-1 if image.ndim == 3 else None,
    )
    displays = {f"kernels_{layer}.png": (KernelDisplay, {"layer": layer}) for layer in layers}
    displays["feature_maps.png"] = (FeatureMapDisplay, {"X": X})
    for method in ATTRIBUTION_METHODS:
        displays[f"{method}.png"] = (AttributionDisplay, {"X": X, "methods": [method]})
    out.mkdir(parents=True, exist_ok=True)
    for name, (display, kwargs) in displays.items():
        figure = display.from_estimator(estimator, **kwargs).figure_
        figure.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(figure)
        print(f"Wrote {out / name}")
    proba = estimator.predict_proba(X)[0]
    classes = estimator.classes_
    print(f"Predicted class: {classes[proba.argmax()]}")
    print("Probabilities: " + ", ".join(f"{c} {p:.3f}" for c, p in zip(classes, proba)))
    return 0


# -- parser --------------------------------------------------------------------


def _add_data_arguments(parser):
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        metavar="DIR",
        help="labelled particles: one sub-folder per class, or a manifest.csv "
        "(see sklipo.datasets.load_particles)",
    )
    source.add_argument(
        "--synthetic",
        "--problem",
        choices=_PROBLEMS,
        default="lamellarity",
        help="use the embedded synthetic liposomes of this problem (the default, lamellarity)",
    )
    parser.add_argument(
        "--n-samples", type=int, default=1000, help="synthetic particles (default: 1000)"
    )
    parser.add_argument(
        "--balanced",
        action="store_true",
        help="synthetic classes in equal numbers (default: the study's imbalance)",
    )
    parser.add_argument(
        "--no-masks", action="store_true", help="images have no mask files: use whole images"
    )
    parser.add_argument(
        "--pixel-size", type=float, default=None, help="nm per pixel of every image"
    )


def _add_model_arguments(parser):
    parser.add_argument(
        "--epochs", type=int, default=10, help="training epochs of the networks (default: 10)"
    )
    parser.add_argument("--size", type=int, default=28, help="network input size (default: 28)")
    parser.add_argument(
        "--input-mode",
        choices=["masked", "cropped", "surrounding"],
        default="masked",
        help="crop to the particle and mask it (default), crop only, or keep the surrounding",
    )
    parser.add_argument(
        "--probability",
        action="store_true",
        help="let the SVM estimate probabilities (Platt scaling, 5x slower)",
    )
    parser.add_argument("--random-state", type=int, default=0)


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklipo",
        description="Classify particles in electron-microscopy images.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    compare = commands.add_parser(
        "compare",
        aliases=["demo"],
        help="cross-validate models side by side and write a report",
        description=_compare.__doc__
        + " Without --data it runs on the embedded synthetic liposomes; the defaults "
        "take a few minutes on 2 cores. For the study's full-size run use e.g. "
        "--n-samples 14169 --epochs 30 --size 64.",
    )
    _add_data_arguments(compare)
    compare.add_argument(
        "--models",
        type=_model_names,
        default=["lipnet4", "svm"],
        help=f"comma-separated, from {', '.join(_MODELS)} (default: lipnet4,svm)",
    )
    compare.add_argument("--cv", type=int, default=5, help="folds (default: 5)")
    compare.add_argument("--out", metavar="DIR", help="write the report into this folder")
    compare.add_argument("--force", action="store_true", help="write into an existing --out")
    compare.add_argument("--n-jobs", type=int, default=None, help="parallel fits (default: 1)")
    _add_model_arguments(compare)
    compare.set_defaults(handler=_compare)

    train = commands.add_parser(
        "train", help="train one model and save it", description=_train.__doc__
    )
    _add_data_arguments(train)
    train.add_argument("--model", choices=_MODELS, default="lipnet4")
    train.add_argument("--out", metavar="FILE", required=True, help="model file (.joblib)")
    train.add_argument("--force", action="store_true", help="overwrite an existing --out")
    _add_model_arguments(train)
    train.set_defaults(handler=_train)

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
        help="images (with <name>_mask masks), flat or in sub-folders, or a manifest.csv",
    )
    predict.add_argument("--out", metavar="FILE", help="CSV to write (default: print)")
    predict.add_argument("--force", action="store_true", help="overwrite an existing --out")
    predict.add_argument("--no-masks", action="store_true", help="images have no masks")
    predict.add_argument("--pixel-size", type=float, default=None, help="nm per pixel")
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
        + " Writes kernels_<layer>.png for each conv layer, feature_maps.png, "
        "saliency.png, guided_backprop.png and deconvnet.png, all in the frame of the "
        "network's input (after the model's crop and resize), and prints the "
        "predicted class.",
    )
    inspect.add_argument("model", help="a LipNet model file written by 'sklipo train'")
    inspect.add_argument("image", help="one particle image (PNG, TIFF or MRC)")
    inspect.add_argument("--out", metavar="DIR", required=True, help="folder for the plots")
    inspect.add_argument("--force", action="store_true", help="write into a non-empty --out")
    inspect.add_argument(
        "--mask", metavar="FILE", help="the particle's mask (default: the whole image)"
    )
    inspect.add_argument("--pixel-size", type=float, default=None, help="nm per pixel")
    inspect.set_defaults(handler=_inspect)
    return parser


def main(argv=None):
    """Run the ``sklipo`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        The exit status: 0 on success, 1 when the input is wrong (the message
        is printed on standard error) or every fit failed.
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ValueError, OSError) as exc:
        print(f"sklipo {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
