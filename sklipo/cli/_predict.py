"""``sklipo predict``: classify particle cut-outs, or the particles of whole micrographs."""

# License: BSD 3 clause

import sys
from pathlib import Path

from sklipo._progress import Progress, limit_threads
from sklipo.cli._common import (
    CommandError,
    _check_out,
    _csv_value,
    _write_csv,
    _write_csv_file,
)
from sklipo.cli._data import _cutout_arguments, _is_yolo_folder, _load_unlabelled
from sklipo.cli._population import load_population, set_columns, share_rows, shares

__all__ = []


def _predict(args):
    """Classify the particles of a folder with a saved model; write a CSV."""
    if _wants_micrographs(args):
        return _predict_micrographs(args)
    from sklipo.deployment import load, load_card

    if args.out is not None:
        _check_out(args.out, args.force)
    estimator = load(args.model)
    population = _population(args)
    channels = load_card(args.model)["input"]["channels"]
    X, true = _load_unlabelled(args.data, no_masks=args.no_masks, pixel_size=args.pixel_size)
    if channels is not None and X.n_channels != channels:
        raise CommandError(
            f"The model was trained on images with {channels} channel(s); the "
            f"images in '{args.data}' have {X.n_channels}. Convert them to the training "
            "images' mode (grayscale or the same channels) first."
        )
    with limit_threads(args.threads):
        estimator = _runtime_predictor(estimator, args.runtime)
        labels, proba = _predict_with_progress(estimator, X, to_stdout=args.out is None)
    header = ["id", "label"]
    rows = [[i, label] for i, label in zip(X.ids, labels)]
    if proba is not None:
        header += [f"p_{c}" for c in estimator.classes_]
        rows = [row + [f"{p:.6f}" for p in ps] for row, ps in zip(rows, proba)]
    if args.coverage is not None:
        with limit_threads(args.threads):
            sets, set_labels = set_columns(population["conformal"], X)
        header += ["set", "set_label"]
        rows = [row + [s, label] for row, s, label in zip(rows, sets, set_labels)]
    if true is not None:
        header.append("folder_label")
        rows = [row + [t] for row, t in zip(rows, true)]
    if args.out is None:
        _write_csv(sys.stdout, header, rows)
    else:
        out = _check_out(args.out, args.force)
        _write_csv_file(out, header, rows)
        print(f"Predicted {len(rows)} particles; wrote {out}")
    if args.prevalence:
        _report_shares({"all": shares(population["prevalence"], labels)}, args)
    return 0


def _runtime_predictor(estimator, runtime):
    """The estimator, or its ONNX Runtime predictor (--runtime)."""
    from sklipo.deployment import runtime_predictor

    try:
        return runtime_predictor(estimator, runtime)
    except (ImportError, TypeError, ValueError) as exc:
        raise CommandError(f"--runtime onnx: {exc}") from exc


def _population(args):
    """The saved prevalence estimator and conformal sets 'predict' was asked to use, or None."""
    if not args.prevalence and args.coverage is None:
        return None
    try:
        return load_population(args.model, prevalence=args.prevalence, coverage=args.coverage)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def _report_shares(results, args):
    """Print the class shares of each sample; with --out, also write <out>_prevalence.csv."""
    stream = sys.stderr if args.out is None else sys.stdout
    for sample, result in results.items():
        print(f"\nClass shares, {sample}:\n{result.to_table()}", file=stream)
    if args.out is not None:
        out = Path(args.out)
        path = out.with_name(f"{out.stem}_prevalence.csv")
        _write_csv_file(path, *share_rows(results))
        print(f"Wrote the class shares to {path}")


def _predict_with_progress(estimator, X, *, to_stdout, chunk=256):
    """Labels and probabilities (or None) of `X`, `chunk` particles at a time, with progress.

    The progress goes to standard error when the CSV goes to standard output.
    """
    import numpy as np

    labels, proba = [], []
    has_proba = hasattr(estimator, "predict_proba")
    stream = sys.stderr if to_stdout else None
    with Progress(len(X), "[predict] particles", file=stream) as progress:
        for start in range(0, len(X), chunk):
            part = X[start : start + chunk]
            labels.append(estimator.predict(part))
            if has_proba:
                proba.append(estimator.predict_proba(part))
            progress.update(n=len(part))
    return np.concatenate(labels), np.concatenate(proba) if has_proba else None


