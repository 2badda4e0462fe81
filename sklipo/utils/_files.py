"""Writing files and folders so that a failure never leaves a half-written one.

Every writer of sklipo writes beside its target first (a temporary file or
folder in the same folder, so the final move is a rename on one file
system) and moves the result into place only once it is complete. A
failure, at any step, leaves the previous files as they were and no
temporary file behind; the error names the file the user asked for.
"""

# License: BSD 3 clause

import errno
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["check_writable", "replace_folder", "write_atomic", "write_together"]


def _umask():
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_file(path):
    """A new empty file beside `path`, with the mode a plain new file would get."""
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _named(exc, path) from exc
    os.close(handle)
    # mkstemp creates 0600 files; a model or a CSV must be as readable as any
    # other file the user writes, so follow the umask like open() does.
    os.chmod(temp, 0o666 & ~_umask())
    return temp


def _named(exc, path):
    """The same kind of OSError as `exc`, naming `path` instead of a temporary file."""
    if not isinstance(exc, OSError):
        return exc
    reason = exc.strerror or str(exc)
    try:
        if exc.errno:
            return type(exc)(exc.errno, f"Could not write '{path}': {reason}")
        return type(exc)(f"Could not write '{path}': {reason}")
    except TypeError:
        # an OSError subclass with its own signature: name the target in place
        exc.filename, exc.filename2 = str(path), None
        return exc


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def write_atomic(path, write):
    """Call ``write(temp_path)`` on a temporary file, then move it onto `path`.

    The temporary file lies in the target's folder (so the move is atomic),
    gets the permissions of any new file (``0o666`` less the umask) and is
    flushed to disk before the move; on any error it is removed, `path` is
    left as it was and the error names `path`.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    write : callable
        Writes the whole content to the path it is given.

    Raises
    ------
    OSError
        If the folder of `path` is missing or writing fails; the message
        names `path`, never the temporary file.
    """
    write_together({path: write})


def write_together(writes):
    """Write several files so that they are replaced together or not at all.

    Each ``write(temp_path)`` writes a temporary file beside its target;
    only when all are written are they moved into place. Should a move fail,
    the files already moved are put back, so the previous files stay a
    consistent set (a model and its card, for instance).

    Parameters
    ----------
    writes : dict
        Maps each target path to the callable that writes its content, in
        the order to write them.

    Raises
    ------
    OSError
        As :func:`write_atomic`, naming the target that failed.
    """
    targets = [Path(path) for path in writes]
    temps, backups, moved = {}, {}, []
    try:
        for path, write in zip(targets, writes.values()):
            temps[path] = _temp_file(path)
            try:
                write(temps[path])
                with open(temps[path], "rb+") as file:
                    os.fsync(file.fileno())
            except OSError as exc:
                raise _named(exc, path) from exc
        for path in targets:
            if len(targets) > 1 and path.exists():
                # Keep the previous file until every new one is in place.
                backup = _temp_file(path)
                temps[backup] = backup  # removed if the move fails
                os.replace(path, backup)
                backups[path] = temps.pop(backup)
            try:
                os.replace(temps[path], path)
            except OSError as exc:
                raise _named(exc, path) from exc
            moved.append(path)
    except BaseException:
        for path in reversed(targets):
            if path in backups and os.path.lexists(backups[path]):
                os.replace(backups[path], path)
            elif path in moved:
                os.remove(path)
        raise
    finally:
        for temp in [*temps.values(), *backups.values()]:
            if os.path.lexists(temp):
                os.remove(temp)


@contextmanager
def replace_folder(path, *, keep=()):
    """Yield a temporary folder beside `path` to fill; on success it becomes `path`.

    The previous folder at `path`, if any, is replaced whole; a failure
    while the new one is filled, or while they are swapped, leaves it as it
    was and no temporary folder behind.

    Parameters
    ----------
    path : str or path-like
        The folder to write.
    keep : iterable of str, default=()
        Paths, relative to `path`, of files of the previous folder that the
        new one keeps (moved over unless the new one has a file of that
        name).

    Yields
    ------
    pathlib.Path
        The empty folder to write into.
    """
    path = Path(path)
    try:
        temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    except OSError as exc:
        raise _named(exc, path) from exc
    os.chmod(temp, 0o777 & ~_umask())
    old = None
    carried = []
    try:
        yield temp
        for name in keep:
            source, target = path / name, temp / name
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, target)
                carried.append(name)
        if path.exists():
            # A name as unique as the temporary folder's, for the previous one.
            old = temp.with_name(temp.name[: -len(".tmp")] + ".old")
            os.replace(path, old)
        try:
            os.replace(temp, path)
        except OSError as exc:
            raise _named(exc, path) from exc
    except BaseException:
        if old is not None and old.exists():
            if path.exists() and not temp.exists():
                os.replace(path, temp)
            os.replace(old, path)
        for name in carried:
            if (temp / name).is_file():
                os.replace(temp / name, path / name)
        raise
    finally:
        for leftover in (temp, old):
            if leftover is not None:
                _remove_folder(leftover)


def _remove_folder(folder, *, attempts=40, pause=0.05):
    """Remove `folder` and everything in it, if it exists.

    A writer that failed may still have writes in flight on its own threads
    (zarr writes chunks concurrently, and the first error returns before the
    others finish): they can land after the folder was emptied, so removal
    is tried again for up to ``attempts * pause`` seconds.
    """
    for _ in range(attempts):
        if not folder.exists():
            return
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            time.sleep(pause)


def check_writable(path, *, folder=False):
    """Create the missing parent folders of `path` and check it can be written.

    For a command that writes its output only after long work: the check
    fails at once instead of after it.

    Parameters
    ----------
    path : str or path-like
        The file or folder to be written later.
    folder : bool, default=False
        Whether `path` is a folder (its own parent must be writable).

    Raises
    ------
    OSError
        If a parent folder cannot be created or is not writable, naming
        `path`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        # mkdir's own words name the file in the way, not what was asked for
        blocker = next((p for p in (path.parent, *path.parent.parents) if p.is_file()), path.parent)
        raise NotADirectoryError(
            errno.ENOTDIR, f"Could not write '{path}': '{blocker}' is a file, not a folder"
        ) from exc
    except OSError as exc:
        raise _named(exc, path) from exc
    target = path.parent if folder or not path.is_dir() else path
    if path.exists() and not path.is_dir() and not os.access(path, os.W_OK):
        raise PermissionError(f"Could not write '{path}': the file is read-only.")
    if not os.access(target, os.W_OK | os.X_OK):
        raise PermissionError(f"Could not write '{path}': the folder '{target}' is read-only.")
