"""Whole synthetic micrographs with true boxes, classes and masks, and a YOLO writer."""

# License: BSD 3 clause

import io
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.datasets._image_files import IMAGE_EXTENSIONS, n_channels, write_image_file
from sklipo.datasets._synthetic import (
    _BACKGROUND_OCTAVES,
    _PROBLEMS,
    _add_neighbour,
    _allocate,
    _check_weights,
    _draw_parameters,
    _draw_particle,
    _octaves,
    _smooth_noise,
)

__all__ = ["FLUORESCENCE_CLASSES", "make_micrographs", "write_yolo"]

#: Class names of the fluorescence micrographs, in target order: how much
#: cargo (channel 1) a liposome (membrane ring, channel 0) holds.
FLUORESCENCE_CLASSES = ("full", "partial", "empty")
_FLUORESCENCE_COUNTS = (60, 25, 15)

_DTYPE_SCALE = {
    np.dtype(np.uint8): 255.0,
    np.dtype(np.uint16): 65535.0,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
}

_DESCR = """\
Synthetic annotated micrographs
-------------------------------

Whole micrographs with every particle's class, bounding box and true mask, to
test reading, segmenting and classifying annotated micrographs without
anyone's private data.

:TEM: grayscale, bright background of smooth multi-octave noise, dark
    liposomes drawn like :func:`~sklipo.datasets.make_liposomes` (membrane
    rings, multilamellar and uncertain look-alikes, dense interiors for the
    encapsulation problem), dark ice blobs nobody boxed, Gaussian detector
    noise. The classes are the study's.
:fluorescence: 2 or 3 channels, dark background with autofluorescence and
    vignetting, bright liposomes: a membrane ring in channel 0 (a filled
    disc once the optical blur merges a small ring), cargo filling the lumen
    in channel 1 (classes full, partial, empty), a second membrane label of
    random brightness in channel 2, bright debris dots nobody boxed, shot
    and read noise, optional JPEG compression.

Particles are placed singly or in clusters where they touch (a share
`clustering` of them). Masks are true where the particle, its outer membrane
included, lies; particle ``i`` of micrograph ``m`` is
``label_images[m] == i + 1`` (where two touching particles overlap by a
pixel the later one wins). Boxes are the masks' bounding boxes, moved by
``box_jitter`` times the box size like a hurried annotator's. These images
are demonstrations and test beds, not models of any microscope.
"""


def _tem_particles(problem, y, pixel_size, rng):
    """Darkening patches, masks and radii of TEM liposomes drawn like make_liposomes."""
    params = _draw_parameters(problem, y, pixel_size, 0, rng)
    reach = (
        params["radius"]
        * params["ellipticity"]
        * (1.0 + np.abs(params["wobble"]).sum(axis=1))
        + 1.5 * params["sigma"]
    )
    # Only overlapping look-alikes keep their neighbour (the study's uncertain
    # overlaps); other neighbours of a cut-out are real particles here.
    distance = np.hypot(params["neighbour_x"], params["neighbour_y"])
    gap = distance - params["radius"][:, None] - params["neighbour_radius"]
    params["has_neighbour"] &= gap < 0
    extent = np.where(
        params["has_neighbour"],
        distance + params["neighbour_radius"] + 4 * params["sigma"][:, None],
        0,
    ).max(axis=1)
    patches, masks = [], []
    for i in range(len(y)):
        half = int(np.ceil(max(reach[i] + 3 * params["sigma"][i], extent[i]))) + 1
        coords = np.arange(2 * half + 1, dtype=np.float32) - half
        index = np.array([i])
        dark, mask = _draw_particle(params, index, coords, rng)
        image = -dark
        for j in range(2):
            _add_neighbour(image, params, index, j, coords[None, :], coords[:, None])
        patches.append(-image[0])
        masks.append(mask[0])
    return patches, masks, reach


