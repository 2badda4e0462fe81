"""The ``sklipo`` command."""

# License: BSD 3 clause

import argparse
import sys
import time

__all__ = ["main"]


def _demo(args):
    """Cross-validate a small pipeline on synthetic liposomes and print a report."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report, confusion_matrix
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline

    from sklipo.datasets import make_liposomes
    from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

    start = time.perf_counter()
    data = make_liposomes(args.problem, n_samples=args.n_samples, random_state=args.random_state)
    X, y, names = data.data, data.target, data.target_names
    counts = ", ".join(f"{name} {np.sum(y == k)}" for k, name in enumerate(names))
    print(f"Data: {X!r}\nClasses: {counts}")
    pipe = Pipeline(
        [
            ("crop", CropParticle("masked")),
            ("normalize", IntensityNormalizer("quantile")),
            ("resize", Resize(args.size)),
            ("flatten", Flatten()),
            ("clf", LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)),
        ]
    )
    print(f"Model: {' -> '.join(name for name, _ in pipe.steps)}")
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state)
    predicted = cross_val_predict(pipe, X, y, cv=cv, n_jobs=args.n_jobs)
    print(f"\n{args.cv}-fold cross-validated predictions:\n")
    print(classification_report(y, predicted, target_names=names, digits=3, zero_division=0))
    matrix = confusion_matrix(y, predicted)
    width = max(len(n) for n in names)
    print("Confusion matrix (rows true, columns predicted):")
    print(" " * (width + 2) + "  ".join(f"{n[:8]:>8}" for n in names))
    for name, row in zip(names, matrix):
        print(f"{name:>{width}}  " + "  ".join(f"{v:8d}" for v in row))
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 0


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklipo",
        description="Classify particles in electron-microscopy images.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="cross-validate a small model on the embedded synthetic liposomes",
        description=_demo.__doc__,
    )
    demo.add_argument("--problem", choices=["lamellarity", "encapsulation"], default="lamellarity")
    demo.add_argument("--n-samples", type=int, default=2000, help="particles to generate (default: 2000)")
    demo.add_argument("--size", type=int, default=28, help="input size in pixels (default: 28)")
    demo.add_argument("--cv", type=int, default=5, help="cross-validation folds (default: 5)")
    demo.add_argument("--n-jobs", type=int, default=None, help="parallel folds (default: 1)")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(handler=_demo)
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
        The exit status.
    """
    args = _build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
