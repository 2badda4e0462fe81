"""Shared by the ``sklipo`` commands: their error, constants, --out checks, CSV and warnings."""

# License: BSD 3 clause

import csv
import os
import sys
from pathlib import Path

__all__ = []

_PROBLEMS = ("lamellarity", "encapsulation")
_LIPNETS = ("lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6")
_MODELS = (*_LIPNETS, "lipnet_fcn", "svm", "logistic")
_MASK_SUFFIX = "_mask"
_CUTOUT_OPTIONS = ("surrounding", "polarity", "channel", "sigma")


class CommandError(Exception):
    """A problem with the command's input, reported without a traceback."""


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


def _write_csv(file, header, rows):
    writer = csv.writer(file)
    writer.writerow(header)
    writer.writerows(rows)


def _csv_value(value):
    return f"{value:.6f}" if isinstance(value, float) else value


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
