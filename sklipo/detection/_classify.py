"""Cut found particles out like training data, classify them, draw the result."""

# License: BSD 3 clause

import inspect
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from sklipo.datasets import (
    label_sources,
    load_annotated_micrographs,
    micrograph_sources,
    read_image,
    read_yolo_rows,
    yolo_pixel_boxes,
)
from sklipo.detection._contrast import _check_micrograph
from sklipo.detection._finder import ParticleFinder
from sklipo.utils import report_left_out

__all__ = [
    "CUTOUT_PARAMETERS",
    "check_cutout",
    "classify_micrographs",
    "cut_particles",
    "draw_overlay",
]

#: The keyword arguments of
#: :func:`~sklipo.datasets.load_annotated_micrographs` that decide how a
#: particle is cut out and segmented: what a model card records and
#: :func:`cut_particles` reuses, so found particles look like the training
#: particles.
CUTOUT_PARAMETERS = (
    "surrounding",
    "as_gray",
    "polarity",
    "channel",
    "sigma",
    "area_range",
    "min_solidity",
    "split_touching",
)


def check_cutout(cutout, *, complete=False):
    """Return cut-out settings as a dict, with unknown keys refused.

    Parameters
    ----------
    cutout : dict or None
        Keyword arguments of :func:`~sklipo.datasets.load_annotated_micrographs`
        among :data:`CUTOUT_PARAMETERS`; None for none.
    complete : bool, default=False
        Fill in the settings not given with load_annotated_micrographs'
        defaults, so the dict holds every key of CUTOUT_PARAMETERS (what a
        model card records: later default changes do not change how a saved
        model's particles are cut out).

    Returns
    -------
    cutout : dict
    """
    if cutout is not None and not isinstance(cutout, Mapping):
        raise TypeError(
            "cutout must be a dict of load_annotated_micrographs keyword arguments "
            f"({', '.join(CUTOUT_PARAMETERS)}); got {type(cutout).__name__}."
        )
    cutout = {} if cutout is None else dict(cutout)
    unknown = sorted(set(cutout) - set(CUTOUT_PARAMETERS))
    if unknown:
        raise ValueError(
            f"Unknown cut-out setting(s) {unknown}; the settings are the keyword arguments "
            f"of load_annotated_micrographs: {', '.join(CUTOUT_PARAMETERS)}."
        )
    if complete:
        defaults = inspect.signature(load_annotated_micrographs).parameters
        cutout = {key: cutout.get(key, defaults[key].default) for key in CUTOUT_PARAMETERS}
    return cutout


