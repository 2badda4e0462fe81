"""Cut particles out of whole micrographs annotated with YOLO bounding boxes."""

# License: BSD 3 clause

import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo.datasets._image_files import n_channels, read_image
from sklipo.datasets._segmentation import (
    _check_area_range,
    _quality_bunch,
    _segment_micrograph,
    _warn_fallbacks,
)
from sklipo.datasets._yolo_labels import (
    label_sources,
    micrograph_sources,
    read_class_names,
    read_yolo_rows,
    yolo_pixel_boxes,
)
from sklipo.utils import report_left_out

__all__ = ["load_annotated_micrographs"]


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
            ``contrast``, ``fallback`` and ``method`` (``"threshold"``,
            ``"rays"`` or ``"fallback"``); see
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
    micrographs = micrograph_sources(images, left_out)
    label_files = label_sources(labels, micrographs, left_out)
    report_left_out(left_out, "load_annotated_micrographs", strict, stacklevel=3)
    kept = [i for i, source in enumerate(label_files) if source is not None]
    micrographs = [micrographs[i] for i in kept]
    label_files = [label_files[i] for i in kept]
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
    for i, source, label_source, name in zip(kept, micrographs, label_files, names):
        classes, normalised, confidence, where = read_yolo_rows(
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
        pixel = yolo_pixel_boxes(normalised, micrograph.shape[:2], where, name)
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
                f"{len(pixel)} particles, {sum(r[4] for r in records)} mask fallback(s)"
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
