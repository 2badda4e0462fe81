"""Cut particles out of whole micrographs annotated with YOLO bounding boxes."""

# License: BSD 3 clause

import os
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo.datasets._image_files import (
    IMAGE_EXTENSIONS,
    n_channels,
    read_image,
    report_left_out,
)
from sklipo.datasets._segmentation import (
    _check_area_range,
    _inscribed_ellipse,
    _quality_bunch,
    _segment_micrograph,
    _warn_fallbacks,
)

__all__ = ["load_annotated_micrographs", "read_class_names"]

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


def _micrograph_sources(images, left_out):
    """Return the micrographs as a list of paths and/or arrays.

    Entries of a folder that are not read (other file types, sub-folders) are
    appended to `left_out`; hidden entries (names starting with ".") are
    skipped silently.
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


def _label_sources(labels, micrographs, left_out):
    """Return one label source (path or array, None when missing) per micrograph.

    With a label folder, micrographs without a label file get None, and label
    files without a micrograph and other entries go to `left_out`.
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


def _read_boxes(source, index, n_classes):
    """Return class indices, normalised boxes, confidences and where each box was given."""
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


def _pixel_boxes(boxes, shape, where, name):
    """Turn normalised (cx, cy, w, h) boxes into pixel (top, left, bottom, right)."""
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


