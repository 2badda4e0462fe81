"""Argparse types of the ``sklipo`` options: each refuses a bad value in its own terms."""

# License: BSD 3 clause

import argparse

__all__ = []


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


def _diameter_range(text):
    """An argparse type: LOW,HIGH with 0 < LOW < HIGH, both finite."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH (two numbers); got {text!r}"
        ) from None
    if not 0 < low < high < float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH with 0 < LOW < HIGH, e.g. 20,200; got {text!r}"
        )
    return low, high


def _n_jobs(text):
    """An argparse type: a number of parallel jobs, an integer other than 0 (-1: all cores)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer, or negative to count back from all cores "
            f"(-1: all); got {text!r}"
        )
    return value


def _unit_interval(text):
    """An argparse type: a number from 0 to 1, both included (a confidence)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1; got {text!r}")
    return value


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
