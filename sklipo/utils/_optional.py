"""Importing an optional dependency, or saying which extra installs it."""

# License: BSD 3 clause

import importlib

__all__ = ["import_optional"]


def import_optional(*names, extra, purpose):
    """Import optional packages; on failure, name the extra that installs them.

    Parameters
    ----------
    *names : str
        The modules to import, e.g. ``"onnx", "onnxscript"``.
    extra : str
        sklipo's optional extra that brings them, e.g. ``"onnx"``.
    purpose : str
        What needs them, completing "... needs <packages>", e.g.
        ``"export_onnx"``.

    Returns
    -------
    module : module
        The first of `names`.

    Raises
    ------
    ImportError
        If one of them is missing, with the pip command that installs it.

    Examples
    --------
    >>> from sklipo.utils import import_optional
    >>> import_optional("json", extra="plot", purpose="this example").__name__
    'json'
    """
    try:
        modules = [importlib.import_module(name) for name in names]
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs {' and '.join(names)} ({exc}), from sklipo's optional "
            f"'{extra}' extra: pip install \"sklipo[{extra}]\""
        ) from exc
    return modules[0]
