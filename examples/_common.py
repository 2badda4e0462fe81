"""Shared command-line options of the example scripts (not part of sklipo)."""

import argparse


def parse_args(description, argv=None):
    """Parse the options every example takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n-samples", type=int, default=1500, help="synthetic particles")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs per network")
    parser.add_argument("--cv", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--plot", default=None, help="PNG file for the figure")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny, balanced run that only checks the script works"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_samples, args.epochs, args.cv = 36, 1, 2
    return args


def load(problem, args):
    """Synthetic liposomes of one problem (balanced classes in smoke mode)."""
    from sklipo.datasets import make_liposomes

    weights = [1, 1, 1] if args.smoke else None
    return make_liposomes(problem, args.n_samples, weights=weights, random_state=0)