def cut_particles(micrograph, boxes, *, cutout=None, pixel_size=None, name=None):
    """Cut particles out of one micrograph and segment them, as for training.

    The boxes are handed to
    :func:`~sklipo.datasets.load_annotated_micrographs` with the same
    `cutout` settings (surrounding, polarity, channel, smoothing, checks) the
    training particles were loaded with, so a found particle is cut out,
    masked and laid out exactly like an annotated one.

    Parameters
    ----------
    micrograph : ndarray of shape (H, W) or (H, W, C)
        The micrograph, channels last.
    boxes : array-like of int, shape (k, 4)
        Rows ``top, left, bottom, right`` in pixels, bottom and right
        exclusive, inside the micrograph.
    cutout : dict, default=None
        Keyword arguments of :func:`load_annotated_micrographs` among
        :data:`CUTOUT_PARAMETERS` (``as_gray`` is ignored: the micrograph is
        already read). None uses its defaults (``surrounding=50``...).
    pixel_size : float, default=None
        Nanometres per pixel, stored with every particle; None leaves it
        unknown (NaN).
    name : str, default=None
        The micrograph's name: particle ids are ``"<name>-<index>"`` and
        errors name it. None uses ``"micrograph"``.

    Returns
    -------
    particles : :class:`~sklearn.utils.Bunch`
        ``data`` (a :class:`~sklipo.ParticleSet`; None without boxes),
        ``boxes``, ``mask_fallback`` and ``mask_quality``, as
        :func:`load_annotated_micrographs` returns them.

    Raises
    ------
    ValueError
        If a box reaches outside the micrograph or a setting is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.detection import cut_particles
    >>> image = np.full((120, 120), 200.0)
    >>> rows, cols = np.ogrid[:120, :120]
    >>> image[(rows - 60) ** 2 + (cols - 60) ** 2 <= 20 ** 2] = 60
    >>> particles = cut_particles(image, [[40, 40, 81, 81]], cutout={"surrounding": 5},
    ...                           name="grid-1")
    >>> particles.data.ids.tolist(), particles.data.images[0].shape
    (['grid-1-0'], (51, 51))
    """
    cutout = check_cutout(cutout)
    cutout.pop("as_gray", None)
    name = "micrograph" if name is None else str(name)
    image = _check_micrograph(micrograph, name)
    boxes = np.asarray(boxes)
    boxes = boxes.reshape(0, 4) if boxes.size == 0 else boxes
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"The boxes of {name} must be an array of shape (k, 4); got shape {boxes.shape}."
        )
    if len(boxes) == 0:
        return Bunch(data=None, boxes=boxes.astype(int), mask_fallback=np.zeros(0, dtype=bool),
                     mask_quality=None)
    height, width = image.shape[:2]
    top, left, bottom, right = boxes.T.astype(float)
    # YOLO rows (class cx cy w h, normalised), which the loader turns back
    # into exactly these pixel boxes.
    rows = np.column_stack([
        np.zeros(len(boxes)), (left + right) / 2 / width, (top + bottom) / 2 / height,
        (right - left) / width, (bottom - top) / height,
    ])
    try:
        with warnings.catch_warnings():
            # The caller reports fallbacks once for all micrographs.
            warnings.filterwarnings("ignore", message="Segmentation fell back")
            bunch = load_annotated_micrographs(
                [image], [rows], ["particle"], pixel_size=pixel_size, **cutout
            )
    except ValueError as exc:
        raise ValueError(f"Cannot cut the particles of {name}: {exc}") from exc
    ids = [f"{name}-{k}" for k in range(len(boxes))]
    return Bunch(
        data=bunch.data.replace(ids=ids),
        boxes=bunch.boxes,
        mask_fallback=bunch.mask_fallback,
        mask_quality=bunch.mask_quality,
    )


def _sources(micrographs, names):
    """(name, array or path) per micrograph; a folder's unread entries warned about once.

    A folder is read as the loaders read one: every file of a type in
    IMAGE_EXTENSIONS, in name order; hidden names (starting with ".") are
    skipped silently, other files and sub-folders are named in one warning.
    """
    left_out = []
    if isinstance(micrographs, np.ndarray) and micrographs.ndim in (2, 3) and (
        micrographs.ndim == 2 or micrographs.shape[2] <= 16
    ):
        micrographs = [micrographs]
    elif not isinstance(micrographs, (str, os.PathLike)):
        micrographs = list(micrographs)
    micrographs = micrograph_sources(micrographs, left_out)
    report_left_out(left_out, "classify_micrographs", False, stacklevel=4)
    if names is None:
        names = [
            Path(m).name if isinstance(m, (str, os.PathLike)) else f"micrograph-{i:03d}"
            for i, m in enumerate(micrographs)
        ]
    names = [str(n) for n in names]
    if len(names) != len(micrographs):
        raise ValueError(f"Got {len(names)} names for {len(micrographs)} micrographs.")
    return list(zip(names, micrographs))


