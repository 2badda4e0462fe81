"""Telling the user which files a reader left out, once, or refusing them."""

# License: BSD 3 clause

import warnings

__all__ = ["report_left_out"]


def report_left_out(left_out, loader, strict, *, stacklevel=3):
    """Warn once (or raise, when strict) about the files a loader did not read.

    Parameters
    ----------
    left_out : list of (str, str)
        ``(path, why)`` for each file or folder left out, in order.
    loader : str
        The loader's name, for the message.
    strict : bool
        Raise a ValueError instead of warning.
    stacklevel : int, default=3
        Passed on to :func:`warnings.warn`.
    """
    if not left_out:
        return
    shown = "; ".join(f"'{path}' ({why})" for path, why in left_out[:5])
    more = f"; and {len(left_out) - 5} more" if len(left_out) > 5 else ""
    message = f"{loader} left out {len(left_out)} file(s) or folder(s): {shown}{more}."
    if strict:
        raise ValueError(
            message + " Remove them, or pass strict=False to skip them with a warning."
        )
    warnings.warn(
        message + " Pass strict=True to make this an error.",
        UserWarning,
        stacklevel=stacklevel + 1,
    )