def _fluorescence_particles(y, n_channels, rng):
    """Intensity patches (per channel), masks and radii of fluorescent liposomes."""
    n = len(y)
    radius = np.clip(12.0 * np.exp(0.35 * rng.standard_normal(n)), 4.0, 36.0)
    ellipticity = 1.0 + np.minimum(rng.gamma(2.0, 0.02, n), 0.2)
    theta = rng.uniform(0, np.pi, n)
    membrane = rng.uniform(0.8, 1.3, n)  # ring width (sigma, px)
    ring_amp = rng.uniform(0.35, 1.0, n)
    cargo = np.select(
        [y == 0, y == 1], [rng.uniform(0.55, 1.0, n), rng.uniform(0.12, 0.35, n)],
        rng.uniform(0.0, 0.03, n),
    )
    second = rng.uniform(0.0, 1.0, n) * (rng.uniform(size=n) < 0.5)
    reach = radius * ellipticity + 1.5 * membrane
    patches, masks = [], []
    for i in range(n):
        half = int(np.ceil(reach[i] + 4 * membrane[i])) + 1
        coords = np.arange(-half, half + 1, dtype=float)
        yy, xx = coords[:, None], coords[None, :]
        u = (xx * np.cos(theta[i]) + yy * np.sin(theta[i])) / ellipticity[i]
        v = (yy * np.cos(theta[i]) - xx * np.sin(theta[i])) * ellipticity[i]
        d = np.hypot(u, v) - radius[i]  # signed distance to the membrane, px
        ring = np.exp(-0.5 * (d / membrane[i]) ** 2)
        lumen = np.clip(-(d + membrane[i]) / 1.5, 0.0, 1.0)
        patch = np.zeros((2 * half + 1, 2 * half + 1, n_channels), dtype=np.float32)
        patch[..., 0] = ring_amp[i] * ring
        patch[..., 1] = cargo[i] * lumen * (1 + 0.15 * rng.standard_normal(lumen.shape))
        if n_channels == 3:
            patch[..., 2] = second[i] * ring
        patches.append(patch)
        masks.append(d <= 1.5 * membrane[i])
    return patches, masks, reach


def _place(reach, shape, n_wanted, clustering, rng, max_tries=60):
    """Centres for particles of radii `reach`: single, or touching a placed one."""
    height, width = shape
    centres = np.zeros((0, 2))
    radii = np.zeros(0)
    placed = []
    for i in np.argsort(-reach)[:n_wanted]:
        r = reach[i]
        if 2 * r + 4 >= min(height, width):
            continue
        for _ in range(max_tries):
            touch = len(placed) > 0 and rng.uniform() < clustering
            if touch:
                j = rng.integers(len(placed))
                angle = rng.uniform(0, 2 * np.pi)
                distance = radii[j] + r + rng.uniform(-1.0, 1.0)
                centre = centres[j] + distance * np.array([np.sin(angle), np.cos(angle)])
                clearance = -1.5  # may touch everything it meets
            else:
                centre = rng.uniform([r + 1, r + 1], [height - r - 1, width - r - 1])
                clearance = 3.0
            if not (r + 1 <= centre[0] <= height - r - 1 and r + 1 <= centre[1] <= width - r - 1):
                continue
            gaps = np.hypot(*(centres - centre).T) - radii - r
            if (gaps >= clearance).all():
                centres = np.vstack([centres, centre])
                radii = np.append(radii, r)
                placed.append(i)
                break
    # Large particles were placed first; the listing order should not tell.
    order = rng.permutation(len(placed))
    return np.array(placed, dtype=int)[order], centres[order]


def _paste(canvas, patch, centre, sign=1.0):
    """Add `patch` (centred on `centre`, (row, col)) to `canvas` in place, clipped."""
    half = patch.shape[0] // 2
    top, left = int(round(centre[0])) - half, int(round(centre[1])) - half
    y0, x0 = max(top, 0), max(left, 0)
    y1 = min(top + patch.shape[0], canvas.shape[0])
    x1 = min(left + patch.shape[1], canvas.shape[1])
    region = (slice(y0, y1), slice(x0, x1))
    piece = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    canvas[region] += sign * piece
    return region, (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))


