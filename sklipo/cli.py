"""The ``sklipo`` command: compare models, train one, predict, inspect and export it."""

# License: BSD 3 clause

import argparse
import csv
import os
import sys
import time
import warnings
from pathlib import Path

from sklipo import __version__
from sklipo._cli_population import (
    fit_population,
    load_population,
    population_path,
    set_columns,
    share_rows,
    shares,
)
from sklipo._progress import Progress, limit_threads

__all__ = ["main"]

_PROBLEMS = ("lamellarity", "encapsulation")
_LIPNETS = ("lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6")
_MODELS = (*_LIPNETS, "lipnet_fcn", "svm", "logistic")
_MASK_SUFFIX = "_mask"


class CommandError(Exception):
    """A problem with the command's input, reported without a traceback."""


# -- data ----------------------------------------------------------------------


def _load_labelled(args):
    """Load the data set the arguments name: a folder, else synthetic particles."""
    if args.data is not None and _is_yolo_folder(args.data):
        return _load_annotated(args)
    if args.data is not None:
        from sklipo.datasets import load_particles

        data = load_particles(
            args.data,
            pixel_size=args.pixel_size,
            mask_suffix=None if args.no_masks else _MASK_SUFFIX,
        )
        if args.no_masks:
            data = _skip_mask_files(data, args.data)
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


def _data_description(args):
    """Where the labelled data came from, with the settings that made it (for reports)."""
    if args.data is not None:
        masks = "whole images (no masks)" if args.no_masks else "with masks"
        pixel = "" if args.pixel_size is None else f", pixel size {args.pixel_size} nm"
        return f"particles in '{args.data}' ({masks}{pixel})"
    classes = "balanced classes" if args.balanced else "the study's class proportions"
    return (
        f"synthetic {args.synthetic} liposomes (make_liposomes, n_samples={args.n_samples}, "
        f"{classes}, random_state={args.random_state})"
    )


def _load_unlabelled(folder, *, no_masks, pixel_size):
    """Particles to classify: a folder layout load_particles reads, or a flat folder."""
    from sklipo.datasets import load_particles

    folder = Path(folder)
    if not folder.is_dir():
        raise CommandError(f"'{folder}' is not a folder.")
    mask_suffix = None if no_masks else _MASK_SUFFIX
    has_subfolders = any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())
    if has_subfolders or (folder / "manifest.csv").exists():
        data = load_particles(folder, pixel_size=pixel_size, mask_suffix=mask_suffix)
        if no_masks:
            data = _skip_mask_files(data, folder)
        return data.data, data.target_names[data.target]
    return _load_flat(folder, mask_suffix, pixel_size), None


def _skip_mask_files(data, folder):
    """Leave out the mask files of class folders loaded with --no-masks: not particles."""
    import numpy as np

    if not Path(folder).is_dir() or (Path(folder) / "manifest.csv").exists():
        return data  # a manifest lists its particles itself
    is_mask = np.char.endswith(np.asarray(data.data.ids, dtype=str), _MASK_SUFFIX)
    if is_mask.any():
        _warn_mask_files(int(is_mask.sum()), folder)
        data.data, data.target = data.data[~is_mask], data.target[~is_mask]
    return data


def _warn_mask_files(count, folder):
    warnings.warn(
        f"left out {count} mask file(s) (*{_MASK_SUFFIX}.*) in '{folder}': with "
        "--no-masks the whole images are used, and masks are not particles.",
        UserWarning,
        stacklevel=2,
    )


def _load_flat(folder, mask_suffix, pixel_size):
    """Read the images (and masks) lying directly in `folder`."""
    import numpy as np

    from sklipo import ParticleSet
    from sklipo.datasets import IMAGE_EXTENSIONS, read_image, read_mask

    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    # mask files are never particles, also when --no-masks leaves them unused
    masks = {p.stem: p for p in files if p.stem.endswith(mask_suffix or _MASK_SUFFIX)}
    images = [p for p in files if p.stem not in masks]
    if mask_suffix is None and masks:
        _warn_mask_files(len(masks), folder)
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
        verbose=int(args.verbose),
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