def _detector_boxes(labels, sources):
    """One label source per micrograph, None where a detector wrote no file (no boxes)."""
    micrographs = [source for _, source in sources]
    if isinstance(labels, (str, os.PathLike)) and Path(labels).is_dir():
        left_out = []
        found = label_sources(labels, micrographs, left_out)
        # A detector writes no label file for a micrograph where it found
        # nothing (YOLO does so): that micrograph has no boxes, it is not
        # left out. Other entries of the folder are.
        report_left_out(
            [(path, why) for path, why in left_out if not why.startswith("no label file")],
            "classify_micrographs", False, stacklevel=4,
        )
        return found
    return label_sources(labels, micrographs, [])


def classify_micrographs(model, micrographs, *, finder=None, boxes=None, box_scores=None,
                         labels=None, min_confidence=None, cutout=None, pixel_size=None,
                         names=None):
    """Find, cut out and classify every particle of whole micrographs.

    The whole path from a new micrograph to one row per particle:

    1. **Find** the particles with `finder` (a fitted
       :class:`ParticleFinder`; None fits one with the default diameter
       range), or take the boxes of a detector of your own: pixel `boxes`
       (with `box_scores`), or its YOLO output as `labels` (the confidence,
       a sixth field, becomes the score).
    2. **Cut** each particle out and segment it with the training-time
       `cutout` settings (:func:`cut_particles`).
    3. **Classify** the cut-outs with `model`, with probabilities where the
       model has ``predict_proba``.

    Parameters
    ----------
    model : estimator
        A fitted classifier (or pipeline) taking a
        :class:`~sklipo.ParticleSet`.
    micrographs : list of (ndarray or path), folder, or one ndarray
        The micrographs, as arrays ``(H, W)`` / ``(H, W, C)`` or image files
        (every format :func:`~sklipo.datasets.read_image` reads). A folder
        is read as the loaders read one: its image files in name order,
        hidden names (starting with ".") skipped, other files and
        sub-folders left out with one warning naming them.
    finder : ParticleFinder, default=None
        A finder, fitted (e.g. on annotated micrographs) or not: an unfitted
        one is fitted on the first micrograph without boxes (its given or
        default diameter range, polarity decided per micrograph). None uses
        ``ParticleFinder()``.
    boxes : list of array-like of shape (k, 4), default=None
        Boxes per micrograph (``top, left, bottom, right`` in pixels) to
        use instead of the finder.
    box_scores : list of array-like of shape (k,), default=None
        A confidence per box in `boxes`, copied to the rows.
    labels : folder, or list of (path or array-like of shape (k, 5) or (k, 6)), default=None
        A detector's boxes in YOLO form, to use instead of the finder: a
        folder with ``<micrograph stem>.txt`` per micrograph file (a missing
        file means no particles, as YOLO writes none then), or one file or
        array per micrograph, rows ``class cx cy w h [confidence]``
        normalised by the micrograph's size. The class column is ignored;
        the confidence becomes the row's ``score`` (NaN without one).
    min_confidence : float, default=None
        With `labels`, drop boxes whose confidence is below this (boxes
        without one are kept).
    cutout : dict, default=None
        The training-time keyword arguments of
        :func:`~sklipo.datasets.load_annotated_micrographs`, among
        :data:`CUTOUT_PARAMETERS` (what the model card records). None uses
        its defaults; particles cut otherwise than the training particles
        are classified worse.
    pixel_size : float, default=None
        Nanometres per pixel of every micrograph; None takes it from the
        file headers where there is one, else unknown.
    names : list of str, default=None
        A name per micrograph for the rows; None uses file names, or
        ``micrograph-000``, ... for arrays.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        rows : list of dict
            One per particle: ``micrograph``, ``particle`` (its index in the
            micrograph), ``top``, ``left``, ``bottom``, ``right``,
            ``score`` (the finder's contrast or the given confidence),
            ``label``, ``p_<class>`` per class (with ``predict_proba``) and
            ``mask_fallback``. ``pandas.DataFrame(result.rows)`` makes a
            table; ``csv.DictWriter(file, result.columns)`` writes one.
        columns : list of str
            The keys of every row, in order.
        classes : ndarray
            The model's classes (``model.classes_``), or None.
        micrographs : list of :class:`~sklearn.utils.Bunch`
            Per micrograph: ``name``, ``boxes``, ``scores``, ``labels``,
            ``proba`` (or None) and ``particles`` (the cut-outs, a
            :class:`~sklipo.ParticleSet`, or None without particles), for
            :func:`draw_overlay`.

    Warns
    -----
    UserWarning
        When no particle is found in a micrograph (it has no rows).

    See Also
    --------
    find_particles, ParticleFinder, cut_particles, draw_overlay
    """
    cutout = check_cutout(cutout)
    sources = _sources(micrographs, names)
    if boxes is not None and len(boxes) != len(sources):
        raise ValueError(f"Got boxes for {len(boxes)} micrographs; there are {len(sources)}.")
    if box_scores is not None and boxes is None:
        raise ValueError("box_scores goes with boxes; give both or neither.")
    if labels is not None and boxes is not None:
        raise ValueError("Give the detector's boxes as boxes or as labels, not both.")
    label_sources = None if labels is None else _detector_boxes(labels, sources)
    classes = getattr(model, "classes_", None)
    has_proba = hasattr(model, "predict_proba")
    columns = ["micrograph", "particle", "top", "left", "bottom", "right", "score", "label"]
    if has_proba and classes is not None:
        columns += [f"p_{c}" for c in classes]
    columns.append("mask_fallback")
    rows, results = [], []
    for m, (name, source) in enumerate(sources):
        image, header = (source, np.nan) if isinstance(source, np.ndarray) else read_image(
            source, as_gray=cutout.get("as_gray", "auto")
        )
        image = _check_micrograph(image, name)
        size = pixel_size if pixel_size is not None else (header if np.isfinite(header) else None)
        if label_sources is not None:
            found, scores = _yolo_boxes(label_sources[m], m, image.shape[:2], name,
                                        min_confidence)
        elif boxes is not None:
            found = np.asarray(boxes[m]).reshape(-1, 4).astype(int)
            scores = (np.full(len(found), np.nan) if box_scores is None
                      else np.asarray(box_scores[m], dtype=float).reshape(-1))
        else:
            if finder is None or not _is_fitted(finder):
                finder = clone(finder if finder is not None else ParticleFinder()).fit([image])
            hit = finder.find(image, name=name)
            found, scores = hit.boxes, hit.scores
        particles = cut_particles(image, found, cutout=cutout, pixel_size=size, name=name)
        labels = proba = None
        if len(found):
            labels = np.asarray(model.predict(particles.data))
            proba = np.asarray(model.predict_proba(particles.data)) if has_proba else None
        for k in range(len(found)):
            row = {
                "micrograph": name, "particle": k,
                **dict(zip(("top", "left", "bottom", "right"), map(int, found[k]))),
                "score": float(scores[k]), "label": labels[k],
            }
            if proba is not None and classes is not None:
                row.update({f"p_{c}": float(p) for c, p in zip(classes, proba[k])})
            row["mask_fallback"] = bool(particles.mask_fallback[k])
            rows.append(row)
        results.append(Bunch(name=name, boxes=found, scores=scores, labels=labels, proba=proba,
                             particles=particles.data))
    return Bunch(rows=rows, columns=columns, classes=classes, micrographs=results)


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _yolo_boxes(source, index, shape, name, min_confidence):
    """Pixel boxes and confidences of one micrograph's YOLO labels (none without a file)."""
    if source is None:
        return np.zeros((0, 4), dtype=int), np.zeros(0)
    # Any class index: a detector's own classes are not the model's.
    _, normalised, confidence, where = read_yolo_rows(source, index, np.inf)
    if min_confidence is not None:
        keep = ~(confidence < min_confidence)  # NaN (no confidence) is kept
        normalised, confidence = normalised[keep], confidence[keep]
        where = [w for w, k in zip(where, keep) if k]
    return yolo_pixel_boxes(normalised, shape, where, name), confidence


