"""Reading YOLO annotations: micrographs paired with label files, boxes, class names."""

# License: BSD 3 clause

import os
from pathlib import Path

import numpy as np

from sklipo.datasets._image_files import IMAGE_EXTENSIONS

__all__ = [
    "label_sources",
    "micrograph_sources",
    "read_class_names",
    "read_yolo_rows",
    "yolo_pixel_boxes",
]

_YOLO_FIELDS = "class cx cy w h [confidence]"
# The YOLO names file that annotation tools export next to the labels; it is
# not a label file.
_NAMES_FILE = "classes.txt"


def read_class_names(path):
    """Read a YOLO names file: one class name per line, in class-index order.

    Blank lines and surrounding spaces are ignored. This is the
    ``classes.txt`` that annotation tools (LabelImg, Label Studio) export
    and that :func:`~sklipo.datasets.write_yolo` writes.

    Parameters
    ----------
    path : str or path-like
        The names file.

    Returns
    -------
    names : ndarray of str
        The class names.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it lists no names.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Class names file not found: '{path}'.")
    names = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    names = [name for name in names if name]
    if not names:
        raise ValueError(f"The class names file '{path}' lists no names (one per line).")
    return np.array(names)


def micrograph_sources(images, left_out):
    """Return the micrographs as a list of paths and/or arrays.

    Entries of a folder that are not read (other file types, sub-folders) are
    appended to `left_out`; hidden entries (names starting with ".") are
    skipped silently.

    Parameters
    ----------
    images : str, path-like, or list of arrays and paths
        A folder of micrographs, one file, or the micrographs themselves.
    left_out : list
        Receives ``(path, why)`` for each entry not read.

    Returns
    -------
    micrographs : list of pathlib.Path or ndarray
    """
    if isinstance(images, (str, os.PathLike)):
        folder = Path(images)
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise FileNotFoundError(f"No such micrograph folder or file: '{folder}'.")
        files = []
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                left_out.append((entry, "a folder; sub-folders are not searched"))
            elif entry.suffix.lower() in IMAGE_EXTENSIONS:
                files.append(entry)
            else:
                left_out.append((entry, "not an image type sklipo reads"))
        if not files:
            raise ValueError(
                f"The folder '{folder}' holds no micrographs ({', '.join(IMAGE_EXTENSIONS)})."
            )
        stems = {}
        for file in files:
            stems.setdefault(file.stem, []).append(file.name)
        twins = [names for names in stems.values() if len(names) > 1]
        if twins:
            raise ValueError(
                f"In '{folder}', the micrographs {' and '.join(twins[0])} share a file stem, "
                "so they would share one label file; keep one file per micrograph."
            )
        return files
    sources = list(images)
    if not sources:
        raise ValueError("images is empty; give at least one micrograph.")
    return [
        source if isinstance(source, np.ndarray) else Path(source) for source in sources
    ]


def label_sources(labels, micrographs, left_out):
    """Return one label source (path or array, None when missing) per micrograph.

    With a label folder, micrographs without a label file get None, and label
    files without a micrograph and other entries go to `left_out`.

    Parameters
    ----------
    labels : str, path-like, or list of arrays and paths
        A folder of YOLO label files (matched to micrographs by file stem),
        one file, or one label source per micrograph.
    micrographs : list of pathlib.Path or ndarray
        As :func:`micrograph_sources` returns them.
    left_out : list
        Receives ``(path, why)`` for each entry not read.

    Returns
    -------
    sources : list of pathlib.Path, ndarray or None
    """
    if isinstance(labels, (str, os.PathLike)):
        labels = Path(labels)
        if labels.is_file() and len(micrographs) == 1:
            return [labels]
        if not labels.is_dir():
            raise FileNotFoundError(f"No such label folder: '{labels}'.")
        if any(isinstance(micrograph, np.ndarray) for micrograph in micrographs):
            raise TypeError(
                "Micrographs given as arrays need their labels as a list (one "
                "file or (k, 5) array each), not a folder."
            )
        sources = []
        for micrograph in micrographs:
            label_file = labels / (micrograph.stem + ".txt")
            if label_file.is_file():
                sources.append(label_file)
            else:
                sources.append(None)
                left_out.append(
                    (micrograph, f"no label file '{label_file.name}' in '{labels}'")
                )
        wanted = {micrograph.stem + ".txt" for micrograph in micrographs}
        for entry in sorted(labels.iterdir()):
            if entry.name.startswith(".") or entry.name == _NAMES_FILE or entry.name in wanted:
                continue
            if entry.is_dir():
                why = "a folder; sub-folders are not searched"
            elif entry.suffix.lower() == ".txt":
                why = "a label file without a micrograph"
            else:
                why = "not a .txt label file"
            left_out.append((entry, why))
        return sources
    sources = list(labels)
    if len(sources) != len(micrographs):
        raise ValueError(
            f"Got {len(micrographs)} micrographs but {len(sources)} label sources; give "
            "one label file or array per micrograph, or a folder of label files."
        )
    return [
        source if isinstance(source, np.ndarray) else Path(source) for source in sources
    ]


def _parse_yolo_lines(label_file):
    """Read a YOLO label file into (rows, where) with one row per box."""
    if not label_file.is_file():
        raise FileNotFoundError(f"Label file not found: '{label_file}'.")
    rows, where = [], []
    with open(label_file, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            fields = line.split()
            if not fields:
                continue
            location = f"'{label_file}', line {number}"
            if len(fields) not in (5, 6):
                hint = (
                    " This looks like a YOLO segmentation polygon (class x1 y1 x2 y2 ...); "
                    "export boxes instead."
                    if len(fields) > 6 and len(fields) % 2 == 1
                    else ""
                )
                raise ValueError(
                    f"{location}: expected 5 or 6 fields '{_YOLO_FIELDS}'; got "
                    f"{len(fields)}: {line.strip()[:80]!r}.{hint}"
                )
            try:
                # A hand-made label has no confidence: NaN.
                rows.append([float(field) for field in fields] + [np.nan] * (6 - len(fields)))
            except ValueError:
                raise ValueError(
                    f"{location}: expected numbers '{_YOLO_FIELDS}'; got {line.strip()!r}."
                ) from None
            where.append(location)
    return np.array(rows, dtype=float).reshape(-1, 6), where


def read_yolo_rows(source, index, n_classes):
    """Return class indices, normalised boxes, confidences and where each box was given.

    Parameters
    ----------
    source : path-like or ndarray of shape (k, 5) or (k, 6)
        A YOLO label file, or its rows ``class cx cy w h [confidence]``.
    index : int
        The micrograph's position, for messages about arrays.
    n_classes : int
        Number of classes; class indices must lie below it (``np.inf`` for
        any).

    Returns
    -------
    classes : ndarray of int of shape (k,)
    boxes : ndarray of shape (k, 4)
        Normalised ``(cx, cy, w, h)``.
    confidence : ndarray of shape (k,)
        NaN where a row has no confidence.
    where : list of str
        File and line (or array and row) of each box, for messages.
    """
    if isinstance(source, np.ndarray):
        rows = np.asarray(source, dtype=float)
        if rows.size == 0:
            rows = rows.reshape(0, 5)
        if rows.ndim != 2 or rows.shape[1] not in (5, 6):
            raise ValueError(
                f"labels[{index}] must be an array of shape (k, 5) or (k, 6) with rows "
                f"'{_YOLO_FIELDS}'; got shape {rows.shape}."
            )
        if rows.shape[1] == 5:
            rows = np.column_stack([rows, np.full(len(rows), np.nan)])
        where = [f"labels[{index}], row {row}" for row in range(len(rows))]
    else:
        rows, where = _parse_yolo_lines(source)
    bad = np.flatnonzero(~np.isfinite(rows[:, :5]).all(axis=1))
    if bad.size:
        raise ValueError(f"{where[bad[0]]}: box values must be finite numbers.")
    confidence = rows[:, 5]
    bad = np.flatnonzero((confidence < 0) | (confidence > 1))
    if bad.size:
        raise ValueError(
            f"{where[bad[0]]}: the confidence (6th field) must lie in [0, 1]; got "
            f"{confidence[bad[0]]:g}."
        )
    classes = rows[:, 0]
    bad = np.flatnonzero((classes != np.round(classes)) | (classes < 0) | (classes >= n_classes))
    if bad.size:
        raise ValueError(
            f"{where[bad[0]]}: class index {rows[bad[0], 0]:g} is not one of the "
            f"{n_classes} classes in class_names (valid: 0 to {n_classes - 1})."
        )
    bad = np.flatnonzero((rows[:, 3] <= 0) | (rows[:, 4] <= 0))
    if bad.size:
        raise ValueError(f"{where[bad[0]]}: box width and height must be positive.")
    return classes.astype(int), rows[:, 1:5], confidence, where


def yolo_pixel_boxes(boxes, shape, where, name):
    """Turn normalised (cx, cy, w, h) boxes into pixel (top, left, bottom, right).

    Parameters
    ----------
    boxes : ndarray of shape (k, 4)
        Normalised ``(cx, cy, w, h)``, as :func:`read_yolo_rows` returns them.
    shape : tuple of int
        Height and width of the micrograph.
    where : list of str
        Where each box was given, for messages.
    name : str
        The micrograph, for messages.

    Returns
    -------
    pixel_boxes : ndarray of int of shape (k, 4)

    Raises
    ------
    ValueError
        If a box reaches outside the micrograph.
    """
    height, width = shape
    cx, cy, w, h = boxes.T
    # Pixel i spans [i, i + 1): rounding the edges gives the covered pixels and
    # forgives boxes that overshoot the frame by less than half a pixel.
    left = np.round((cx - w / 2) * width).astype(int)
    right = np.round((cx + w / 2) * width).astype(int)
    top = np.round((cy - h / 2) * height).astype(int)
    bottom = np.round((cy + h / 2) * height).astype(int)
    pixel = np.stack([top, left, bottom, right], axis=1)
    outside = (top < 0) | (left < 0) | (bottom > height) | (right > width)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"{where[i]}: the box (cx={cx[i]:g}, cy={cy[i]:g}, w={w[i]:g}, h={h[i]:g}) "
            f"reaches outside the micrograph {name} of {height}x{width} px (pixels "
            f"{top[i]}:{bottom[i]}, {left[i]}:{right[i]})."
        )
    empty = (bottom <= top) | (right <= left)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(f"{where[i]}: the box covers less than one pixel of {name}.")
    return pixel