def _smooth_field(rng, shape, wavelengths, amplitude):
    """Smooth value noise of unit variance times `amplitude`, of any shape."""
    size = max(shape)
    field = _smooth_noise(rng, 1, size, wavelengths, amplitude * _octaves(wavelengths))[0]
    return field[: shape[0], : shape[1]]


def _render_tem(shape, patches, masks, centres, placed, rng):
    """One TEM micrograph (float, about [0, 1]) and its label image."""
    height, width = shape
    image = _smooth_field(rng, shape, _BACKGROUND_OCTAVES, rng.uniform(0.02, 0.06))
    image += rng.uniform(0.5, 0.75)
    labels = np.zeros(shape, dtype=np.int32)
    for k, (i, centre) in enumerate(zip(placed, centres)):
        region, inner = _paste(image, patches[i], centre, sign=-1.0)
        labels[region][masks[i][inner]] = k + 1
    # Ice blobs and carbon debris nobody boxed.
    rows, cols = np.ogrid[:height, :width]
    for _ in range(rng.poisson(2)):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(4, 20)
        d = np.hypot(rows - cy, cols - cx) - r
        image -= rng.uniform(0.08, 0.25) * np.clip(-d / 3.0, 0.0, 1.0)
    image += rng.normal(0.0, rng.uniform(0.02, 0.06), shape)
    return image, labels


def _render_fluorescence(shape, n_channels, patches, masks, centres, placed, rng):
    """One fluorescence micrograph (float, about [0, 1], channel-last) and its labels."""
    height, width = shape
    image = np.zeros((height, width, n_channels), dtype=np.float32)
    labels = np.zeros(shape, dtype=np.int32)
    for k, (i, centre) in enumerate(zip(placed, centres)):
        region, inner = _paste(image, patches[i], centre)
        labels[region][masks[i][inner]] = k + 1
    rows, cols = np.ogrid[:height, :width]
    for _ in range(rng.poisson(4)):  # bright debris dots
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(1.0, 3.0)
        dot = np.exp(-0.5 * ((rows - cy) ** 2 + (cols - cx) ** 2) / r**2)
        image[..., rng.integers(n_channels)] += rng.uniform(0.3, 1.0) * dot
    blur = rng.uniform(0.8, 1.5)  # optical point-spread function, px
    image = ndi.gaussian_filter(image, (blur, blur, 0))
    vignette = 1.0 - 0.3 * (
        ((rows - height / 2) / height) ** 2 + ((cols - width / 2) / width) ** 2
    )
    for c in range(n_channels):
        background = rng.uniform(0.03, 0.12) + _smooth_field(
            rng, shape, (96.0, 48.0), rng.uniform(0.005, 0.02)
        )
        image[..., c] = (image[..., c] * rng.uniform(0.6, 0.9) + background) * vignette
    photons = rng.uniform(60.0, 300.0)  # photons at full scale: shot noise
    image = rng.poisson(np.clip(image, 0, None) * photons) / photons
    image += rng.normal(0.0, 0.01, image.shape)
    return image.astype(np.float32), labels


def _jpeg(image, quality):
    """Round-trip an 8-bit image through JPEG compression in memory."""
    from PIL import Image

    channels = n_channels(image)
    data = image
    if channels == 2:  # JPEG holds gray or RGB: an empty blue channel
        data = np.dstack([image, np.zeros_like(image[..., 0])])
    buffer = io.BytesIO()
    Image.fromarray(data).save(buffer, format="JPEG", quality=int(quality))
    decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    return decoded if channels in (1, 3) else np.ascontiguousarray(decoded[..., :channels])


