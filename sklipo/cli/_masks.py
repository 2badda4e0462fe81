"""``sklipo masks``: draw particles with their mask outlines in one grid."""

# License: BSD 3 clause

from pathlib import Path

from sklipo.cli._common import CommandError, _check_out

__all__ = []


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
        methods, counts = np.unique(bunch.mask_quality.method, return_counts=True)
        print(
            f"{len(bunch.data)} particles from {len(np.unique(bunch.filenames))} "
            f"micrograph(s); {int(fallback.sum())} mask fallback(s) "
            f"({fallback.mean():.1%}) to the inscribed ellipse; masks by method: "
            + ", ".join(f"{method} {count}" for method, count in zip(methods, counts))
        )
    else:
        bunch = load_particles(data, mask_suffix=None if args.no_masks else "_mask")
        print(f"{len(bunch.data)} particles with their masks")
    display = MaskGridDisplay.from_bunch(bunch, max_particles=args.max_particles)
    display.figure_.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(display.figure_)
    print(f"Wrote {out}")
    return 0
