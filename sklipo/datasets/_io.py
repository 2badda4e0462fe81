"""Load particle cut-outs from disk and save them back, losslessly."""

# License: BSD 3 clause

import csv
import os
import re
import warnings
from collections import Counter
from numbers import Real
from pathlib import Path, PurePosixPath

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet, as_particle_set
from sklipo.datasets._image_files import (
    IMAGE_EXTENSIONS,
    read_image,
    read_mask,
    report_left_out,
    write_image,
    write_mask,
)

__all__ = ["load_particles", "save_particles"]

# The manifest that load_particles reads first in a folder and save_particles writes.
_MANIFEST_NAME = "manifest.csv"
_MANIFEST_COLUMNS = ("id", "image", "mask", "label", "pixel_size")
_REQUIRED_COLUMNS = ("image", "label")
_PROGRESS_EVERY = 1000


class _Record:
    """Where one particle's files are and what the listing says about it."""

    def __init__(self, image, mask, label, pixel_size, id_, where):
        self.image = image
        self.mask = mask
        self.label = label
        self.pixel_size = pixel_size
        self.id = id_
        self.where = where


def _read_manifest(manifest):
    """Parse a manifest CSV into records, naming the file and line in errors."""
    root = manifest.parent
    with open(manifest, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        columns = [name.strip().lower() for name in (reader.fieldnames or [])]
        missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise ValueError(
                f"The manifest '{manifest}' lacks the column(s) {missing}; it needs a "
                f"header row with at least {list(_REQUIRED_COLUMNS)} (optional: 'mask', "
                f"'pixel_size', 'id'). Found columns {columns}."
            )
        reader.fieldnames = columns
        records = []
        for row in reader:
            where = f"'{manifest}', line {reader.line_num}"
            records.append(_parse_manifest_row(row, root, where))
    if not records:
        raise ValueError(f"The manifest '{manifest}' lists no particles.")
    return records


def _parse_manifest_row(row, root, where):
    """Turn one manifest row into a record, checking its cells."""
    cells = {name: (row.get(name) or "").strip() for name in _MANIFEST_COLUMNS}
    for name in _REQUIRED_COLUMNS:
        if not cells[name]:
            raise ValueError(f"{where}: the '{name}' cell is empty.")
    pixel_size = np.nan
    if cells["pixel_size"]:
        try:
            pixel_size = float(cells["pixel_size"])
        except ValueError:
            raise ValueError(
                f"{where}: pixel_size must be a number (nm per pixel); got "
                f"{cells['pixel_size']!r}."
            ) from None
        if not (np.isfinite(pixel_size) and pixel_size > 0):
            raise ValueError(
                f"{where}: pixel_size must be positive and finite (nm per pixel); got "
                f"{cells['pixel_size']!r}."
            )
    image = root / cells["image"]
    mask = root / cells["mask"] if cells["mask"] else None
    id_ = cells["id"] or PurePosixPath(cells["image"]).with_suffix("").as_posix()
    return _Record(image, mask, cells["label"], pixel_size, id_, where)


def _scan_folder(root, mask_suffix, left_out):
    """List the particles of a folder with one sub-folder per class.

    Files beside the class folders, and entries of a class folder that are not
    read, are appended to `left_out` as ``(path, why)``; hidden entries (names
    starting with ".") are skipped silently.
    """
    class_dirs = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    left_out.extend(
        (entry, "a file beside the class folders; particles go inside them")
        for entry in sorted(root.iterdir())
        if not entry.is_dir() and not entry.name.startswith(".")
    )
    if not class_dirs:
        raise ValueError(
            f"Found no class folders in '{root}'. Expected one sub-folder per class "
            f"holding the images, or a '{_MANIFEST_NAME}' manifest."
        )
    records = []
    for class_dir in class_dirs:
        records.extend(_scan_class(class_dir, mask_suffix, left_out))
    return records


def _scan_class(class_dir, mask_suffix, left_out):
    """List the images of one class folder and pair each with its mask."""
    files = []
    for entry in sorted(class_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            left_out.append((entry, "a folder inside a class folder; not searched"))
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(entry)
        else:
            left_out.append((entry, "not an image type sklipo reads"))
    masks = {}
    images = []
    for file in files:
        if mask_suffix is not None and file.stem.endswith(mask_suffix):
            masks.setdefault(file.stem, []).append(file)
        else:
            images.append(file)
    if not images:
        raise ValueError(
            f"The class folder '{class_dir}' holds no images (looked for "
            f"{', '.join(IMAGE_EXTENSIONS)} files"
            + (f" not ending in {mask_suffix!r}" if mask_suffix is not None else "")
            + ")."
        )
    stems = Counter(file.stem for file in images)
    twins = [stem for stem, count in stems.items() if count > 1]
    if twins:
        raise ValueError(
            f"In '{class_dir}', several images share the name {twins[0]!r} with "
            "different extensions; keep one file per particle."
        )
    if mask_suffix is not None:
        orphans = sorted(set(masks) - {stem + mask_suffix for stem in stems})
        if orphans:
            raise FileNotFoundError(
                f"The mask '{masks[orphans[0]][0]}' has no image: expected "
                f"'{class_dir / orphans[0][: -len(mask_suffix)]}' with one of the "
                f"extensions {', '.join(IMAGE_EXTENSIONS)}."
            )
    records = []
    for image in images:
        mask = None
        if mask_suffix is not None:
            found = masks.get(image.stem + mask_suffix, [])
            if not found:
                raise FileNotFoundError(
                    f"The image '{image}' has no mask: expected "
                    f"'{class_dir / (image.stem + mask_suffix)}' with one of the "
                    f"extensions {', '.join(IMAGE_EXTENSIONS)}. Pass mask_suffix=None "
                    "to load images without masks (a transparent background then "
                    "gives the mask)."
                )
            if len(found) > 1:
                raise ValueError(
                    f"The image '{image}' has several masks: "
                    f"{', '.join(str(f) for f in found)}; keep one."
                )
            mask = found[0]
        id_ = f"{class_dir.name}/{image.stem}"
        records.append(_Record(image, mask, class_dir.name, np.nan, id_, None))
    return records


def _resolve_pixel_sizes(listed, header, argument, origin):
    """Apply the precedence argument > listing > file header, warning on conflicts."""
    listed = np.asarray(listed, dtype=float)
    header = np.asarray(header, dtype=float)
    if argument is not None:
        stored = np.where(np.isfinite(listed), listed, header)
        differ = np.isfinite(stored) & ~np.isclose(stored, argument, rtol=1e-4, atol=0)
        if differ.any():
            first = int(np.flatnonzero(differ)[0])
            warnings.warn(
                f"pixel_size={argument} overrides the pixel size stored for "
                f"{int(differ.sum())} particle(s) (e.g. {stored[first]:g} nm/px for "
                f"{origin[first]}).",
                UserWarning,
                stacklevel=4,
            )
        return np.full(len(listed), float(argument))
    differ = (
        np.isfinite(listed)
        & np.isfinite(header)
        & ~np.isclose(listed, header, rtol=1e-4, atol=0)
    )
    if differ.any():
        first = int(np.flatnonzero(differ)[0])
        warnings.warn(
            f"The manifest's pixel_size overrides the file header for {int(differ.sum())} "
            f"particle(s) (e.g. {listed[first]:g} instead of {header[first]:g} nm/px for "
            f"{origin[first]}).",
            UserWarning,
            stacklevel=4,
        )
    return np.where(np.isfinite(listed), listed, header)


def _read_particles(records, as_gray, verbose):
    """Read and check every record's image and mask, naming files in errors.

    Returns the particles (pixel sizes unknown) and the pixel size each file's
    header gives.
    """
    particles, header = [], []
    for index, record in enumerate(records):
        try:
            image, pixel_size, alpha = read_image(
                record.image, as_gray=as_gray, return_alpha=True
            )
            mask = read_mask(record.mask) if record.mask is not None else None
            if mask is None and alpha is not None:
                # A cut-out saved with a transparent background: the opaque
                # pixels are the particle.
                mask = alpha > 0
        except (FileNotFoundError, ValueError) as exc:
            if record.where is None:
                raise
            raise type(exc)(f"{exc} (listed in {record.where})") from exc
        try:
            particle = ParticleSet(
                [image],
                None if mask is None else [mask],
                ids=[record.id],
                channel_axis=-1 if image.ndim == 3 else None,
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"In {_describe_files(record)}: {exc}") from exc
        if particles and particle.n_channels != particles[0].n_channels:
            raise ValueError(
                f"'{record.image}' has {particle.n_channels} channel(s) but "
                f"'{records[0].image}' has {particles[0].n_channels}; all particles "
                "need the same number of channels. as_gray=True reads colour images "
                "as grayscale."
            )
        particles.append(particle)
        header.append(pixel_size)
        if verbose and (index + 1) % _PROGRESS_EVERY == 0:
            print(f"[load_particles] read {index + 1}/{len(records)} particles")
    return ParticleSet.concatenate(particles), header


def _describe_files(record):
    """Name a particle's files (and manifest line) for error messages."""
    text = f"'{record.image}'"
    if record.mask is not None:
        text += f" with mask '{record.mask}'"
    if record.where is not None:
        text += f" ({record.where})"
    return text


@validate_params(
    {
        "path": [str, os.PathLike],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "mask_suffix": [str, None],
        "as_gray": ["boolean", StrOptions({"auto"})],
        "strict": ["boolean"],
        "return_X_y": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def load_particles(
    path,
    *,
    pixel_size=None,
    mask_suffix="_mask",
    as_gray="auto",
    strict=False,
    return_X_y=False,
    verbose=0,
):
    """Load labelled particle cut-outs and their masks from a folder or manifest.

    Two layouts are read:

    * **Class folders**: ``path`` holds one sub-folder per class, named after
      the class; each holds the particle images and, next to each image, its
      mask with `mask_suffix` appended to the file stem
      (``unilamellar/p001.png`` and ``unilamellar/p001_mask.png``). The mask
      may have another format than its image. Particles come sorted by class
      name, then by file name; ids are ``"<class>/<file stem>"``. Only
      image files directly inside a class folder are read. Names starting
      with ``"."`` are skipped silently; anything else left out (files of
      other types, folders inside class folders, files beside the class
      folders) is reported in one warning with the count and the first
      names, or is an error with ``strict=True``. An image without a mask, a
      mask without an image and a class folder without images are errors.
    * **Manifest**: a CSV file (``path`` itself, or ``manifest.csv`` inside
      the folder ``path``, which then takes precedence over the class
      folders) with a header row and one row per particle. Columns (any order,
      other columns ignored): ``image`` and ``label`` (required), ``mask``,
      ``pixel_size`` (nm per pixel) and ``id`` (optional). Paths are relative
      to the manifest's folder. An empty ``mask`` cell gives a mask covering
      the whole image, an empty ``pixel_size`` cell an unknown pixel size, an
      empty ``id`` the image path without extension. Particles keep the row
      order. :func:`save_particles` writes this layout.

    Files may be PNG (8- or 16-bit, palette, with alpha), JPEG, BMP, TIFF
    (any integer or floating-point dtype, channels as samples or pages,
    OME-TIFF) or MRC (``.mrc``, ``.mrcs``, ``.map``); pixels keep their
    stored dtype. A mask marks the particle with its non-zero pixels (in a
    JPEG mask, pixels above half range). A particle without a mask file
    (``mask_suffix=None``, or an empty ``mask`` cell) whose image has a
    transparent background (an alpha channel that is not fully opaque)
    gets the opaque pixels as its mask, and the alpha channel is dropped.

    Parameters
    ----------
    path : str or path-like
        A folder of class folders, a folder holding ``manifest.csv``, or a
        manifest CSV file.
    pixel_size : float, default=None
        Nanometres per pixel for every particle. When given it overrides the
        pixel sizes stored in the manifest and in file headers, with a warning
        where they differ. When None, a particle's pixel size is its manifest
        ``pixel_size`` cell, else its file header's (an MRC voxel size, or
        TIFF resolution tags; see :func:`read_image`), else unknown (NaN); a
        manifest value that differs from the header wins, with a warning.
    mask_suffix : str or None, default="_mask"
        What ends a mask's file stem in the class-folder layout. None loads
        images without mask files, each mask covering its whole image. Unused
        with a manifest, which names the masks.
    as_gray : {"auto", True, False}, default="auto"
        How to read colour images. ``"auto"`` reads a colour image whose colour
        channels are identical (a grayscale image saved as RGB, e.g. by
        ``matplotlib.pyplot.imsave``) as grayscale, keeping its dtype, and
        drops a fully opaque PNG alpha channel; other multichannel images keep
        their channels. True also converts RGB images with differing channels to
        floating-point luminance (:func:`skimage.color.rgb2gray`) and raises on
        other multichannel images. False keeps all channels as stored.
        Multichannel images give a set with ``(H, W, C)`` images.
    strict : bool, default=False
        Raise instead of warning when files or folders of the class-folder
        layout are left out.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    verbose : int, default=0
        Print progress every 1000 particles when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ParticleSet
            The particles, with masks, pixel sizes and ids.
        target : ndarray of int, shape (n_particles,)
            Index of each particle's class in `target_names`.
        target_names : ndarray of str, shape (n_classes,)
            The class names (folder names or ``label`` cells), sorted.
        filenames : ndarray of str, shape (n_particles,)
            The image files.
        mask_filenames : ndarray of str, shape (n_particles,)
            The mask files; ``""`` where the mask covers the whole image.
        DESCR : str
            Where the particles came from and how many per class.

    (data, target) : tuple of (ParticleSet, ndarray)
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If `path`, an image or a mask file does not exist (the message names it).
    ValueError
        If a file cannot be read, a mask's shape differs from its image's, a
        mask is empty, an image holds NaN or infinite values, a class folder
        holds no images, a manifest row is malformed or its pixel size is not
        positive, or particles differ in their number of channels. The message
        names the file (and the manifest line).

    See Also
    --------
    save_particles : Write particles in the manifest layout.
    load_annotated_micrographs : Cut particles out of annotated micrographs.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.datasets import load_particles, save_particles
    >>> X = ParticleSet([np.zeros((40, 40), np.uint8), np.ones((52, 60), np.uint16)],
    ...                 pixel_size=0.8)
    >>> folder = save_particles(X, ["full", "empty"], tempfile.mkdtemp())
    >>> sorted(path.name for path in folder.iterdir())
    ['empty', 'full', 'manifest.csv']
    >>> particles = load_particles(folder)
    >>> particles.data
    ParticleSet(2 particles, 40x40 to 52x60 px, 1 channel, 0.8 nm/px)
    >>> particles.target_names[particles.target]
    array(['full', 'empty'], dtype='<U5')
    """
    if mask_suffix == "":
        raise ValueError(
            "mask_suffix must be a non-empty string or None (images without mask files)."
        )
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise ValueError(
                f"'{path}' is a file but not a .csv manifest; give a folder of class "
                "folders, a folder holding manifest.csv, or a .csv manifest."
            )
        manifest = path
    elif path.is_dir():
        manifest = path / _MANIFEST_NAME if (path / _MANIFEST_NAME).is_file() else None
    else:
        raise FileNotFoundError(f"No such folder or manifest file: '{path}'.")
    if manifest is not None:
        records = _read_manifest(manifest)
    else:
        left_out = []
        records = _scan_folder(path, mask_suffix, left_out)
        report_left_out(left_out, "load_particles", strict, stacklevel=3)
    particles, header = _read_particles(records, as_gray, verbose)
    origin = [f"'{record.image}'" for record in records]
    listed = [record.pixel_size for record in records]
    data = particles.replace(pixel_size=_resolve_pixel_sizes(listed, header, pixel_size, origin))
    labels = np.array([record.label for record in records]).astype(str)
    target_names, target = np.unique(labels, return_inverse=True)
    if return_X_y:
        return data, target
    counts = ", ".join(
        f"{name}: {count}" for name, count in zip(target_names, np.bincount(target))
    )
    source = f"manifest '{manifest}'" if manifest is not None else f"class folders in '{path}'"
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        filenames=np.array([str(record.image) for record in records]),
        mask_filenames=np.array(
            [str(record.mask) if record.mask is not None else "" for record in records]
        ),
        DESCR=f"{len(data)} particles loaded from the {source}. Per class: {counts}.",
    )


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


def _clear_previous_save(root):
    """Delete the files an earlier save_particles listed in its manifest.

    Only listed files named the way save_particles names them
    (``<class>/<position>_<id>.png|.tif``) are deleted, so the files a
    hand-written manifest lists under other names are kept.
    """
    manifest = root / _MANIFEST_NAME
    if not manifest.is_file():
        return
    with open(manifest, newline="", encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    cells = [row.get(column) or "" for row in rows for column in ("image", "mask")]
    for cell in cells:
        file = root / cell
        if _SAVED_FILE.fullmatch(cell) and file.is_file():
            file.unlink()
            if not any(file.parent.iterdir()):
                file.parent.rmdir()
    manifest.unlink()


@validate_params(
    {
        "X": "no_validation",
        "y": ["array-like"],
        "path": [str, os.PathLike],
        "target_names": ["array-like", None],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def save_particles(X, y, path, *, target_names=None, overwrite=False):
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
        ``<class>/<position>_<id>.png`` or ``.tif``) are deleted first and
        files of the same name are replaced; nothing else is deleted.

    Returns
    -------
    pathlib.Path
        The folder written, ready for :func:`load_particles`.

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
        _clear_previous_save(path)
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
    return path