def _boxes_from_labels(labels, n, jitter, rng):
    """Bounding boxes (top, left, bottom, right) of labels 1..n, moved by jitter."""
    height, width = labels.shape
    boxes = np.zeros((n, 4), dtype=int)
    for k, found in enumerate(ndi.find_objects(labels, max_label=n)):
        rows, cols = found
        boxes[k] = rows.start, cols.start, rows.stop, cols.stop
    if jitter > 0 and n:
        size = np.repeat(boxes[:, 2:] - boxes[:, :2], 2, axis=1)[:, [0, 2, 1, 3]]
        boxes = boxes + np.rint(rng.normal(0.0, jitter, boxes.shape) * size).astype(int)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, height)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, width)
        boxes[:, 2] = np.maximum(boxes[:, 2], boxes[:, 0] + 1)
        boxes[:, 3] = np.maximum(boxes[:, 3], boxes[:, 1] + 1)
        boxes[:, [0, 1]] = np.minimum(boxes[:, [0, 1]], boxes[:, [2, 3]] - 1)
    return boxes


def _yolo_rows(classes, boxes, shape):
    """Normalised YOLO rows ``class cx cy w h`` from pixel boxes."""
    height, width = shape
    top, left, bottom, right = boxes.T.astype(float)
    return np.column_stack(
        [classes, (left + right) / 2 / width, (top + bottom) / 2 / height,
         (right - left) / width, (bottom - top) / height]
    )