@validate_params(
    {
        "images": [str, os.PathLike, list, tuple],
        "labels": [str, os.PathLike, list, tuple],
        "class_names": ["array-like", str, os.PathLike],
        "surrounding": [Interval(Integral, 0, None, closed="left")],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "min_confidence": [Interval(Real, 0, 1, closed="both"), None],
        "as_gray": ["boolean", StrOptions({"auto"})],
        "polarity": [StrOptions({"auto", "dark", "bright"})],
        "channel": [Interval(Integral, None, None, closed="neither"), None],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "area_range": [tuple, list],
        "min_solidity": [Interval(Real, 0, 1, closed="both")],
        "split_touching": ["boolean"],
        "strict": ["boolean"],
        "return_X_y": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def load_annotated_micrographs(
    images,
    labels,
    class_names,
    *,
    surrounding=50,
    pixel_size=None,
    min_confidence=None,
    as_gray="auto",
    polarity="auto",
    channel=None,
    sigma=1.0,
    area_range=(0.2, 1.2),
    min_solidity=0.8,
    split_touching=True,
    strict=False,
    return_X_y=False,
    verbose=0,
):
    """Cut one particle per bounding box out of annotated micrographs.

    Each micrograph comes with YOLO labels: one line ``class cx cy w h`` per
    particle, the class an index into `class_names` and the box centre and
    size normalised by the micrograph's width and height (so in [0, 1]). A
    detector's output may add a sixth field, the box's confidence in [0, 1]
    (``yolo predict save_conf=True``); `min_confidence` drops weak boxes.
    Every box gives one cut-out: the box plus `surrounding` pixels on each
    side, clipped at the micrograph's frame, so an unclipped cut-out is
    ``h + 2 * surrounding`` by ``w + 2 * surrounding`` pixels.

    **Which files are read.** From a micrograph folder: every file with an
    extension in :data:`IMAGE_EXTENSIONS` (PNG, JPEG, BMP, TIFF/OME-TIFF,
    MRC/MRCS), sorted by name. From a label folder: ``<micrograph file
    stem>.txt`` for each micrograph. Names starting with ``"."`` and a
    ``classes.txt`` names file are skipped silently; everything else that is
    not read (other file types, sub-folders, label files without a
    micrograph, micrographs without a label file) is reported in one warning
    with the count and the first names, or is an error with
    ``strict=True``.

    The particle's mask is segmented inside its box by
    :func:`~sklipo.datasets.segment_boxes`, for dark (TEM) or bright
    (fluorescence) particles, rings or discs, on one channel or several, with
    touching particles split by a watershed seeded at the box centres. When
    the segmentation is implausible the mask is the ellipse inscribed in the
    box; ``mask_quality`` tells, per particle, how the mask came out, and a
    warning says when more than 10 % of the masks fell back.

    Parameters
    ----------
    images : str, path-like, or list of (path-like or ndarray)
        A folder of micrographs, one micrograph file, or a list of files
        and/or arrays of shape ``(H, W)`` or ``(H, W, C)``.
    labels : str, path-like, or list of (path-like or ndarray)
        A folder holding ``<micrograph file stem>.txt`` for each micrograph
        (the YOLO layout; an empty file is a micrograph without particles),
        one label file for one micrograph, or a list with one label file or
        ``(k, 5)`` array of rows ``class cx cy w h`` (or ``(k, 6)`` with a
        confidence column) per micrograph.
    class_names : array-like of str, or path-like
        The class names, indexed by the YOLO class index, or a names file
        with one name per line (the ``classes.txt`` annotation tools export;
        see :func:`read_class_names`).
    surrounding : int, default=50
        Pixels kept around each box on every side (fewer at the frame).
    pixel_size : float, default=None
        Nanometres per pixel for every micrograph. When given it overrides
        file headers, with a warning where they differ; when None, a
        micrograph's pixel size comes from its MRC voxel size, OME-TIFF
        physical size or TIFF resolution tags, else it is unknown (NaN).
    min_confidence : float, default=None
        Drop boxes whose confidence (the optional sixth label field) is below
        this. Boxes without a confidence, as annotated by hand, are kept.
        None keeps every box.
    as_gray : {"auto", True, False}, default="auto"
        How to read colour micrographs; see
        :func:`~sklipo.datasets.load_particles`. The cut-outs keep the
        channels read; segmentation combines them (see `channel`).
    polarity : {"auto", "dark", "bright"}, default="auto"
        Whether particles are darker (TEM) or brighter (fluorescence) than
        the background; "auto" decides per micrograph and channel by a vote
        over its boxes.
    channel : int, default=None
        Segment on this channel only; None combines the channels, each
        weighted by how far the particle stands out in it.
    sigma : float, default=1.0
        Standard deviation in pixels of the smoothing before thresholding,
        and radius of the closing after it; raise it for noisy micrographs or
        large particles.
    area_range : tuple of float, default=(0.2, 1.2)
        Accepted mask area, as fractions of the area of the ellipse inscribed
        in the box. A segmentation spilling over the whole box has about 1.27.
    min_solidity : float, default=0.8
        Smallest accepted ratio of the mask's area to the area of its convex
        hull. Round particles score above 0.9; thresholded noise scores lower.
        0 turns the check off (for particles with concave outlines).
    split_touching : bool, default=True
        Whether to separate touching particles by a distance-transform
        watershed.
    strict : bool, default=False
        Raise instead of warning when files or folders are left out.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    verbose : int, default=0
        Print one line per micrograph when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ParticleSet
            The cut-outs with their masks and pixel sizes; ids are
            ``"<micrograph file stem>-<box index>"``, the box index counting
            from 0 within its label file (``"micrograph<i>"`` stands for the
            stem of an array given as ``images[i]``).
        target : ndarray of int, shape (n_particles,)
            The YOLO class index of each particle.
        target_names : ndarray of str, shape (n_classes,)
            `class_names`, in the given order.
        filenames : ndarray of str, shape (n_particles,)
            The micrograph each particle was cut from (``"images[i]"`` for
            arrays).
        boxes : ndarray of int, shape (n_particles, 4)
            Each box in micrograph pixels: ``top, left, bottom, right``, the
            bottom and right edges exclusive.
        mask_fallback : ndarray of bool, shape (n_particles,)
            Whether the particle's mask is the inscribed ellipse because
            segmentation failed (also ``mask_quality.fallback``).
        mask_quality : :class:`~sklearn.utils.Bunch` of ndarray
            Per particle: ``area_ratio``, ``solidity``, ``touches_edge``,
            ``contrast`` and ``fallback``; see
            :func:`~sklipo.datasets.segment_boxes`. ``pandas.DataFrame(
            bunch.mask_quality)`` makes it a table.
        confidence : ndarray of float, shape (n_particles,)
            The detector's confidence of each box; NaN where the label has
            none.
        DESCR : str
            Where the particles came from and how many per class.

    (data, target) : tuple of (ParticleSet, ndarray)
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If a micrograph, label or names file does not exist.
    ValueError
        If a file cannot be read (damaged or truncated), a label line is
        malformed (wrong number of fields, not numbers) or names a class
        index outside `class_names`, a box reaches outside its micrograph, a
        micrograph holds NaN or infinite values, no box is found, or, with
        ``strict=True``, a file is left out. The message names the file and
        line.

    Warns
    -----
    UserWarning
        When files or folders are left out (``strict=False``), and when more
        than 10 % of the masks fell back to the inscribed ellipse.

    See Also
    --------
    load_particles : Load particles that are already cut out.
    make_micrographs : Synthetic annotated micrographs with true masks.
    MaskGridDisplay : Look at the masks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.datasets import load_annotated_micrographs
    >>> micrograph = np.full((200, 300), 200, dtype=np.uint8)
    >>> rows, cols = np.ogrid[:200, :300]
    >>> micrograph[(rows - 100) ** 2 + (cols - 150) ** 2 <= 20 ** 2] = 60
    >>> boxes = np.array([[0, 150 / 300, 100 / 200, 40 / 300, 40 / 200]])
    >>> particles = load_annotated_micrographs([micrograph], [boxes], ["liposome"],
    ...                                        surrounding=10)
    >>> particles.data
    ParticleSet(1 particle, 60x60 px, 1 channel, pixel size unknown)
    >>> bool(particles.mask_fallback[0])
    False
    """
    if isinstance(class_names, (str, os.PathLike)):
        class_names = read_class_names(class_names)
    class_names = np.asarray(class_names).astype(str)
    if class_names.ndim != 1 or class_names.size == 0:
        raise ValueError(f"class_names must be a non-empty list of names; got {class_names!r}.")
    if len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names must be distinct; got {list(class_names)}.")
    area_range = _check_area_range(area_range)
    left_out = []
    micrographs = _micrograph_sources(images, left_out)
    label_sources = _label_sources(labels, micrographs, left_out)
    report_left_out(left_out, "load_annotated_micrographs", strict, stacklevel=3)
    kept = [i for i, source in enumerate(label_sources) if source is not None]
    micrographs = [micrographs[i] for i in kept]
    label_sources = [label_sources[i] for i in kept]
    names = [
        f"images[{i}]" if isinstance(source, np.ndarray) else str(source)
        for i, source in zip(kept, micrographs)
    ]
    segmentation = {
        "polarity": polarity,
        "channel": channel,
        "sigma": sigma,
        "area_range": area_range,
        "min_solidity": min_solidity,
        "split_touching": split_touching,
    }

    cutouts, masks, targets, ids, files, boxes, quality = [], [], [], [], [], [], []
    header_sizes, overridden, confidences = [], [], []
    for i, source, label_source, name in zip(kept, micrographs, label_sources, names):
        classes, normalised, confidence, where = _read_boxes(
            label_source, i, len(class_names)
        )
        numbers = np.arange(len(classes))  # ids keep the line's box index
        if min_confidence is not None:
            keep = ~(confidence < min_confidence)  # NaN (no confidence) is kept
            classes, normalised, confidence = classes[keep], normalised[keep], confidence[keep]
            numbers = numbers[keep]
            where = [location for location, kept_box in zip(where, keep) if kept_box]
        if isinstance(source, np.ndarray):
            micrograph, header = source, np.nan
            stem = f"micrograph{i}"
        else:
            micrograph, header = read_image(source, as_gray=as_gray)
            stem = source.stem
        _check_micrograph(micrograph, name, cutouts, files)
        if (
            pixel_size is not None
            and np.isfinite(header)
            and not np.isclose(header, pixel_size, rtol=1e-4)
        ):
            overridden.append(f"{name} ({header:g} nm/px)")
        pixel = _pixel_boxes(normalised, micrograph.shape[:2], where, name)
        box_masks, records, _ = _segment_micrograph(micrograph, pixel, **segmentation)
        height, width = micrograph.shape[:2]
        for number, (top, left, bottom, right), mask_in_box in zip(numbers, pixel, box_masks):
            y0, x0 = max(top - surrounding, 0), max(left - surrounding, 0)
            y1, x1 = min(bottom + surrounding, height), min(right + surrounding, width)
            mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
            mask[top - y0 : bottom - y0, left - x0 : right - x0] = mask_in_box
            # Copies, so the micrograph can be freed once its particles are cut.
            cutouts.append(micrograph[y0:y1, x0:x1].copy())
            masks.append(mask)
            ids.append(f"{stem}-{number}")
        quality.extend(records)
        targets.append(classes)
        confidences.append(confidence)
        boxes.append(pixel)
        files.extend([name] * len(pixel))
        header_sizes.extend([header] * len(pixel))
        if verbose:
            print(
                f"[load_annotated_micrographs] {len(targets)}/{len(micrographs)} {name}: "
                f"{len(pixel)} particles, {sum(r[-1] for r in records)} mask fallback(s)"
            )
    if not cutouts:
        raise ValueError("The label files list no boxes, so there are no particles to cut.")
    if overridden:
        warnings.warn(
            f"pixel_size={pixel_size} overrides the file header of {len(overridden)} "
            f"micrograph(s), e.g. {overridden[0]}.",
            UserWarning,
            stacklevel=3,
        )
    mask_quality = _quality_bunch(quality)
    _warn_fallbacks(mask_quality.fallback, f"of {len(micrographs)} micrograph(s)", stacklevel=4)
    # Headers give pixel sizes per micrograph (NaN where unset).
    data = ParticleSet(
        cutouts,
        masks,
        pixel_size=header_sizes if pixel_size is None else pixel_size,
        ids=ids,
        channel_axis=-1 if cutouts[0].ndim == 3 else None,
    )
    target = np.concatenate(targets)
    if return_X_y:
        return data, target
    counts = ", ".join(
        f"{name}: {count}"
        for name, count in zip(class_names, np.bincount(target, minlength=len(class_names)))
    )
    return Bunch(
        data=data,
        target=target,
        target_names=class_names,
        filenames=np.array(files),
        boxes=np.concatenate(boxes),
        mask_fallback=mask_quality.fallback.copy(),
        mask_quality=mask_quality,
        confidence=np.concatenate(confidences),
        DESCR=(
            f"{len(data)} particles cut from {len(micrographs)} micrograph(s) with a "
            f"{surrounding}-pixel surrounding. Per class: {counts}. "
            f"{int(mask_quality.fallback.sum())} mask(s) fell back to the inscribed ellipse."
        ),
    )


def _check_micrograph(micrograph, name, cutouts, files):
    """Check a micrograph's dtype, shape, channels and values, naming it."""
    if micrograph.dtype.kind not in "uif":
        raise TypeError(
            f"The micrograph {name} must hold integer or floating-point pixels; got "
            f"dtype {micrograph.dtype}."
        )
    if micrograph.ndim not in (2, 3) or min(micrograph.shape[:2]) < 1:
        raise ValueError(
            f"The micrograph {name} must be (H, W) or (H, W, C); got shape "
            f"{micrograph.shape}."
        )
    if cutouts and n_channels(micrograph) != n_channels(cutouts[0]):
        raise ValueError(
            f"The micrograph {name} has {n_channels(micrograph)} channel(s) but "
            f"{files[0]} has {n_channels(cutouts[0])}; all micrographs need the "
            "same number. as_gray=True reads colour micrographs as grayscale."
        )
    if micrograph.dtype.kind == "f" and not np.isfinite(micrograph).all():
        raise ValueError(f"The micrograph {name} has NaN or infinite pixels.")
