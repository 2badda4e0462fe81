"""``sklipo inspect``: plot what a trained LipNet sees in one particle image."""

# License: BSD 3 clause

from pathlib import Path

from sklipo.cli._common import CommandError, _check_out

__all__ = []


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