def _check_out(path, force, *, flag="--out", folder=False):
    """Refuse an existing `path` without --force, and check it can be written.

    Run before the long work: missing parent folders are created and a
    read-only place is refused now, not after minutes of training.
    """
    from sklipo.utils import check_writable

    path = Path(path)
    if path.exists() and not force:
        if not (path.is_dir() and not any(path.iterdir())):
            raise CommandError(
                f"'{path}' exists; choose another {flag} or pass --force to overwrite."
            )
    try:
        check_writable(path, folder=folder)
    except OSError as exc:
        raise CommandError(f"Cannot write {flag} {exc.strerror or exc}") from exc
    return path


def _check_folds(cv, y, names):
    """Refuse a --cv that cannot split the data (class codes `y`), before any work."""
    import numpy as np

    counts = np.bincount(y, minlength=len(names))
    rarest = int(np.argmin(counts))
    if counts[rarest] < cv:
        raise CommandError(
            f"--cv {cv} needs at least {cv} particles of every class, one for each "
            f"fold's test part; '{names[rarest]}' has {counts[rarest]}. Lower --cv, or "
            "add particles of that class."
        )


def _write_csv_file(out, header, rows):
    """Write a CSV whole or not at all: an old file is never left half-written."""
    from sklipo.utils import write_atomic

    def write(temp):
        with open(temp, "w", newline="", encoding="utf-8") as file:
            _write_csv(file, header, rows)

    write_atomic(out, write)


# -- commands ------------------------------------------------------------------


def _compare(args):
    """Cross-validate models side by side on the same folds and write a report."""
    from sklipo.compare import compare

    if args.out is not None:
        import matplotlib

        # The report's PNGs are written to files: no window, no display needed.
        matplotlib.use("Agg")
        _check_out(args.out, args.force, folder=True)
    start = time.perf_counter()
    X, y, names = _load_labelled(args)
    _check_folds(args.cv, y, names)
    models = {name: _make_model(name, args) for name in args.models}
    print(f"Models: {', '.join(models)}; {args.cv}-fold cross-validation")
    from sklipo.utils import dask_backend

    with limit_threads(args.threads), dask_backend(args.scheduler) as client:
        if client is not None:
            print(f"Dask cluster: {client.scheduler.address}, {len(client.nthreads())} workers")
        result = compare(
            models,
            X,
            y,
            cv=args.cv,
            target_names=names,
            n_jobs=args.n_jobs,
            verbose=1,
            random_state=args.random_state,
            data_description=_data_description(args),
        )
    print()
    print(result.table())
    print(f"\nVerdict: {result.verdict()['text']}")
    not_run = result.not_run()
    partial = " partial" if not_run else ""
    if args.out is not None:
        out = result.save(args.out, overwrite=args.force)
        print(f"\nReport{partial}: {out / 'report.md'} (also report.html, results.json, PNGs)")
    else:
        print(
            "\nNo report written: pass --out DIR to save report.md/.html, results.json "
            "and the plots."
        )
    for error in result.errors:
        print(
            f"sklipo compare: error: {error['model']} failed on fold {error['fold'] + 1} "
            f"of {result.n_folds}: {error['error']}",
            file=sys.stderr,
        )
    if not_run:
        print(
            f"\nInterrupted after {time.perf_counter() - start:.1f} s: "
            f"{len(not_run)} of {result.status.size} fits did not run (marked 'not run').",
            file=sys.stderr,
        )
        return 130
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 1 if result.errors else 0


def _convert(args):
    """Convert a particle folder or manifest into one zarr particle store, read lazily later."""
    from sklipo.datasets import convert_to_store, load_particles

    start = time.perf_counter()
    _check_out(args.store, args.force, flag="STORE", folder=True)
    store = convert_to_store(
        args.source,
        args.store,
        pixel_size=args.pixel_size,
        mask_suffix=None if args.no_masks else "_mask",
        overwrite=args.force,
        verbose=1,
    )
    data = load_particles(store)
    size = sum(f.stat().st_size for f in Path(store).rglob("*") if f.is_file())
    print(
        f"Wrote {len(data.data)} particles ({', '.join(data.target_names)}) to '{store}' "
        f"({size / 2**20:.1f} MiB) in {time.perf_counter() - start:.1f} s."
    )
    return 0


