"""Save particles and labels, losslessly, in the layout load_particles reads back."""

# License: BSD 3 clause

import csv
import os
import re
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from sklipo._particles import as_particle_set
from sklipo.datasets._image_files import write_image, write_mask
from sklipo.datasets._particle_listing import _MANIFEST_COLUMNS, _MANIFEST_NAME
from sklipo.utils import replace_folder

__all__ = ["save_particles"]

_UNSAFE = re.compile(r"[^\w.-]+")
# How save_particles names its files: "<class folder>/<position>_<id>.png|.tif".
_SAVED_FILE = re.compile(r"[^/.][^/]*/[0-9]{5,}_[^/]*\.(png|tif)")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{name}{i}" for name in ("COM", "LPT") for i in range(1, 10)
}


def _safe_name(name, *, max_length=60):
    """Turn a class name or id into a file name that works on every system."""
    safe = _UNSAFE.sub("_", name)[:max_length]
    if not safe or safe.startswith("."):
        safe = "_" + safe
    if safe.split(".")[0].upper() in _WINDOWS_RESERVED:
        safe = "_" + safe
    return safe


def _class_names(y, target_names, n):
    """Return the class name of every particle as strings."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(
            f"y must hold one label per particle ({n}); got an array of shape {y.shape}."
        )
    if target_names is None:
        return y.astype(str)
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            "target_names maps integer labels to class names, but y holds "
            f"{y.dtype} labels; pass y as class indices or leave target_names=None."
        )
    target_names = np.asarray(target_names).astype(str)
    if target_names.ndim != 1 or len(set(target_names)) != len(target_names):
        raise ValueError(
            f"target_names must be a 1-D list of distinct names; got {target_names!r}."
        )
    bad = np.flatnonzero((y < 0) | (y >= len(target_names)))
    if bad.size:
        raise ValueError(
            f"y[{bad[0]}] is {y[bad[0]]}, outside the {len(target_names)} target_names "
            f"(valid labels: 0 to {len(target_names) - 1})."
        )
    return target_names[y]


def _class_folders(labels):
    """Map each class name to a distinct safe folder name."""
    folders = {name: _safe_name(name) for name in np.unique(labels)}
    seen = {}
    for name, folder in folders.items():
        if folder.lower() in seen:
            raise ValueError(
                f"The class names {seen[folder.lower()]!r} and {name!r} both become the "
                f"folder name {folder!r} once characters unsafe in file names are "
                "replaced; rename one of the classes."
            )
        seen[folder.lower()] = name
    return folders


def _files_to_keep(root):
    """The files of `root` that are not part of an earlier save_particles.

    The files an earlier save listed in its manifest, named the way
    save_particles names them (``<class>/<position>_<id>.png|.tif``), and
    the manifest itself are replaced; every other file is kept, so the
    files a hand-written manifest lists under other names survive.
    """
    saved = {_MANIFEST_NAME}
    manifest = root / _MANIFEST_NAME
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8-sig") as file:
            rows = list(csv.DictReader(file))
        cells = [row.get(column) or "" for row in rows for column in ("image", "mask")]
        saved |= {cell for cell in cells if _SAVED_FILE.fullmatch(cell)}
    files = (file.relative_to(root).as_posix() for file in root.rglob("*") if file.is_file())
    return [file for file in files if file not in saved]


def _write_particles(X, labels, folders, path):
    """Write the image and mask files and the manifest into the folder `path`."""
    width = max(5, len(str(len(X) - 1)))
    rows = []
    for index, (particle, label) in enumerate(zip(X, labels)):
        class_dir = path / folders[label]
        class_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{index:0{width}d}_{_safe_name(particle.id)}"
        if stem.endswith("_mask"):
            # A stem ending like a mask file would be read as one in the
            # class-folder layout.
            stem += "_"
        image_file = write_image(class_dir / stem, particle.image)
        mask_file = write_mask(class_dir / f"{stem}_mask", particle.mask)
        pixel_size = repr(particle.pixel_size) if np.isfinite(particle.pixel_size) else ""
        rows.append(
            (
                particle.id,
                image_file.relative_to(path).as_posix(),
                mask_file.relative_to(path).as_posix(),
                label,
                pixel_size,
            )
        )
    with open(path / _MANIFEST_NAME, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(_MANIFEST_COLUMNS)
        writer.writerows(rows)


@validate_params(
    {
        "X": "no_validation",
        "y": ["array-like"],
        "path": [str, os.PathLike],
        "target_names": ["array-like", None],
        "overwrite": ["boolean"],
        "format": [StrOptions({"folder", "zarr"})],
    },
    prefer_skip_nested_validation=True,
)
def save_particles(X, y, path, *, target_names=None, overwrite=False, format="folder"):
    """Write particles and labels to a folder that :func:`load_particles` reads back.

    The folder gets one sub-folder per class and a ``manifest.csv`` listing,
    in the order of `X`, each particle's ``id``, ``image`` and ``mask`` files,
    ``label`` and ``pixel_size`` (nm per pixel, empty when unknown).
    :func:`load_particles` prefers the manifest, so loading the folder gives
    back the same images (dtype and values), masks, pixel sizes, ids, labels
    and order. 8-bit grayscale images are written as PNG, all others
    (16-bit, floating point, multichannel) as zlib-compressed TIFF; masks as
    8-bit PNG (0 and 255). File names are ``<position>_<id>`` with characters
    other than letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``;
    class folder names are made safe the same way (the manifest keeps the
    exact class names).

    Parameters
    ----------
    X : ParticleSet or ndarray
        The particles; an image stack is converted with
        :func:`sklipo.as_particle_set`.
    y : array-like of shape (n_particles,)
        Class labels: names (any values, written as text), or integer indices
        into `target_names`.
    path : str or path-like
        The folder to write; created if missing.
    target_names : array-like of str, default=None
        Class names for integer labels ``0, 1, ...``. None writes the labels
        themselves. :func:`load_particles` sorts class names as text, so its
        ``target`` equals integer `y` when `target_names` is sorted and every
        class occurs.
    overwrite : bool, default=False
        Whether to write into a folder that is not empty. Then the files an
        earlier save listed in its ``manifest.csv`` (those named
        ``<class>/<position>_<id>.png`` or ``.tif``) are replaced, as are
        files named like a new one; nothing else is deleted. The new set
        is written into a folder beside `path` and swapped in once
        complete, so a failure half-way leaves the previous set as it was. With
        ``format="zarr"``: replace an existing particle store at `path`.
    format : {"folder", "zarr"}, default="folder"
        ``"folder"`` writes the image files and manifest above. ``"zarr"``
        writes one chunked, compressed zarr store (a folder, e.g.
        ``particles.zarr``; needs the ``scale`` extra) holding images, masks,
        pixel sizes, ids and labels, which :func:`load_particles` opens
        lazily: pixels are read when used, so sets larger than memory work.
        See :ref:`bigger_data`.

    Returns
    -------
    pathlib.Path
        The folder or store written, ready for :func:`load_particles`.

    Raises
    ------
    FileExistsError
        If `path` is a folder that is not empty and `overwrite` is False.
    NotADirectoryError
        If `path` is an existing file.
    ValueError
        If `y` does not have one label per particle, an integer label is
        outside `target_names`, or two class names map to the same folder name.

    See Also
    --------
    load_particles : Read the folder back.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.datasets import load_particles, save_particles
    >>> X = ParticleSet([np.full((30, 30), 0.5, np.float32), np.zeros((20, 24), np.uint16)],
    ...                 ids=["lip-1", "lip-2"])
    >>> folder = save_particles(X, [1, 0], tempfile.mkdtemp(), target_names=["empty", "full"])
    >>> print((folder / "manifest.csv").read_text().strip())
    id,image,mask,label,pixel_size
    lip-1,full/00000_lip-1.tif,full/00000_lip-1_mask.png,full,
    lip-2,empty/00001_lip-2.tif,empty/00001_lip-2_mask.png,empty,
    >>> X2, y2 = load_particles(folder, return_X_y=True)
    >>> X2.images[0].dtype, y2
    (dtype('float32'), array([1, 0]))
    """
    X = as_particle_set(X)
    labels = _class_names(y, target_names, len(X))
    if format == "zarr":
        from sklipo.datasets._store import save_store

        return save_store(X, labels, path, overwrite=overwrite)
    folders = _class_folders(labels)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"Cannot save particles into '{path}': it is a file.")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"The folder '{path}' is not empty. Choose a new folder, or pass "
                "overwrite=True to replace an earlier save there."
            )
    keep = _files_to_keep(path) if path.is_dir() else []
    path.parent.mkdir(parents=True, exist_ok=True)
    # The new set is written into a sibling folder and swapped in whole: a
    # failure half-way leaves the previous set as it was, never a partial one.
    with replace_folder(path, keep=keep) as temp:
        _write_particles(X, labels, folders, temp)
    return path
