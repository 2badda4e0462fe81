"""Cut particles out of whole micrographs annotated with YOLO bounding boxes."""

# License: BSD 3 clause

import os
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import threshold_otsu
from skimage.morphology import convex_hull_image, disk
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo.datasets._image_files import IMAGE_EXTENSIONS, n_channels, read_image

__all__ = ["load_annotated_micrographs"]

_YOLO_FIELDS = "class cx cy w h [confidence]"


def _micrograph_sources(images):
    """Return the micrographs as a list of paths and/or arrays."""
    if isinstance(images, (str, os.PathLike)):
        folder = Path(images)
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise FileNotFoundError(f"No such micrograph folder or file: '{folder}'.")
        files = sorted(
            entry
            for entry in folder.iterdir()
            if entry.is_file()
            and not entry.name.startswith(".")
            and entry.suffix.lower() in IMAGE_EXTENSIONS
        )
        if not files:
            raise ValueError(
                f"The folder '{folder}' holds no micrographs ({', '.join(IMAGE_EXTENSIONS)})."
            )
        return files
    sources = list(images)
    if not sources:
        raise ValueError("images is empty; give at least one micrograph.")
    return [
        source if isinstance(source, np.ndarray) else Path(source) for source in sources
    ]


def _label_sources(labels, micrographs, names):
    """Return one label source (path or array) per micrograph."""
    if isinstance(labels, (str, os.PathLike)):
        labels = Path(labels)
        if labels.is_file() and len(micrographs) == 1:
            return [labels]
        if not labels.is_dir():
            raise FileNotFoundError(f"No such label folder: '{labels}'.")
        sources = []
        for micrograph, name in zip(micrographs, names):
            if isinstance(micrograph, np.ndarray):
                raise TypeError(
                    "Micrographs given as arrays need their labels as a list (one "
                    "file or (k, 5) array each), not a folder."
                )
            label_file = labels / (micrograph.stem + ".txt")
            if not label_file.is_file():
                raise FileNotFoundError(
                    f"No label file for the micrograph '{micrograph}': expected "
                    f"'{label_file}'. Write an empty file for a micrograph without "
                    "particles."
                )
            sources.append(label_file)
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
                raise ValueError(
                    f"{location}: expected 5 or 6 fields '{_YOLO_FIELDS}'; got "
                    f"{line.strip()!r}."
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


def _inscribed_ellipse(height, width):
    """Boolean mask of the ellipse inscribed in a height x width box."""
    rows = (np.arange(height) + 0.5 - height / 2) / (height / 2)
    cols = (np.arange(width) + 0.5 - width / 2) / (width / 2)
    return rows[:, None] ** 2 + cols[None, :] ** 2 <= 1


def _segment_box(region, *, sigma=2.0, area_range=(0.2, 1.2), min_solidity=0.8):
    """Segment the particle inside its bounding box.

    The region is smoothed (Gaussian, `sigma` px) and split at Otsu's
    threshold. The side of the threshold that holds most of the box's border
    pixels is background, so particles may be darker or lighter than their
    surroundings. The foreground is closed with a disc of radius `sigma`
    (rounded, at least 1 px) and its holes are filled, so a liposome's dark
    membrane ring becomes a disc. The connected component holding the box
    centre (else the one nearest to it) is kept, and its area is checked
    against the ellipse inscribed in the box and its solidity (area over
    convex-hull area) against `min_solidity`. If the region is flat or a
    check fails, the inscribed ellipse is returned instead.

    Parameters
    ----------
    region : ndarray of shape (h, w) or (h, w, C)
        The pixels inside the box; channels are averaged.
    sigma : float, default=2.0
        Standard deviation of the Gaussian smoothing in pixels, also the
        radius of the closing.
    area_range : tuple of float, default=(0.2, 1.2)
        Accepted mask area as fractions of the inscribed ellipse's area.
    min_solidity : float, default=0.8
        Smallest accepted ratio of the mask's area to its convex hull's.

    Returns
    -------
    mask : ndarray of shape (h, w), dtype=bool
    fallback : bool
        Whether the inscribed ellipse was returned.
    """
    gray = region.mean(axis=-1) if region.ndim == 3 else region.astype(float)
    height, width = gray.shape
    ellipse = _inscribed_ellipse(height, width)
    smooth = ndi.gaussian_filter(gray, sigma, mode="nearest")
    low, high = smooth.min(), smooth.max()
    if high - low <= 1e-6 * max(abs(high), abs(low), 1e-12):
        return ellipse, True
    above = smooth > threshold_otsu(smooth)
    border = np.concatenate([above[0], above[-1], above[1:-1, 0], above[1:-1, -1]])
    foreground = ~above if border.mean() > 0.5 else above
    # Closing bridges the gaps that noise breaks into a membrane ring, so that
    # filling holes turns the ring into a disc; padding keeps the box edge
    # from eroding the result.
    radius = max(1, round(sigma))
    foreground = ndi.binary_closing(np.pad(foreground, radius), disk(radius))
    foreground = ndi.binary_fill_holes(foreground[radius:-radius, radius:-radius])
    components, n_components = ndi.label(foreground)
    if n_components == 0:
        return ellipse, True
    centre = components[height // 2, width // 2]
    if centre == 0:
        rows, cols = np.nonzero(foreground)
        nearest = np.argmin((rows - (height - 1) / 2) ** 2 + (cols - (width - 1) / 2) ** 2)
        centre = components[rows[nearest], cols[nearest]]
    mask = components == centre
    area = mask.sum()
    if not area_range[0] <= area / ellipse.sum() <= area_range[1]:
        return ellipse, True
    # Noise split at a threshold gives ragged blobs; particles are compact.
    if area < min_solidity * convex_hull_image(mask).sum():
        return ellipse, True
    return mask, False


def _check_area_range(area_range):
    values = np.asarray(area_range, dtype=float)
    if values.shape != (2,) or not (0 <= values[0] < values[1]):
        raise ValueError(
            "area_range must be two fractions (low, high) of the inscribed ellipse's "
            f"area with 0 <= low < high; got {area_range!r}."
        )
    return tuple(values)


@validate_params(
    {
        "images": [str, os.PathLike, list, tuple],
        "labels": [str, os.PathLike, list, tuple],
        "class_names": ["array-like"],
        "surrounding": [Interval(Integral, 0, None, closed="left")],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "min_confidence": [Interval(Real, 0, 1, closed="both"), None],
        "as_gray": ["boolean", StrOptions({"auto"})],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "area_range": [tuple, list],
        "min_solidity": [Interval(Real, 0, 1, closed="both")],
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
    sigma=2.0,
    area_range=(0.2, 1.2),
    min_solidity=0.8,
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

    The particle's mask is segmented inside its box, deterministically:

    1. average the channels, smooth with a Gaussian of `sigma` pixels;
    2. split at Otsu's threshold; the side holding most of the box's border
       pixels is background, so particles may be darker *or* lighter than the
       background;
    3. close gaps with a disc of radius `sigma` (rounded, at least 1 px) and
       fill holes, so a liposome's dark membrane ring becomes a disc;
    4. keep the connected component holding the box centre, else the one
       nearest to it;
    5. accept it if its area lies within `area_range` of the area of the
       ellipse inscribed in the box and its solidity (area over convex-hull
       area) is at least `min_solidity`; otherwise, or if the box is flat,
       use that ellipse instead. ``mask_fallback`` records which particles
       got the ellipse: check them, or drop them, before relying on
       mask-based features.

    Parameters
    ----------
    images : str, path-like, or list of (path-like or ndarray)
        A folder of micrographs (every PNG, TIFF and MRC file in it, sorted by
        name), one micrograph file, or a list of files and/or arrays of shape
        ``(H, W)`` or ``(H, W, C)``.
    labels : str, path-like, or list of (path-like or ndarray)
        A folder holding ``<micrograph file stem>.txt`` for each micrograph
        (the YOLO layout; write an empty file for a micrograph without
        particles), one label file for one micrograph, or a list with one
        label file or ``(k, 5)`` array of rows ``class cx cy w h`` (or
        ``(k, 6)`` with a confidence column) per micrograph.
    class_names : array-like of str
        The class names, indexed by the YOLO class index.
    surrounding : int, default=50
        Pixels kept around each box on every side (fewer at the frame).
    pixel_size : float, default=None
        Nanometres per pixel for every micrograph. When given it overrides
        file headers, with a warning where they differ; when None, a
        micrograph's pixel size comes from its MRC voxel size or TIFF
        resolution tags, else it is unknown (NaN).
    min_confidence : float, default=None
        Drop boxes whose confidence (the optional sixth label field) is below
        this. Boxes without a confidence, as annotated by hand, are kept.
        None keeps every box.
    as_gray : {"auto", True, False}, default="auto"
        How to read colour micrographs; see
        :func:`~sklipo.datasets.load_particles`.
    sigma : float, default=2.0
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
            segmentation failed.
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
        If a micrograph or label file does not exist.
    ValueError
        If a file cannot be read, a label line is malformed or names a class
        index outside `class_names`, a box reaches outside its micrograph, a
        micrograph holds NaN or infinite values, or no box is found. The
        message names the file and line.

    See Also
    --------
    load_particles : Load particles that are already cut out.

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
    class_names = np.asarray(class_names).astype(str)
    if class_names.ndim != 1 or class_names.size == 0:
        raise ValueError(f"class_names must be a non-empty list of names; got {class_names!r}.")
    if len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names must be distinct; got {list(class_names)}.")
    area_range = _check_area_range(area_range)
    micrographs = _micrograph_sources(images)
    names = [
        f"images[{i}]" if isinstance(source, np.ndarray) else str(source)
        for i, source in enumerate(micrographs)
    ]
    label_sources = _label_sources(labels, micrographs, names)

    cutouts, masks, targets, ids, files, boxes, fallback = [], [], [], [], [], [], []
    header_sizes, overridden, confidences = [], [], []
    for i, (source, label_source, name) in enumerate(zip(micrographs, label_sources, names)):
        classes, normalised, confidence, where = _read_boxes(
            label_source, i, len(class_names)
        )
        numbers = np.arange(len(classes))  # ids keep the line's box index
        if min_confidence is not None:
            keep = ~(confidence < min_confidence)  # NaN (no confidence) is kept
            classes, normalised, confidence = classes[keep], normalised[keep], confidence[keep]
            numbers = numbers[keep]
            where = [location for location, kept in zip(where, keep) if kept]
        if isinstance(source, np.ndarray):
            micrograph, header = source, np.nan
            stem = f"micrograph{i}"
        else:
            micrograph, header = read_image(source, as_gray=as_gray)
            stem = source.stem
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
        if (
            pixel_size is not None
            and np.isfinite(header)
            and not np.isclose(header, pixel_size, rtol=1e-4)
        ):
            overridden.append(f"{name} ({header:g} nm/px)")
        pixel = _pixel_boxes(normalised, micrograph.shape[:2], where, name)
        height, width = micrograph.shape[:2]
        for number, (top, left, bottom, right) in zip(numbers, pixel):
            y0, x0 = max(top - surrounding, 0), max(left - surrounding, 0)
            y1, x1 = min(bottom + surrounding, height), min(right + surrounding, width)
            mask_in_box, used_fallback = _segment_box(
                micrograph[top:bottom, left:right],
                sigma=sigma,
                area_range=area_range,
                min_solidity=min_solidity,
            )
            mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
            mask[top - y0 : bottom - y0, left - x0 : right - x0] = mask_in_box
            # Copies, so the micrograph can be freed once its particles are cut.
            cutouts.append(micrograph[y0:y1, x0:x1].copy())
            masks.append(mask)
            ids.append(f"{stem}-{number}")
            fallback.append(used_fallback)
        targets.append(classes)
        confidences.append(confidence)
        boxes.append(pixel)
        files.extend([name] * len(pixel))
        header_sizes.extend([header] * len(pixel))
        if verbose:
            print(
                f"[load_annotated_micrographs] {i + 1}/{len(micrographs)} {name}: "
                f"{len(pixel)} particles"
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
        mask_fallback=np.array(fallback, dtype=bool),
        confidence=np.concatenate(confidences),
        DESCR=(
            f"{len(data)} particles cut from {len(micrographs)} micrograph(s) with a "
            f"{surrounding}-pixel surrounding. Per class: {counts}. "
            f"{int(np.sum(fallback))} mask(s) fell back to the inscribed ellipse."
        ),
    )
