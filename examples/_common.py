"""Shared command-line options of the example scripts (not part of sklipo)."""

import argparse
import sys
import tempfile
from pathlib import Path

#: n_samples, epochs, cv of the two small runs: --smoke checks that a script
#: works (seconds); --gallery is what the documentation shows (minutes in all).
SMOKE_SIZE = (36, 1, 2)
GALLERY_SIZE = (510, 2, 3)


def gallery_folder(script):
    """Where an example run by the documentation build writes its figures."""
    return Path(tempfile.gettempdir()) / "sklipo-gallery" / Path(script).stem


def parse_args(doc, argv=None):
    """Parse the options every example takes; `doc` is the script's docstring.

    sphinx-gallery shows the docstring as the page's text and runs the
    script without it (an empty ``__doc__``).
    """
    parser = argparse.ArgumentParser(description=(doc or "").strip().split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=1500, help="synthetic particles")
    parser.add_argument("--epochs", type=int, default=10, help="training epochs per network")
    parser.add_argument("--cv", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--plot", default=None, help="PNG file for the figure")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny, balanced run that only checks the script works"
    )
    parser.add_argument(
        "--gallery",
        action="store_true",
        help="the documentation's small run (510 particles at the study's class "
        "proportions, 2 epochs, 3 folds), figures written where the docs build finds them",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.n_samples, args.epochs, args.cv = SMOKE_SIZE
    elif args.gallery:
        args.n_samples, args.epochs, args.cv = GALLERY_SIZE
        folder = gallery_folder(sys.argv[0])
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        args.plot = str(folder / "fig.png")
    return args


def load(problem, args):
    """Synthetic liposomes of one problem (balanced classes in smoke mode)."""
    from sklipo.datasets import make_liposomes

    weights = [1, 1, 1] if args.smoke else None
    return make_liposomes(problem, args.n_samples, weights=weights, random_state=0)


def gallery_argv(gallery_conf, script_vars):
    """The arguments sphinx-gallery runs each example with (its ``reset_argv``)."""
    return ["--gallery"]


def gallery_scraper(block, block_vars, gallery_conf):
    """Show the PNG files an example wrote in its gallery folder (a sphinx-gallery scraper).

    The examples save their figures as files, as a user running them gets
    them; the documentation shows those files, in the order written.
    """
    import shutil

    from sphinx_gallery.scrapers import figure_rst

    folder = gallery_folder(block_vars["src_file"])
    written = sorted(folder.glob("*.png"), key=lambda p: p.stat().st_mtime_ns)
    paths = []
    for png, path in zip(written, block_vars["image_path_iterator"]):
        shutil.move(png, path)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
