"""Find particles in whole micrographs without boxes: classical scikit-image detection."""

# License: BSD 3 clause

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from skimage.filters import apply_hysteresis_threshold
from skimage.morphology import convex_hull_image, disk, h_maxima
from skimage.segmentation import watershed
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.detection._contrast import (
    _BACKGROUND_WINDOW,
    _check_micrograph,
    _contrast_planes,
    _planes,
    _polarity_signs,
)
from sklipo.detection._rings import centre_ratios, find_rings

__all__ = ["DEFAULT_DIAMETER_RANGE", "find_particles"]

#: Diameter range in pixels searched when none is given.
DEFAULT_DIAMETER_RANGE = (8.0, 160.0)

# Found regions must have an equivalent diameter within this factor of the
# diameter range: thresholding at half height and smoothing shift a
# particle's size a little either way.
_SIZE_TOLERANCE = 0.75
# Smallest and largest accepted ratio of a region's area to the area of the
# ellipse inscribed in its box: a disc or ellipse scores about 1, a thin
# streak, an L-shaped piece of carbon edge or a ragged noise patch less.
_FILL_RANGE = (0.6, 1.35)
# The hysteresis thresholding keeps pixels above this share of `threshold`
# when they connect to a pixel above `threshold`.
_LOW_SHARE = 0.5
# Each particle is cut where it falls below this share of its nearby peak:
# at half height, the edge of a blurred step and of a blurred membrane.
_EDGE_SHARE = 0.5


def diameter_range_px(diameter_range, pixel_size):
    """The diameter range in pixels: `diameter_range` is in nm when `pixel_size` is given."""
    if diameter_range is None:
        return DEFAULT_DIAMETER_RANGE
    low, high = (float(v) for v in diameter_range)
    if pixel_size is not None:
        low, high = low / pixel_size, high / pixel_size
    return low, high


def _fill_small_holes(foreground, max_area):
    """Fill holes (membrane rings' lumens) of at most `max_area` pixels."""
    filled = ndi.binary_fill_holes(foreground)
    holes = filled & ~foreground
    if not holes.any():
        return foreground
    labels, n = ndi.label(holes)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    small = sizes <= max_area
    small[0] = False
    return foreground | small[labels]


def _close_arcs(foreground, max_area):
    """Replace open membrane rings (arcs) by their convex hull.

    A ring whose membrane fades along a stretch does not close, so its lumen
    is not filled. A component that covers less than half of the ellipse
    inscribed in its roughly square box, and whose convex hull is no larger
    than the largest particle, is taken as such an arc.
    """
    labels, n = ndi.label(foreground)
    if n == 0:
        return foreground
    areas = np.bincount(labels.ravel(), minlength=n + 1)
    result = foreground.copy()
    for k, found in enumerate(ndi.find_objects(labels), start=1):
        height = found[0].stop - found[0].start
        width = found[1].stop - found[1].start
        if min(height, width) < 5 or not 0.6 <= height / width <= 1 / 0.6:
            continue
        ellipse = np.pi / 4 * height * width
        if areas[k] >= 0.5 * ellipse or ellipse > max_area:
            continue
        hull = convex_hull_image(labels[found] == k)
        result[found] |= hull
    return result


def _split(foreground, min_radius, split_touching):
    """Label image of particles: connected regions, touching ones split by watershed."""
    components, n = ndi.label(foreground)
    if not split_touching or n == 0:
        return components
    distance = ndi.distance_transform_edt(foreground)
    labels = np.zeros_like(components)
    # A region too small to hold two of the smallest particles side by side
    # is one particle: only larger ones go through the (costlier) watershed,
    # each in its own crop.
    two = 2.0 * np.pi * (_SIZE_TOLERANCE * min_radius) ** 2
    areas = np.bincount(components.ravel(), minlength=n + 1)
    h = max(1.0, 0.3 * min_radius)
    next_label = 1
    for k, found in enumerate(ndi.find_objects(components), start=1):
        own = components[found] == k
        if areas[k] < two:
            labels[found][own] = next_label
            next_label += 1
            continue
        # Light smoothing breaks the ties of a digitised distance map; a peak
        # must rise above the neck to its neighbour by `h` to seed a
        # particle, so a ragged outline does not split one particle in two.
        crop = np.where(own, distance[found], 0.0)
        smooth = ndi.gaussian_filter(crop, 1.0) * own
        markers, m = ndi.label(h_maxima(smooth, h) & own)
        if m <= 1:
            labels[found][own] = next_label
            next_label += 1
            continue
        split = watershed(-smooth, markers, mask=own)
        labels[found][own] = split[own] + next_label - 1
        next_label += m
    return labels


