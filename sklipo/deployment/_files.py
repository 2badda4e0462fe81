"""Writing files so that a crash never leaves a half-written one."""

# License: BSD 3 clause

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path, write):
    """Call ``write(temp_path)`` on a temporary file, then move it onto `path`.

    The temporary file lies in the target's folder (so the move is atomic)
    and is flushed to disk before the move; on any error it is removed and
    `path` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    write : callable
        Writes the whole content to the path it is given.
    """
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temp)
        with open(temp, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