def _train(args):
    """Train one model on a labelled data set; save it with joblib and a model card."""
    from sklipo.deployment import card_path, save

    out = _check_out(args.out, args.force)
    X, y, names = _load_labelled(args)
    model = _make_model(args.model, args)
    start = time.perf_counter()
    print(f"Training {args.model} on {len(X)} particles...", flush=True)
    population = None
    with limit_threads(args.threads):
        if args.prevalence or args.coverage is not None:
            print("  with 5 more fits for the class shares and/or prediction sets", flush=True)
            try:
                model, population = fit_population(
                    model, X, names[y], prevalence=args.prevalence, coverage=args.coverage,
                    random_state=args.random_state,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        else:
            _fit_with_progress(model, X, names[y], args)
    print(f"Trained {args.model} in {time.perf_counter() - start:.1f} s.")
    command = {"model": args.model, "masks": not args.no_masks, "input_mode": args.input_mode}
    cutout = None
    if args.data is not None and _is_yolo_folder(args.data):
        # How the particles were cut out of their micrographs, for 'sklipo predict
        # --micrographs', and the particles' size range (geometric-mean box sides, px).
        cutout = _cutout_arguments(args)
        command["box_sides"] = args.box_sides
    save(model, out, X=X, y=names[y], cutout=cutout, metadata={"sklipo_train": command},
         overwrite=args.force)
    print(f"Saved to {out} (model card: {card_path(out)})")
    if population is not None:
        save(population, population_path(out), metadata={"sklipo_train": command},
             overwrite=True)
        print(f"Saved the class-share estimator and/or prediction sets to {population_path(out)}")
    return 0


def _parse_budget(text):
    """Seconds of a budget such as ``30m``, ``1h``, ``90s`` or ``600``."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = text.strip().lower()
    scale = units.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a budget is a number of seconds, or minutes or hours such as 30m or 1h; got {text!r}"
        ) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"the budget must be positive; got {text!r}")
    return seconds


def _tune(args):
    """Search the best recipe for a data set within a time budget; save it and a report."""
    from sklipo.deployment import card_path, save
    from sklipo.model_selection import make_search, search_report

    out = _check_out(args.out, args.force)
    X, y, names = _load_labelled(args)
    _check_folds(args.cv, y, names)
    search = make_search(
        budget=args.budget,
        families=tuple(args.families.split(",")),
        cv=args.cv,
        random_state=args.random_state,
        verbose=int(args.verbose),
    )
    print(f"Searching recipes on {len(X)} particles for {args.budget:.0f} s...", flush=True)
    with limit_threads(args.threads):
        search.fit(X, names[y])
    report = search_report(search)
    command = {"budget_seconds": args.budget, "families": args.families}
    save(search.best_estimator_, out, X=X, y=names[y],
         metadata={"sklipo_tune": command, "search_report": report}, overwrite=args.force)
    report_path = out.with_suffix(".md")
    report_path.write_text(report, encoding="utf-8")
    print(report)
    print(f"Saved the best recipe to {out} (model card: {card_path(out)}); report: {report_path}")
    return 0


def _fit_with_progress(model, X, y, args):
    """Fit `model`, reporting each epoch of a network: a bar on a terminal, else lines.

    A network gets an :class:`~sklipo._epoch_progress.EpochProgress` skorch
    callback for the fit; ``--verbose`` shows skorch's per-epoch table
    instead.
    """
    net = model.named_steps.get("net") if hasattr(model, "named_steps") else None
    if net is None or args.verbose:
        model.fit(X, y)
        return
    from sklipo._epoch_progress import EpochProgress

    callbacks = net.callbacks
    net.set_params(callbacks=[*(callbacks or ()), EpochProgress("[train] epoch")])
    try:
        model.fit(X, y)
    finally:
        # the saved model refits as quietly as it was asked to
        net.set_params(callbacks=callbacks)


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
    from sklipo.deployment._runtime import runtime_predictor

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


def _write_csv(file, header, rows):
    writer = csv.writer(file)
    writer.writerow(header)
    writer.writerows(rows)


def _export(args):
    """Export a LipNet model saved by 'sklipo train' to ONNX, for any ONNX runtime."""
    from sklipo.deployment import export_onnx, load

    out = _check_out(args.out, args.force, flag="OUT")
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
    from sklipo.datasets import read_image
    from sklipo.deployment import load
    from sklipo.inspection import (
        ATTRIBUTION_METHODS,
        AttributionDisplay,
        FeatureMapDisplay,
        KernelDisplay,
        conv_layers,
    )

    out = _check_out(args.out, args.force, folder=True)
    estimator = load(args.model)
    try:
        layers = conv_layers(estimator)
    except TypeError as exc:
        raise CommandError(str(exc)) from exc
    image, pixel_size = read_image(args.image)
    mask = _inspected_mask(args)
    X = ParticleSet(
        [image],
        None if mask is None else [mask],
        pixel_size=pixel_size if args.pixel_size is None else args.pixel_size,
        ids=[Path(args.image).stem],
        channel_axis=-1 if image.ndim == 3 else None,
    )
    displays = {f"kernels_{layer}.png": (KernelDisplay, {"layer": layer}) for layer in layers}
    displays["feature_maps.png"] = (FeatureMapDisplay, {"X": X})
    for method in ATTRIBUTION_METHODS:
        displays[f"{method}.png"] = (AttributionDisplay, {"X": X, "methods": [method]})
    out.mkdir(parents=True, exist_ok=True)
    _remove_earlier_plots(out, ATTRIBUTION_METHODS)
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


def _remove_earlier_plots(out, methods):
    """Delete the plots an earlier inspect wrote to `out` (another model's layers, maybe).

    Only files of inspect's own names go; other files in the folder stay.
    """
    names = ["kernels_*.png", "feature_maps.png", *(f"{method}.png" for method in methods)]
    for pattern in names:
        for path in out.glob(pattern):
            if path.is_file():
                path.unlink()


def _inspected_mask(args):
    """The particle's mask for inspect: --mask, else ``<name>_mask.*`` beside the image."""
    from sklipo.datasets import IMAGE_EXTENSIONS, read_mask

    if args.no_masks:
        return None
    if args.mask is not None:
        return read_mask(args.mask)
    image = Path(args.image)
    found = sorted(
        p for p in image.parent.iterdir()
        if p.is_file() and p.stem == f"{image.stem}_mask" and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not found:
        raise CommandError(
            f"The image '{image}' has no mask '{image.stem}_mask.*' beside it; add it, name "
            "it with --mask FILE, or pass --no-masks to use the whole image."
        )
    return read_mask(found[0])


def _masks(args):
    """Draw the particles of a data set with their mask outlines in one grid (PNG)."""
    import matplotlib

    # the grid is written to a file: no window, no display needed
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from sklipo.datasets import (
        MaskGridDisplay,
        load_annotated_micrographs,
        load_particles,
        read_class_names,
    )

    out = _check_out(args.out, args.force)
    data = Path(args.data)
    if (data / "images").is_dir() and (data / "labels").is_dir():
        if args.classes is not None:
            names = Path(args.classes)
            classes = read_class_names(names) if names.is_file() else args.classes.split(",")
        elif (data / "classes.txt").is_file():
            classes = read_class_names(data / "classes.txt")
        else:
            raise CommandError(
                f"'{data}' has images/ and labels/ but no classes.txt; pass --classes "
                "with the class names (comma-separated, or a file with one per line)."
            )
        bunch = load_annotated_micrographs(
            data / "images",
            data / "labels",
            classes,
            surrounding=args.surrounding,
            polarity=args.polarity,
            channel=args.channel,
            sigma=args.sigma,
        )
        fallback = bunch.mask_fallback
        print(
            f"{len(bunch.data)} particles from {len(np.unique(bunch.filenames))} "
            f"micrograph(s); {int(fallback.sum())} mask fallback(s) "
            f"({fallback.mean():.1%}) to the inscribed ellipse"
        )
    else:
        bunch = load_particles(data, mask_suffix=None if args.no_masks else "_mask")
        print(f"{len(bunch.data)} particles with their masks")
    display = MaskGridDisplay.from_bunch(bunch, max_particles=args.max_particles)
    display.figure_.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(display.figure_)
    print(f"Wrote {out}")
    return 0


# -- whole micrographs -----------------------------------------------------------

_CUTOUT_OPTIONS = ("surrounding", "polarity", "channel", "sigma")


def _is_yolo_folder(folder):
    """Whether `folder` has the layout annotation tools export: images/ and labels/."""
    folder = Path(folder)
    return (folder / "images").is_dir() and (folder / "labels").is_dir()


def _cutout_arguments(args):
    """The cut-out settings given on the command line (those left unset omitted)."""
    return {
        key: getattr(args, key) for key in _CUTOUT_OPTIONS if getattr(args, key, None) is not None
    }


def _yolo_class_names(folder, classes):
    """The class names: --classes (a file or comma-separated), else folder/classes.txt."""
    from sklipo.datasets import read_class_names

    if classes is not None:
        names = Path(classes)
        return read_class_names(names) if names.is_file() else classes.split(",")
    if (Path(folder) / "classes.txt").is_file():
        return read_class_names(Path(folder) / "classes.txt")
    raise CommandError(
        f"'{folder}' has images/ and labels/ but no classes.txt; pass --classes with the "
        "class names (comma-separated, or a file with one per line)."
    )


def _load_annotated(args):
    """Particles cut out of annotated micrographs (a YOLO folder), as training data."""
    import numpy as np

    from sklipo.datasets import load_annotated_micrographs

    folder = Path(args.data)
    classes = _yolo_class_names(folder, getattr(args, "classes", None))
    bunch = load_annotated_micrographs(
        folder / "images", folder / "labels", classes, pixel_size=args.pixel_size,
        **_cutout_arguments(args),
    )
    X, y, names = bunch.data, bunch.target, bunch.target_names
    heights, widths = bunch.boxes[:, 2] - bunch.boxes[:, 0], bunch.boxes[:, 3] - bunch.boxes[:, 1]
    sides = np.sqrt(heights * widths)
    # What 'sklipo predict --micrographs' searches for by default.
    args.box_sides = [float(sides.min()), float(sides.max())] if len(sides) else None
    counts = ", ".join(f"{name} {int((y == k).sum())}" for k, name in enumerate(names))
    print(
        f"Data: {len(X)} particles cut out of {len(np.unique(bunch.filenames))} annotated "
        f"micrograph(s) in '{folder}' ({counts}); {int(bunch.mask_fallback.sum())} mask "
        "fallback(s)"
    )
    return X, y, names


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


def _csv_value(value):
    return f"{value:.6f}" if isinstance(value, float) else value


def _diameter_range(text):
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH (two numbers); got {text!r}"
        ) from None
    return low, high


def _at_least(low):
    """An argparse type: an integer >= `low`, refused in the flag's own terms."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}; got {text!r}")
        return value

    return parse


def _positive(text):
    """An argparse type: a finite number > 0 (a pixel size)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0; got {text!r}")
    return value


def _fraction(text):
    """An argparse type: a number strictly between 0 and 1 (a coverage)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a number between 0 and 1, e.g. 0.9; got {text!r}"
        )
    return value


def _add_cutout_arguments(parser, *, training):
    """How particles are cut out of micrographs: for 'train' on a YOLO folder, and 'predict'."""
    if training:
        defaults = {"surrounding": 10, "polarity": "auto", "channel": None, "sigma": 1.0}
        note = " (default: auto; for a YOLO --data folder of annotated micrographs)"
    else:
        defaults = dict.fromkeys(_CUTOUT_OPTIONS)
        note = " (default: as recorded in the model card at training)"
    parser.add_argument(
        "--surrounding", type=_at_least(0), default=defaults["surrounding"],
        help="pixels cut out around each box" + (" (default: 10)" if training else note),
    )
    parser.add_argument(
        "--polarity", choices=["auto", "dark", "bright"], default=defaults["polarity"],
        help="particles darker (TEM) or brighter (fluorescence) than the background, for "
        "segmenting them" + note,
    )
    parser.add_argument(
        "--channel", type=int, default=defaults["channel"],
        help="segment on this channel" + (" (default: every channel)" if training else note),
    )
    parser.add_argument(
        "--sigma", type=float, default=defaults["sigma"],
        help="smoothing in px before segmenting" + (" (default: 1)" if training else note),
    )
    if training:
        parser.add_argument(
            "--classes",
            help="class names of a YOLO --data folder, comma-separated or a file "
            "(default: DATA/classes.txt)",
        )


def _add_micrograph_arguments(parser):
    """'sklipo predict' on whole micrographs: finding the particles, overlays."""
    parser.add_argument(
        "--micrographs", action="store_true",
        help="DIR holds whole micrographs: find the particles, cut them out as in training, "
        "classify each (default when DIR has images/ and labels/ or --boxes is given)",
    )
    parser.add_argument(
        "--boxes", metavar="LABELS",
        help="a detector's YOLO label folder (class cx cy w h [confidence] per line) to "
        "use instead of finding the particles",
    )
    parser.add_argument(
        "--min-confidence", type=float, default=None,
        help="drop detector boxes below this confidence (default: keep all)",
    )
    parser.add_argument(
        "--diameter-range", type=_diameter_range, default=None, metavar="LOW,HIGH",
        help="particle diameters to search, nm with --pixel-size, else px (default: the "
        "training boxes' range, widened by 30%%)",
    )
    parser.add_argument(
        "--threshold", type=float, default=4.0,
        help="how far particles stand out of the background, in noise units (default: 4)",
    )
    parser.add_argument(
        "--overlays", metavar="DIR",
        help="folder for one overlay PNG per micrograph (default: next to --out, "
        "<out>_overlays/; none when printing)",
    )


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
        help="use the embedded synthetic liposomes of this problem (the default without "
        "--data: lamellarity)",
    )
    parser.add_argument(
        "--n-samples",
        type=_at_least(1),
        default=1000,
        help="synthetic particles (default: 1000; the study's full size is 14169 for "
        "lamellarity, 24918 for encapsulation)",
    )
    parser.add_argument(
        "--balanced",
        action="store_true",
        help="synthetic classes in equal numbers (default: the study's imbalance)",
    )
    parser.add_argument(
        "--no-masks",
        action="store_true",
        help="images have no mask files: use whole images (default: read <name>_mask files)",
    )
    parser.add_argument(
        "--pixel-size",
        type=_positive,
        default=None,
        help="nm per pixel of every image (default: from the manifest or the file headers)",
    )


def _add_run_arguments(parser, *, verbose=True):
    """--threads, and --verbose for the commands that train networks."""
    parser.add_argument(
        "--threads",
        type=_at_least(1),
        default=None,
        metavar="N",
        help="threads per process for torch, BLAS and joblib's workers (default: what "
        "torch picks, one per core); on a busy machine 1 can be fastest",
    )
    if verbose:
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="print skorch's table of losses for every epoch of every network "
            "(default: a progress bar on a terminal, one line per step otherwise)",
        )


def _add_model_arguments(parser):
    parser.add_argument(
        "--epochs",
        type=_at_least(1),
        default=10,
        help="training epochs of the networks (default: 10; the study's full runs: 30)",
    )
    parser.add_argument(
        "--size",
        type=_at_least(1),
        default=28,
        help="network input size in pixels (default: 28, the study's LipNet-4 input)",
    )
    parser.add_argument(
        "--input-mode",
        choices=["masked", "cropped", "surrounding"],
        default="masked",
        help="crop to the particle and mask it (default), crop only, or keep the surrounding",
    )
    parser.add_argument(
        "--probability",
        action="store_true",
        help="let the SVM estimate probabilities (Platt scaling, 5x slower; default: off)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the synthetic data, the folds and the networks (default: 0)",
    )


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
    compare.add_argument("--n-jobs", type=int, default=None, help="parallel fits (default: 1)")
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
        "several classes); the model must be trained with --coverage C",
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
    masks.add_argument("--sigma", type=float, default=1.0, help="smoothing in px (default: 1)")
    masks.add_argument(
        "--max-particles", type=_at_least(1), default=48, help="particles shown, fallbacks first"
    )
    masks.add_argument("--no-masks", action="store_true", help="particle folder without masks")
    masks.set_defaults(handler=_masks)
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
        The exit status: 0 on success; 1 when the input is wrong (the message
        is printed on standard error) or a fit failed (``compare`` names the
        model, fold and error); 130 when interrupted (Ctrl-C; ``compare``
        saves what finished as a partial report); 141 when standard output
        was closed early (``sklipo predict ... | head``), quietly.
    """
    args = _build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # one line per warning, e.g. a class too rare in the folds to be scored reliably
        warnings.showwarning = _warning_printer(args.command)
        try:
            return args.handler(args)
        except BrokenPipeError:
            # `sklipo predict ... | head`: the reader has all it wants. Point
            # stdout at /dev/null so the final flush cannot fail again.
            _silence_stdout()
            return 141
        except KeyboardInterrupt:
            print(f"\nsklipo {args.command}: interrupted; nothing more was written.", file=sys.stderr)
            return 130
        except (CommandError, ValueError, OSError) as exc:
            print(f"sklipo {args.command}: error: {exc}", file=sys.stderr)
            return 1


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's capture): nothing to flush later


def _warning_printer(command):
    def show(message, category, filename, lineno, file=None, line=None):
        kind = "" if category is UserWarning else f" ({category.__name__})"
        # one plain line: the first paragraph (a library's warning may go on
        # with a traceback), its line breaks joined
        text = " ".join(str(message).strip().split("\n\n")[0].split())
        print(f"sklipo {command}: warning{kind}: {text}", file=sys.stderr)

    return show


if __name__ == "__main__":
    sys.exit(main())