def _regions(labels, z, foreground_raw):
    """Labels, boxes, areas and contrast of every labelled region."""
    n = int(labels.max())
    if n == 0:
        return np.zeros(0, dtype=int), np.zeros((0, 4), dtype=int), np.zeros(0), np.zeros(0)
    slices = ndi.find_objects(labels)
    present = np.array([s is not None for s in slices])
    boxes = np.array(
        [[s[0].start, s[1].start, s[0].stop, s[1].stop] if s is not None else [0, 0, 0, 0]
         for s in slices],
        dtype=int,
    )
    flat = labels.ravel()
    area = np.bincount(flat, minlength=n + 1)[1:].astype(float)
    # Contrast: the mean of the particle's own thresholded pixels (its
    # membrane for a ring), in noise units.
    raw = foreground_raw.ravel()
    weight = np.bincount(flat[raw], minlength=n + 1)[1:]
    total = np.bincount(flat[raw], weights=z.ravel()[raw], minlength=n + 1)[1:]
    contrast = np.divide(total, weight, out=np.zeros(n), where=weight > 0)
    ids = np.arange(1, n + 1)
    return ids[present], boxes[present], area[present], contrast[present]


def _find(image, *, diameter_range, polarity, channel, sigma, threshold, split_touching,
          exclude_border, min_score, name, rings, max_centre, size_range=None):
    """find_particles on checked parameters.

    Regions are kept when their equivalent diameter lies within `size_range`
    (pixels); None widens `diameter_range` by the factor `_SIZE_TOLERANCE`
    either way.
    """
    planes = _planes(image, channel, name)
    height, width = planes.shape[:2]
    d_min, d_max = diameter_range
    if sigma is None:
        sigma = float(np.clip(d_min / 16.0, 1.0, 4.0))
    z, flat = _contrast_planes(planes, sigma, _BACKGROUND_WINDOW * d_min)
    signs = _polarity_signs(z, flat, polarity, threshold, name)
    aligned = (z * signs).max(axis=2)
    raw = apply_hysteresis_threshold(aligned, _LOW_SHARE * threshold, threshold)
    if raw.any():
        # Cut each particle where it falls below a share of its own peak
        # (nearby): a bright particle's blurred halo stands out of the noise
        # far beyond its edge, and would swell its box and bridge it to its
        # neighbours.
        size = int(np.clip(d_min / 3, 5, 25))
        peak = ndi.maximum_filter(aligned, size=size, mode="nearest")
        raw &= aligned >= _EDGE_SHARE * peak
    foreground = raw
    radius = max(1, int(round(sigma)))
    if foreground.any():
        # Bridge the gaps noise breaks into a membrane ring, then fill its lumen.
        foreground = ndi.binary_closing(np.pad(foreground, radius), disk(radius))
        foreground = foreground[radius:-radius, radius:-radius]
        max_hole = np.pi / 4 * (d_max / _SIZE_TOLERANCE) ** 2
        foreground = _fill_small_holes(foreground, max_hole)
        foreground = _close_arcs(foreground, max_hole)
        foreground = ndi.binary_opening(foreground, disk(max(1, int(d_min // 6))))
    labels = _split(foreground, d_min / 2, split_touching)
    ids, boxes, area, contrast = _regions(labels, aligned, raw)
    diameter = 2 * np.sqrt(area / np.pi)
    size_low, size_high = (
        (d_min * _SIZE_TOLERANCE, d_max / _SIZE_TOLERANCE) if size_range is None else size_range
    )
    box_h, box_w = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    fill = area / np.maximum(np.pi / 4 * box_h * box_w, 1)
    keep = (
        (diameter >= size_low)
        & (diameter <= size_high)
        & (fill >= _FILL_RANGE[0])
        & (fill <= _FILL_RANGE[1])
    )
    if max_centre is not None:
        # Before the rings: the membrane of a ring lying on a dropped blob (an
        # open ring closed by its convex hull) is a new particle.
        keep[keep] = ~(centre_ratios(aligned, boxes[keep]) > max_centre)
    if rings:
        ring_boxes, ring_scores, ring_diameter, replaced = find_rings(
            aligned, labels, ids[keep], boxes[keep], size_range=(size_low, size_high),
            sigma=sigma, threshold=threshold,
        )
        keep[np.flatnonzero(keep)[replaced]] = False
        ring_boxes = np.rint(ring_boxes).astype(int)
        ring_boxes[:, :2] = np.maximum(ring_boxes[:, :2], 0)
        ring_boxes[:, 2:] = np.minimum(ring_boxes[:, 2:], [height, width])
        fits = (ring_diameter >= size_low) & (ring_diameter <= size_high)
        if max_centre is not None:
            fits &= ~(centre_ratios(aligned, ring_boxes) > max_centre)
        boxes = np.concatenate([boxes[keep], ring_boxes[fits]])
        contrast = np.concatenate([contrast[keep], ring_scores[fits]])
        diameter = np.concatenate([diameter[keep], ring_diameter[fits]])
    else:
        boxes, contrast, diameter = boxes[keep], contrast[keep], diameter[keep]
    keep = contrast >= min_score
    if exclude_border:
        keep &= (boxes[:, 0] > 0) & (boxes[:, 1] > 0) & (boxes[:, 2] < height) & (
            boxes[:, 3] < width
        )
    order = np.argsort(-contrast[keep], kind="stable")
    return Bunch(
        boxes=boxes[keep][order],
        scores=contrast[keep][order],
        diameters=diameter[keep][order],
        polarity=np.where(signs > 0, "bright", "dark"),
        sigma=sigma,
    )


@validate_params(
    {
        "micrograph": ["array-like"],
        "diameter_range": [tuple, list, None],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "polarity": [StrOptions({"auto", "dark", "bright"}), list, tuple, np.ndarray],
        "channel": [Interval(Integral, None, None, closed="neither"), list, tuple, None],
        "sigma": [Interval(Real, 0, None, closed="left"), None],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "split_touching": ["boolean"],
        "rings": ["boolean"],
        "max_centre": [Interval(Real, None, None, closed="neither"), None],
        "exclude_border": ["boolean"],
        "min_score": [Interval(Real, None, None, closed="neither")],
        "name": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def find_particles(
    micrograph,
    *,
    diameter_range=None,
    pixel_size=None,
    polarity="auto",
    channel=None,
    sigma=None,
    threshold=4.0,
    split_touching=True,
    rings=True,
    max_centre=None,
    exclude_border=False,
    min_score=0.0,
    name=None,
):
    """Find the particles of a micrograph: boxes and scores, without annotation.

    Classical detection, for dark particles on a light background (TEM,
    cryo-EM) and bright ones on a dark background (fluorescence), seen as
    filled discs or as membrane rings, on one channel or several:

    1. **Background.** Each channel's slowly varying background (uneven
       illumination, ice thickness, vignetting) is estimated by a median over
       windows of twice the smallest diameter and subtracted (larger
       particles, hollowed to their rim by it, are filled again in step 3). The rest is
       smoothed with a Gaussian of `sigma` pixels and divided by its robust
       spread (scaled median absolute deviation), so contrast is in units of
       the micrograph's own noise and texture.
    2. **Polarity.** With ``polarity="auto"`` each channel's particles are
       the side, brighter or darker, where more stands out beyond
       `threshold`. Channels are flipped so particles are positive and
       combined by their maximum: a particle seen in any channel counts.
    3. **Threshold.** Hysteresis thresholding keeps pixels above
       `threshold` and those above half of it connected to them, so a faint
       stretch of membrane stays attached to its ring. A closing of radius
       `sigma` bridges small gaps and the lumens of rings are filled (holes
       no larger than the largest particle).
    4. **Touching particles.** A watershed on the distance transform splits
       touching particles, seeded at the distance peaks that rise above the
       neck to a neighbour by at least 0.3 times the smallest radius.
    5. **Checks.** A region is kept when its equivalent diameter lies within
       `diameter_range` (with a tolerance of a factor 0.75 either way), its
       area is 0.6 to 1.35 times that of the ellipse inscribed in its box
       (discs and ellipses, not streaks or ragged noise), its centre is no
       fuller than `max_centre` and its score reaches `min_score`.
    6. **Rings.** With `rings`, a ring-matched filter finds membrane rings
       that thresholding missed (faint all round) or merged (touching
       neighbours): the contrast, clipped at 3 noise units, is averaged
       along circles of radii across the diameter range (by FFT, on block
       means of about a fifth of the radius), and each local maximum is
       traced around its centre. A ring is kept when its membrane stands
       out by half of `threshold` along 80 % of its circumference, its
       lumen is at most half as contrasted, and no better ring overlaps
       it. A ring adds a particle where little of its membrane lies in the
       particles found by thresholding; two rings or more inside one found
       particle, matching none of its box, replace it. Rings are checked
       like regions, by the diameter of their traced membrane.

    Parameters
    ----------
    micrograph : array-like of shape (H, W) or (H, W, C)
        The micrograph, channels last; any integer or floating-point dtype.
    diameter_range : tuple of float, default=None
        Smallest and largest expected particle diameter, in nanometres when
        `pixel_size` is given, else in pixels. None searches 8 to 160 pixels
        (:data:`DEFAULT_DIAMETER_RANGE`). It sets the smoothing, the
        background window and the size check, so a range close to the
        particles' finds them best; :class:`ParticleFinder` learns it from
        annotated micrographs.
    pixel_size : float, default=None
        Nanometres per pixel; None means `diameter_range` is in pixels.
    polarity : {"auto", "dark", "bright"} or list of str, default="auto"
        Whether particles are darker (TEM) or brighter (fluorescence) than
        the background; "auto" decides per channel, a list gives "dark" or
        "bright" for each channel used.
    channel : int or list of int, default=None
        Detect on these channels only; None uses them all.
    sigma : float, default=None
        Standard deviation in pixels of the Gaussian smoothing, also the
        radius of the closing; None takes a sixteenth of the smallest
        diameter, between 1 and 4 pixels. 0 turns smoothing off.
    threshold : float, default=4.0
        How far, in noise units, a particle's pixels must stand out of the
        background. Lower finds fainter particles and more noise.
    split_touching : bool, default=True
        Whether to split touching particles by watershed.
    rings : bool, default=True
        Whether to also search membrane rings with the ring-matched filter
        (step 6): faint rings and rings touching a neighbour. False is
        faster where particles are filled discs.
    max_centre : float, default=None
        Drop particles whose centre (the middle third of the box, each way)
        is, on average, more contrasted than this share of their rim (the
        box's 95th percentile of contrast): a membrane ring scores about 0,
        a filled disc about 1, so 0.5 drops dark blobs of ice or debris
        among hollow vesicles. None keeps all; :class:`ParticleFinder`
        learns it from annotated particles.
    exclude_border : bool, default=False
        Whether to drop particles whose box touches the micrograph's frame
        (cut by it).
    min_score : float, default=0.0
        Drop particles whose score (contrast) is below this.
    name : str, default=None
        How to name the micrograph in errors and warnings (a file name).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        boxes : ndarray of int, shape (k, 4)
            One box per particle found, rows ``top, left, bottom, right``
            in pixels, bottom and right exclusive, sorted by decreasing
            score.
        scores : ndarray of float, shape (k,)
            Each particle's contrast: the mean of its thresholded pixels in
            noise units of the smoothed micrograph (its membrane for a
            ring), or for a ring found by the filter the mean contrast along
            its traced membrane. Higher is surer.
        diameters : ndarray of float, shape (k,)
            Each particle's equivalent diameter in pixels (of a disc of the
            same area; for a ring found by the filter, the diameter of its
            traced membrane).
        polarity : ndarray of str, shape (n_channels,)
            ``"dark"`` or ``"bright"`` per channel used.
        sigma : float
            The smoothing used, in pixels.

    Raises
    ------
    TypeError
        If the micrograph does not hold numbers.
    ValueError
        If the micrograph is not 2-D (with channels last), holds NaN or
        infinite values, is smaller than the smallest particle, or
        `channel` or `diameter_range` is invalid. Messages name the
        micrograph when `name` is given.

    Warns
    -----
    UserWarning
        When no particle is found (an empty or constant micrograph).

    See Also
    --------
    ParticleFinder : Learns the diameter range and polarity from annotated
        micrographs; tunable by grid search.
    sklipo.metrics.detection_scores : Check found boxes against labelled ones.
    cut_particles : Cut the found particles out like the training data.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.detection import find_particles
    >>> rng = np.random.default_rng(0)
    >>> rows, cols = np.ogrid[:200, :200]
    >>> image = rng.normal(200, 10, (200, 200))
    >>> for cy, cx in [(60, 60), (60, 96), (150, 120)]:   # two touching
    ...     image[(rows - cy) ** 2 + (cols - cx) ** 2 <= 18 ** 2] -= 80
    >>> found = find_particles(image, diameter_range=(20, 60))
    >>> found.polarity.tolist(), len(found.boxes)
    (['dark'], 3)
    >>> sorted(found.boxes.tolist())
    [[43, 43, 78, 76], [43, 81, 78, 114], [133, 103, 168, 138]]
    """
    where = "" if name is None else str(name)
    image = _check_micrograph(micrograph, where or "given")
    low, high = _check_diameter_range(diameter_range, pixel_size)
    height, width = image.shape[:2]
    if min(height, width) < low:
        raise ValueError(
            f"The micrograph {where or 'given'} is {height}x{width} px, smaller than the "
            f"smallest particle diameter searched ({low:g} px); check diameter_range and "
            "pixel_size."
        )
    result = _find(
        image, diameter_range=(low, high), polarity=polarity, channel=channel, sigma=sigma,
        threshold=threshold, split_touching=split_touching, exclude_border=exclude_border,
        min_score=min_score, name=where or "given", rings=rings, max_centre=max_centre,
    )
    if len(result.boxes) == 0:
        warnings.warn(
            f"No particles found in the micrograph {where or 'given'}"
            f"{' (it is constant)' if np.ptp(image) == 0 else ''}. Check diameter_range "
            f"({low:g} to {high:g} px), polarity and threshold.",
            UserWarning,
            stacklevel=2,
        )
    return result


def _check_diameter_range(diameter_range, pixel_size):
    """The diameter range in pixels, checked."""
    if diameter_range is not None:
        try:
            low, high = (float(v) for v in diameter_range)
        except (TypeError, ValueError):
            raise ValueError(
                "diameter_range must be (smallest, largest) particle diameter; got "
                f"{diameter_range!r}."
            ) from None
        if not (0 < low <= high and np.isfinite(high)):
            raise ValueError(
                f"diameter_range must satisfy 0 < smallest <= largest; got {diameter_range!r}."
            )
    low, high = diameter_range_px(diameter_range, pixel_size)
    if low < 2:
        raise ValueError(
            f"diameter_range is {low:g} to {high:g} px: particles smaller than 2 px cannot be "
            "found. Check the units: nm with pixel_size, else pixels."
        )
    return low, high
