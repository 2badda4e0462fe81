"""Whole synthetic micrographs with true boxes, classes and masks."""

# License: BSD 3 clause

import io
from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.datasets._image_files import n_channels
from sklipo.datasets._liposome_parameters import _PROBLEMS, _allocate, _check_weights
from sklipo.datasets._micrograph_scenes import (
    _fluorescence_particles,
    _place,
    _render_fluorescence,
    _render_tem,
    _tem_particles,
)
from sklipo.datasets._write_yolo import _yolo_rows

__all__ = ["FLUORESCENCE_CLASSES", "make_micrographs"]

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