def _wants_micrographs(args):
    """Whether 'sklipo predict' gets whole micrographs rather than particle cut-outs."""
    return args.micrographs or args.boxes is not None or _is_yolo_folder(args.data)


def _predict_micrographs(args):
    """Find, cut out and classify the particles of whole micrographs; CSV and overlays."""
    from sklipo.deployment import load, load_card
    from sklipo.detection import ParticleFinder, classify_micrographs, draw_overlay

    if args.out is not None:
        _check_out(args.out, args.force)
    if args.coverage is not None:
        raise CommandError(
            "--coverage adds prediction sets to particle cut-outs; on whole micrographs, "
            "use --prevalence for the class shares."
        )
    population = _population(args)
    card = load_card(args.model)
    cutout = dict(card.get("cutout") or {})
    given = _cutout_arguments(args)
    if not cutout and not given:
        raise CommandError(
            f"The model card of '{args.model}' records no cut-out settings: the model was "
            "trained on particle cut-outs, not on annotated micrographs. Pass "
            "--surrounding/--polarity/--channel/--sigma as used for training (how the "
            "training particles were cut out of their micrographs)."
        )
    cutout.update(given)
    folder = Path(args.data)
    images, labels = folder, None
    if args.boxes is not None:
        labels = Path(args.boxes)
    elif _is_yolo_folder(folder):
        images, labels = folder / "images", folder / "labels"
    if not images.exists():
        raise CommandError(f"'{images}' does not exist.")
    estimator = load(args.model)
    finder = None
    if labels is None:
        sides = (card.get("metadata") or {}).get("sklipo_train", {}).get("box_sides")
        if args.diameter_range is not None:
            low, high = args.diameter_range
        elif sides:
            low, high = 0.7 * sides[0], 1.3 * sides[1]
        else:
            low = high = None
        # Unfitted: classify_micrographs fits it on the first micrograph.
        finder = ParticleFinder(
            diameter_range=None if low is None else (low, high),
            pixel_size=args.pixel_size if args.diameter_range is not None else None,
            threshold=args.threshold,
        )
    with limit_threads(args.threads):
        result = classify_micrographs(
            estimator, images, finder=finder, labels=labels,
            min_confidence=args.min_confidence, cutout=cutout, pixel_size=args.pixel_size,
        )
    rows = [[_csv_value(row[key]) for key in result.columns] for row in result.rows]
    out = None if args.out is None else _check_out(args.out, args.force)
    if out is None:
        _write_csv(sys.stdout, result.columns, rows)
    else:
        _write_csv_file(out, result.columns, rows)
    overlays = Path(args.overlays) if args.overlays else (
        None if out is None else out.with_name(out.stem + "_overlays")
    )
    if overlays is not None:
        from sklipo.datasets import read_image

        overlays.mkdir(parents=True, exist_ok=True)
        for m in result.micrographs:
            image, _ = read_image(images / m.name if images.is_dir() else images)
            draw_overlay(image, m.boxes, m.labels, classes=result.classes,
                         path=overlays / f"{Path(m.name).stem}.png", title=m.name)
    report = sys.stderr if out is None else sys.stdout
    where = "" if out is None else f"; wrote {out}"
    drawn = "" if overlays is None else f" and overlays in {overlays}"
    print(f"Classified {len(rows)} particles in {len(result.micrographs)} micrograph(s)"
          f"{where}{drawn}", file=report)
    if args.prevalence and result.rows:
        labels = [row["label"] for row in result.rows]
        names = [row["micrograph"] for row in result.rows]
        quantifier = population["prevalence"]
        results = {
            name: shares(quantifier, [lab for lab, n in zip(labels, names) if n == name])
            for name in dict.fromkeys(names)
        }
        results["all"] = shares(quantifier, labels)
        _report_shares(results, args)
    return 0