_LIGHTNESS = (0.02, 0.998)


def _display_image(micrograph):
    """The micrograph as RGB floats in [0, 1], each channel stretched (2 channels: red, green)."""
    image = np.asarray(micrograph, dtype=float)
    planes = image[..., None] if image.ndim == 2 else image
    low, high = np.quantile(planes.reshape(-1, planes.shape[2]), _LIGHTNESS, axis=0)
    planes = np.clip((planes - low) / np.where(high > low, high - low, 1.0), 0, 1)
    if planes.shape[2] == 1:
        return np.repeat(planes, 3, axis=2)
    if planes.shape[2] == 2:
        return np.dstack([planes, np.zeros(planes.shape[:2])])
    return planes[..., :3]


def draw_overlay(micrograph, boxes, labels, *, classes=None, path=None, title=None, dpi=100):
    """Draw a micrograph with its particles' boxes coloured by class and a legend.

    Parameters
    ----------
    micrograph : ndarray of shape (H, W) or (H, W, C)
        The micrograph; each channel is stretched between its 0.2 and 99.8
        percentiles (two channels show as red and green).
    boxes : array-like of shape (k, 4)
        Rows ``top, left, bottom, right`` in pixels.
    labels : array-like of shape (k,)
        The predicted class of each box.
    classes : array-like, default=None
        Every class, in the order that fixes the colours (the model's
        ``classes_``), so a class keeps its colour across micrographs; None
        uses the sorted labels present.
    path : str or path-like, default=None
        Write the figure as a PNG here.
    title : str, default=None
        The figure's title.
    dpi : int, default=100
        Resolution; the micrograph is shown at one pixel per pixel.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The figure, drawn without pyplot (no window, nothing to close).

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install sklipo[plot]``).
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure
        from matplotlib.patches import Patch, Rectangle
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "draw_overlay needs matplotlib; install it with pip install 'sklipo[plot]'."
        ) from exc
    image = _display_image(_check_micrograph(micrograph, "given"))
    boxes = np.asarray(boxes).reshape(-1, 4)
    labels = np.asarray([] if labels is None else labels)
    if len(labels) != len(boxes):
        raise ValueError(f"Got {len(labels)} labels for {len(boxes)} boxes.")
    classes = np.unique(labels) if classes is None else np.asarray(classes)
    colours = matplotlib.colormaps["tab10"].colors
    index = {c: i for i, c in enumerate(classes.tolist())}
    height, width = image.shape[:2]
    counts = {c: int(np.sum(labels == c)) for c in classes.tolist()}
    handles = [Patch(edgecolor=colours[i % len(colours)], facecolor="none",
                     label=f"{c} ({counts[c]})") for c, i in index.items()]
    # A header above the micrograph: the title, then the legend in as many
    # rows as its entries need at about 1.3 inches each.
    ncol = max(1, min(len(handles), 5, int(width / dpi / 1.3)))
    rows = -(-len(handles) // ncol)
    header = 0.22 * rows + (0.22 if title else 0.0) + 0.05
    figure = Figure(figsize=(width / dpi, height / dpi + header), dpi=dpi)
    ax = figure.add_axes((0, 0, 1, height / (height + header * dpi)))
    ax.imshow(image, interpolation="nearest")
    ax.set_axis_off()
    for (top, left, bottom, right), label in zip(boxes, labels.tolist()):
        colour = colours[index.get(label, len(index)) % len(colours)]
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                               fill=False, edgecolor=colour, linewidth=1.2))
    top = 1.0
    if title:
        figure.text(0.5, 1.0, title, ha="center", va="top", fontsize=8)
        top -= 0.22 / (height / dpi + header)
    if handles:
        figure.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, top),
                      ncol=ncol, frameon=False, fontsize=8, borderaxespad=0.1,
                      handlelength=1.2, columnspacing=0.8)
    if path is not None:
        figure.savefig(path, format="png", dpi=dpi)
    return figure