@validate_params(
    {
        "modality": [StrOptions({"tem", "fluorescence"})],
        "n_micrographs": [Interval(Integral, 1, None, closed="left")],
        "shape": [tuple, list],
        "n_particles": [Interval(Integral, 0, None, closed="left"), tuple, list],
        "clustering": [Interval(Real, 0, 1, closed="both")],
        "problem": [StrOptions(set(_PROBLEMS))],
        "weights": ["array-like", None],
        "n_channels": [Interval(Integral, 2, 3, closed="both")],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": "no_validation",
        "jpeg_quality": [Interval(Integral, 1, 100, closed="both"), None],
        "box_jitter": [Interval(Real, 0, 0.3, closed="both")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_micrographs(
    modality="fluorescence",
    n_micrographs=10,
    *,
    shape=(384, 384),
    n_particles=(8, 16),
    clustering=0.4,
    problem="lamellarity",
    weights=None,
    n_channels=2,
    pixel_size=None,
    dtype="uint8",
    jpeg_quality=None,
    box_jitter=0.0,
    random_state=None,
):
    """Generate whole synthetic micrographs with true boxes, classes and masks.

    The test bed for reading, segmenting and classifying annotated
    micrographs: write them with :func:`write_yolo`, read them back with
    :func:`load_annotated_micrographs`, and compare the masks with the true
    ones. ``"tem"`` gives grayscale micrographs with dark liposomes of the
    study's classes (drawn like :func:`make_liposomes`), ``"fluorescence"``
    2 or 3 channels with bright liposomes (:data:`FLUORESCENCE_CLASSES`).
    Both have clusters of touching particles and debris nobody boxed.

    Parameters
    ----------
    modality : {"fluorescence", "tem"}, default="fluorescence"
        The kind of micrograph.
    n_micrographs : int, default=10
        Number of micrographs.
    shape : tuple of int, default=(384, 384)
        Height and width of each micrograph in pixels (at least 64 each).
    n_particles : int or tuple of int, default=(8, 16)
        Particles per micrograph, or a ``(low, high)`` range drawn from
        uniformly per micrograph (both included). Fewer are placed when the
        micrograph is too crowded.
    clustering : float, default=0.4
        Share of particles placed touching an already placed one.
    problem : {"lamellarity", "encapsulation"}, default="lamellarity"
        The study's problem whose classes TEM micrographs show; unused for
        fluorescence.
    weights : array-like of shape (3,), default=None
        Relative class weights, in target order; None uses the study's
        proportions (TEM) or 60/25/15 % (fluorescence: full, partial,
        empty).
    n_channels : {2, 3}, default=2
        Channels of fluorescence micrographs: membrane, cargo and (with 3) a
        second membrane label unrelated to the class.
    pixel_size : float, default=None
        Nanometres per pixel. None is 2.0 for TEM and 100.0 for
        fluorescence. TEM particles are drawn in nanometres, so it sets
        their size in pixels; fluorescence particles are 4 to 36 px in
        radius whatever it is.
    dtype : {"uint8", "uint16", "float32", "float64"}, default="uint8"
        Pixel type; integer images span the type's range.
    jpeg_quality : int, default=None
        Round-trip the micrographs through JPEG compression at this quality
        (1-100), as a lab exporting JPEG files would; needs ``dtype="uint8"``.
        None leaves them uncompressed.
    box_jitter : float, default=0.0
        Standard deviation of a random shift of each box edge, as a fraction
        of the box's size (at most 0.3); 0 gives the masks' tight bounding
        boxes.
    random_state : int, RandomState instance or None, default=None
        Determines all random draws. Pass an int for reproducible output.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        images : list of ndarray of shape (H, W) or (H, W, C)
            The micrographs.
        labels : list of ndarray of shape (k, 5)
            Per micrograph, YOLO rows ``class cx cy w h`` (normalised), ready
            for :func:`load_annotated_micrographs` or :func:`write_yolo`.
        boxes : list of ndarray of int, shape (k, 4)
            The same boxes in pixels: ``top, left, bottom, right``, bottom
            and right exclusive.
        targets : list of ndarray of int, shape (k,)
            The class of each particle.
        label_images : list of ndarray of int32, shape (H, W)
            The true masks: particle ``i`` covers ``label_images[m] == i + 1``.
        target_names : ndarray of str, shape (3,)
            The class names, in target order.
        names : ndarray of str, shape (n_micrographs,)
            File stems for writing: ``"micrograph-000"``, ...
        pixel_size : float
            Nanometres per pixel.
        DESCR : str
            How the micrographs are drawn.

    Raises
    ------
    ValueError
        If `shape`, `n_particles`, `weights` or `dtype` are malformed, or
        `jpeg_quality` is given with a dtype other than uint8.

    See Also
    --------
    write_yolo : Write the micrographs as image and YOLO label files.
    load_annotated_micrographs : Read them back, cut out and segmented.
    make_liposomes : Synthetic particle cut-outs.

    Examples
    --------
    >>> from sklipo.datasets import make_micrographs
    >>> data = make_micrographs("fluorescence", 2, n_particles=5, random_state=0)
    >>> data.images[0].shape, data.images[0].dtype
    ((384, 384, 2), dtype('uint8'))
    >>> data.labels[0].shape, data.target_names.tolist()
    ((5, 5), ['full', 'partial', 'empty'])
    >>> tem = make_micrographs("tem", 1, shape=(256, 320), n_particles=4, random_state=0)
    >>> tem.images[0].shape, tem.target_names.tolist()
    ((256, 320), ['unilamellar', 'multilamellar', 'uncertain'])
    """
    shape = _check_shape(shape)
    low, high = _check_n_particles(n_particles)
    out_dtype = np.dtype(dtype) if not isinstance(dtype, np.dtype) else dtype
    if out_dtype not in _DTYPE_SCALE:
        raise ValueError(
            f"dtype must be one of 'uint8', 'uint16', 'float32', 'float64'; got {dtype!r}."
        )
    if jpeg_quality is not None and out_dtype != np.uint8:
        raise ValueError(
            f"jpeg_quality needs dtype='uint8' (JPEG holds 8-bit images); got dtype {dtype!r}."
        )
    if modality == "tem":
        target_names = np.asarray(_PROBLEMS[problem]["target_names"])
        proportions = _check_weights(weights, _PROBLEMS[problem]["counts"])
        pixel_size = 2.0 if pixel_size is None else float(pixel_size)
    else:
        target_names = np.asarray(FLUORESCENCE_CLASSES)
        proportions = _check_weights(weights, _FLUORESCENCE_COUNTS)
        pixel_size = 100.0 if pixel_size is None else float(pixel_size)
    rng = np.random.default_rng(
        check_random_state(random_state).randint(np.iinfo(np.int32).max, size=4)
    )
    scale = _DTYPE_SCALE[out_dtype]
    images, labels, boxes, targets, label_images = [], [], [], [], []
    for _ in range(n_micrographs):
        n_wanted = int(rng.integers(low, high + 1))
        # Draw a few spare particles: crowded micrographs place fewer.
        y = rng.permutation(np.repeat(np.arange(3), _allocate(proportions, n_wanted + 4)))
        if modality == "tem":
            patches, masks, reach = _tem_particles(problem, y, pixel_size, rng)
        else:
            patches, masks, reach = _fluorescence_particles(y, n_channels, rng)
        placed, centres = _place(reach, shape, n_wanted, clustering, rng)
        if modality == "tem":
            image, label_image = _render_tem(shape, patches, masks, centres, placed, rng)
        else:
            image, label_image = _render_fluorescence(
                shape, n_channels, patches, masks, centres, placed, rng
            )
        image = np.clip(image, 0.0, 1.0)
        if scale != 1.0:
            image = np.rint(image * scale)
        image = image.astype(out_dtype)
        if jpeg_quality is not None:
            image = _jpeg(image, jpeg_quality)
        box = _boxes_from_labels(label_image, len(placed), box_jitter, rng)
        classes = y[placed]
        images.append(image)
        boxes.append(box)
        targets.append(classes)
        labels.append(_yolo_rows(classes, box, shape))
        label_images.append(label_image)
    width = max(3, len(str(n_micrographs - 1)))
    return Bunch(
        images=images,
        labels=labels,
        boxes=boxes,
        targets=targets,
        label_images=label_images,
        target_names=target_names,
        names=np.array([f"micrograph-{i:0{width}d}" for i in range(n_micrographs)]),
        pixel_size=pixel_size,
        DESCR=_DESCR,
    )


def _check_shape(shape):
    try:
        height, width = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (height, width) in pixels; got {shape!r}.") from None
    if min(height, width) < 64:
        raise ValueError(f"shape must be at least (64, 64) pixels; got {shape!r}.")
    return height, width


def _check_n_particles(n_particles):
    if isinstance(n_particles, Integral):
        return int(n_particles), int(n_particles)
    try:
        low, high = (int(v) for v in n_particles)
    except (TypeError, ValueError):
        raise ValueError(
            f"n_particles must be an int or a (low, high) range; got {n_particles!r}."
        ) from None
    if not 0 <= low <= high:
        raise ValueError(f"n_particles must satisfy 0 <= low <= high; got {n_particles!r}.")
    return low, high


_COLOUR_FORMATS = ("png", "jpg", "jpeg", "bmp")


@validate_params(
    {
        "path": [str, os.PathLike],
        "images": [list, tuple],
        "labels": [list, tuple],
        "class_names": ["array-like"],
        "names": ["array-like", None],
        "image_format": [StrOptions({ext[1:] for ext in IMAGE_EXTENSIONS})],
        "jpeg_quality": [Interval(Integral, 1, 100, closed="both")],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def write_yolo(
    path,
    images,
    labels,
    class_names,
    *,
    names=None,
    image_format="png",
    jpeg_quality=95,
    pixel_size=None,
    overwrite=False,
):
    """Write micrographs and their boxes the way annotation tools export YOLO.

    Writes ``images/<name>.<image_format>``, ``labels/<name>.txt`` (one line
    ``class cx cy w h`` per box, normalised, six decimals) and
    ``classes.txt`` (one class name per line) under `path`, the layout
    LabelImg, Label Studio and Roboflow export and
    :func:`load_annotated_micrographs` reads::

        load_annotated_micrographs(path / "images", path / "labels",
                                   path / "classes.txt")

    Parameters
    ----------
    path : str or path-like
        The folder to write; created if missing.
    images : list of ndarray of shape (H, W) or (H, W, C)
        The micrographs.
    labels : list of ndarray of shape (k, 5)
        YOLO rows per micrograph, as :func:`make_micrographs` returns them.
    class_names : array-like of str
        The class names, by class index.
    names : array-like of str, default=None
        File stems; None numbers the micrographs ``micrograph-000``, ...
    image_format : {"png", "jpg", "jpeg", "bmp", "tif", "tiff", "mrc", \
"mrcs", "map"}, default="png"
        The image file type. PNG, JPEG and BMP hold 8-bit gray or RGB (PNG
        also 16-bit gray): a two-channel image is written as RGB with an
        empty blue channel, as microscope software exports two colours.
        TIFF keeps any dtype and channels; MRC one grayscale image.
    jpeg_quality : int, default=95
        JPEG quality, 1 to 100.
    pixel_size : float, default=None
        Nanometres per pixel, stored in TIFF and MRC headers.
    overwrite : bool, default=False
        Whether to write into a folder that is not empty (files of the same
        name are replaced; nothing is deleted).

    Returns
    -------
    path : pathlib.Path
        The folder written.

    Raises
    ------
    FileExistsError
        If `path` is not empty and `overwrite` is False.
    ValueError
        If the lists differ in length, a label array is not ``(k, 5)``, or
        the format cannot hold an image (the message names the file).

    See Also
    --------
    make_micrographs : Synthetic micrographs to write.
    load_annotated_micrographs : Read the folder back.

    Examples
    --------
    >>> import tempfile
    >>> from sklipo.datasets import make_micrographs, write_yolo
    >>> data = make_micrographs("fluorescence", 2, n_particles=3, random_state=0)
    >>> folder = write_yolo(tempfile.mkdtemp(), data.images, data.labels,
    ...                     data.target_names, image_format="jpg")
    >>> sorted(p.name for p in (folder / "images").iterdir())
    ['micrograph-000.jpg', 'micrograph-001.jpg']
    >>> print((folder / "classes.txt").read_text())
    full
    partial
    empty
    <BLANKLINE>
    """
    path = Path(path)
    if len(images) != len(labels):
        raise ValueError(
            f"Got {len(images)} images but {len(labels)} label arrays; give one per micrograph."
        )
    if names is None:
        width = max(3, len(str(len(images) - 1)))
        names = [f"micrograph-{i:0{width}d}" for i in range(len(images))]
    names = [str(name) for name in names]
    if len(names) != len(images) or len(set(names)) != len(names):
        raise ValueError(f"names must be {len(images)} distinct file stems; got {names!r}.")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"Cannot write into '{path}': it is a file.")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(
            f"The folder '{path}' is not empty. Choose a new folder, or pass overwrite=True."
        )
    (path / "images").mkdir(parents=True, exist_ok=True)
    (path / "labels").mkdir(exist_ok=True)
    for image, rows, name in zip(images, labels, names):
        rows = np.asarray(rows, dtype=float).reshape(-1, 5) if np.size(rows) else np.zeros((0, 5))
        if rows.shape[1] != 5:
            raise ValueError(f"The labels of {name} must be an array of shape (k, 5).")
        image = np.asarray(image)
        if image_format in _COLOUR_FORMATS and n_channels(image) == 2:
            image = np.dstack([image, np.zeros_like(image[..., 0])])
        write_image_file(
            path / "images" / f"{name}.{image_format}", image,
            jpeg_quality=jpeg_quality, pixel_size=pixel_size,
        )
        text = "".join(
            f"{int(row[0])} {row[1]:.6f} {row[2]:.6f} {row[3]:.6f} {row[4]:.6f}\n" for row in rows
        )
        (path / "labels" / f"{name}.txt").write_text(text, encoding="utf-8")
    (path / "classes.txt").write_text(
        "".join(f"{name}\n" for name in np.asarray(class_names).astype(str)), encoding="utf-8"
    )
    return path
