"""Segment the particle inside each bounding box of a micrograph, for any contrast."""

# License: BSD 3 clause

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.morphology import convex_hull_image, disk
from skimage.segmentation import watershed
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["QUALITY_FIELDS", "segment_boxes"]

#: The fields of the per-particle quality record, in order.
QUALITY_FIELDS = ("area_ratio", "solidity", "touches_edge", "contrast", "fallback")

# Above this share of fallbacks the loaders warn: the settings do not suit the data.
FALLBACK_WARN_RATE = 0.10
# Quantile of the smoothed, polarity-aligned pixels inside the box taken as the
# particle's level; the threshold lies half-way between it and the background.
_PARTICLE_QUANTILE = 0.9
# A channel shows the particle when it stands out of the background's variation
# by more than this (the 90th percentile of pure Gaussian noise is 1.28).
_CHANNEL_FLOOR = 1.6
# A box decides its own polarity when one side stands out this many times as
# far as the other; otherwise the micrograph's vote decides.
_CLEAR_RATIO = 1.5


def _inscribed_ellipse(height, width):
    """Boolean mask of the ellipse inscribed in a height x width box."""
    rows = (np.arange(height) + 0.5 - height / 2) / (height / 2)
    cols = (np.arange(width) + 0.5 - width / 2) / (width / 2)
    return rows[:, None] ** 2 + cols[None, :] ** 2 <= 1


def _ellipse_radius(height, width, rows, cols):
    """Normalised elliptic radius of pixels (rows, cols) from the box centre."""
    return np.hypot(
        (rows + 0.5 - height / 2) / (height / 2), (cols + 0.5 - width / 2) / (width / 2)
    )


def _noise_level(plane):
    """Robust per-pixel noise of a plane, from differences of neighbouring pixels."""
    steps = np.abs(np.diff(plane[:: max(1, plane.shape[0] // 512)], axis=1))
    noise = 1.4826 * np.median(steps) / np.sqrt(2)
    if noise > 0:
        return float(noise)
    # Quantised or piecewise-flat images (8-bit, JPEG): the mean step instead.
    spread = float(steps.mean())
    return spread if spread > 0 else 1.0


class _Micrograph:
    """A micrograph as float planes, with per-channel noise and polarity."""

    def __init__(self, image, channel):
        planes = image[..., None] if image.ndim == 2 else image
        if channel is not None:
            if not -planes.shape[2] <= channel < planes.shape[2]:
                raise ValueError(
                    f"channel={channel} does not exist: the micrograph has "
                    f"{planes.shape[2]} channel(s)."
                )
            planes = planes[..., [channel]]
        self.planes = planes.astype(np.float32, copy=False)
        self.noise = np.array([_noise_level(self.planes[..., c]) for c in range(planes.shape[2])])
        flat = self.planes.reshape(-1, planes.shape[2])
        self.flat = flat.min(axis=0) == flat.max(axis=0)
        self.height, self.width = planes.shape[:2]


def _region(box, margin, height, width):
    """The box grown by `margin` pixels on each side, clipped at the frame."""
    top, left, bottom, right = box
    return (
        max(top - margin, 0),
        max(left - margin, 0),
        min(bottom + margin, height),
        min(right + margin, width),
    )


def _channel_scores(micrograph, box, margin, sigma):
    """Background, bright and dark contrast (noise units) of each channel in a box."""
    y0, x0, y1, x1 = _region(box, margin, micrograph.height, micrograph.width)
    top, left, bottom, right = box
    planes = micrograph.planes[y0:y1, x0:x1]
    smooth = ndi.gaussian_filter(planes, (sigma, sigma, 0), mode="nearest")
    outside = np.ones(planes.shape[:2], dtype=bool)
    outside[top - y0 : bottom - y0, left - x0 : right - x0] = False
    if outside.sum() < 8:  # a box filling the micrograph: its own border
        outside[...] = False
        outside[[0, -1], :] = outside[:, [0, -1]] = True
    inside = np.zeros_like(outside)
    inside[top - y0 : bottom - y0, left - x0 : right - x0] = _inscribed_ellipse(
        bottom - top, right - left
    )
    around = smooth[outside]
    background = np.median(around, axis=0)
    # The background's own variation around the box (noise left after
    # smoothing, texture), robust to neighbours reaching into it; at least
    # the smoothed white noise, so that flat synthetic images do not divide
    # by zero.
    spread = 1.4826 * np.median(np.abs(around - background), axis=0)
    spread = np.maximum(spread, micrograph.noise / (1.0 + 2.0 * np.sqrt(np.pi) * sigma))
    bright = np.quantile(smooth[inside], _PARTICLE_QUANTILE, axis=0) - background
    dark = background - np.quantile(smooth[inside], 1 - _PARTICLE_QUANTILE, axis=0)
    return smooth, (y0, x0), background, bright / spread, dark / spread


def _polarities(scores, n_channels, polarity):
    """+1 (bright particles) or -1 (dark) per box and channel, shape (k, C).

    A box whose particle is clearly brighter or darker than its background
    (one side stands out 1.5 times as far as the other) decides for itself;
    an ambiguous one follows the vote of all boxes of the micrograph.
    """
    if polarity != "auto":
        return np.full((len(scores), n_channels), 1.0 if polarity == "bright" else -1.0)
    if not scores:
        return np.zeros((0, n_channels))
    bright = np.clip([score[3] for score in scores], 0, None)
    dark = np.clip([score[4] for score in scores], 0, None)
    votes = (bright - dark).sum(axis=0)
    # A tie (flat channel) counts as dark, the electron-microscopy default.
    micrograph = np.where(votes > 0, 1.0, -1.0)
    clear = (np.maximum(bright, dark) > _CHANNEL_FLOOR) & (
        np.maximum(bright, dark) >= _CLEAR_RATIO * np.minimum(bright, dark)
    )
    return np.where(clear, np.where(bright > dark, 1.0, -1.0), micrograph)


def _foreground(micrograph, scores, signs, box):
    """Foreground of the region around a box, and the particle's contrast.

    Each channel is flipped so the particle is positive. Every channel where
    the particle stands out of the background's variation is cut at half the
    particle's level in it, and the cuts are united: a membrane seen in one
    channel and a lumen in another make one particle, and a particle seen in
    one channel only is not drowned by the others. When no channel stands
    out, the best one is cut all the same (the shape checks then decide).
    """
    smooth, origin, background, bright, dark = scores
    strength = np.where(signs > 0, bright, dark)
    strength[micrograph.flat] = -np.inf
    best = float(np.max(strength, initial=0.0))
    used = strength > _CHANNEL_FLOOR
    if not used.any():
        if best <= 0:
            return None, origin, max(best, 0.0)
        used = strength == best
    top, left, bottom, right = box
    y0, x0 = origin
    in_box = (slice(top - y0, bottom - y0), slice(left - x0, right - x0))
    ellipse = _inscribed_ellipse(bottom - top, right - left)
    foreground = np.zeros(smooth.shape[:2], dtype=bool)
    for c in np.flatnonzero(used):
        plane = (smooth[..., c] - background[c]) * signs[c]
        level = np.quantile(plane[in_box][ellipse], _PARTICLE_QUANTILE)
        if level > 0:
            foreground |= plane > 0.5 * level
    return foreground, origin, best
def _markers(foreground, own_box, other_boxes, origin, min_side):
    """Label image of watershed seeds: 1 for this particle, 2, 3, ... for others."""
    y0, x0 = origin
    top, left, bottom, right = own_box
    height, width = bottom - top, right - left
    markers = np.zeros(foreground.shape, dtype=np.int32)
    distance = ndi.distance_transform_edt(foreground)
    # This particle's seed: the deepest foreground point near the box centre.
    rows, cols = np.mgrid[top - y0 : bottom - y0, left - x0 : right - x0]
    near = _ellipse_radius(height, width, rows - (top - y0), cols - (left - x0)) <= 0.5
    depth = np.where(near, distance[top - y0 : bottom - y0, left - x0 : right - x0], 0)
    if depth.max() == 0:
        return None, distance
    seed = np.unravel_index(np.argmax(depth), depth.shape)
    own = (seed[0] + top - y0, seed[1] + left - x0)
    markers[own] = 1
    label = 2
    # Neighbours annotated in the same micrograph: a seed at their box centre.
    for other in other_boxes:
        cy = int((other[0] + other[2]) // 2) - y0
        cx = int((other[1] + other[3]) // 2) - x0
        cy, cx = np.clip(cy, 0, foreground.shape[0] - 1), np.clip(cx, 0, foreground.shape[1] - 1)
        if foreground[cy, cx] and markers[cy, cx] == 0:
            markers[cy, cx] = label
            label += 1
    # Neighbours nobody boxed: distance peaks well outside this particle's ellipse.
    peaks = peak_local_max(
        distance,
        min_distance=max(2, min_side // 4),
        threshold_abs=max(1.5, 0.25 * min_side / 2),
        exclude_border=False,
    )
    if len(peaks):
        radius = _ellipse_radius(
            height, width, peaks[:, 0] - (top - y0), peaks[:, 1] - (left - x0)
        )
        far = np.hypot(peaks[:, 0] - own[0], peaks[:, 1] - own[1]) > min_side / 2
        for r, c in peaks[(radius > 1.15) & far]:
            if markers[r, c] == 0:
                markers[r, c] = label
                label += 1
    return markers, distance


def _measure(mask, height, width):
    """Area ratio to the inscribed ellipse, solidity and whether it runs along an edge."""
    area = mask.sum()
    ellipse_area = _inscribed_ellipse(height, width).sum()
    if area == 0:
        return 0.0, 0.0, False
    solidity = area / convex_hull_image(mask).sum()
    sides = (mask[0].mean(), mask[-1].mean(), mask[:, 0].mean(), mask[:, -1].mean())
    return float(area / ellipse_area), float(solidity), bool(max(sides) > 0.5)


def _margin(box):
    """Pixels of context around a box: a fifth of its larger side, at least 3."""
    return max(3, int(round(0.2 * max(box[2] - box[0], box[3] - box[1]))))


def _segment_one(micrograph, box, scores, other_boxes, signs, *, sigma, area_range,
                 min_solidity, split_touching):
    """Segment one box; return its mask (box-shaped) and its quality values."""
    top, left, bottom, right = box
    height, width = bottom - top, right - left
    ellipse = _inscribed_ellipse(height, width)
    foreground, origin, contrast = _foreground(micrograph, scores, signs, box)
    if foreground is None or not foreground.any():
        return ellipse, (np.nan, np.nan, False, contrast, True)
    y0, x0 = origin
    in_box = (slice(top - y0, bottom - y0), slice(left - x0, right - x0))
    # Closing bridges the gaps noise breaks into a membrane ring, so that
    # filling holes turns the ring into a disc; padding keeps the frame from
    # eroding the result.
    radius = max(1, round(sigma))
    foreground = ndi.binary_closing(np.pad(foreground, radius), disk(radius))
    foreground = ndi.binary_fill_holes(foreground[radius:-radius, radius:-radius])
    markers, distance = _markers(
        foreground, box, other_boxes if split_touching else [], origin, min(height, width)
    )
    if markers is None:
        # Nothing near the centre: an open membrane ring. Its pieces in the
        # box go to the convex-hull check below.
        components, _ = ndi.label(foreground)
        inside = components[in_box][ellipse]
        sizes = np.bincount(inside, minlength=components.max() + 1)
        sizes[0] = 0
        own = np.isin(components, np.flatnonzero(sizes >= 0.05 * ellipse.sum()))
    elif split_touching and markers.max() > 1:
        own = watershed(-distance, markers, mask=foreground) == 1
    else:
        components, _ = ndi.label(foreground)
        own = components == components[tuple(np.argwhere(markers == 1)[0])]
    mask = own[in_box]
    area_ratio, solidity, touches_edge = _measure(mask, height, width)
    if area_range[0] <= area_ratio <= area_range[1] and solidity >= min_solidity:
        return mask, (area_ratio, solidity, touches_edge, contrast, False)
    # A membrane ring left open (a faint stretch, a neighbour's ring cutting
    # it) does not fill, and a watershed may cut it up: the convex hull of
    # the foreground pieces in the box is the particle, if they span it.
    if contrast > _CHANNEL_FLOOR:
        components, _ = ndi.label(foreground[in_box])
        sizes = np.bincount(components[ellipse], minlength=components.max() + 1)
        sizes[0] = 0
        pieces = np.isin(components, np.flatnonzero(sizes >= 0.02 * ellipse.sum()))
        if pieces.any():
            rows, cols = np.nonzero(pieces)
            if (np.ptp(rows) + 1) / height >= 0.7 and (np.ptp(cols) + 1) / width >= 0.7:
                hull = convex_hull_image(pieces)
                hull_ratio, hull_solidity, hull_edge = _measure(hull, height, width)
                if area_range[0] <= hull_ratio <= area_range[1]:
                    return hull, (hull_ratio, hull_solidity, hull_edge, contrast, False)
    return ellipse, (area_ratio, solidity, touches_edge, contrast, True)


def _check_boxes(boxes, shape):
    boxes = np.asarray(boxes)
    if boxes.size == 0:
        return boxes.reshape(0, 4).astype(int)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "iu":
        raise ValueError(
            "boxes must be an integer array of shape (k, 4) with rows (top, left, bottom, "
            f"right) in pixels; got {boxes.dtype} of shape {boxes.shape}."
        )
    height, width = shape
    top, left, bottom, right = boxes.T
    bad = np.flatnonzero(
        (top < 0) | (left < 0) | (bottom > height) | (right > width) | (bottom <= top)
        | (right <= left)
    )
    if bad.size:
        raise ValueError(
            f"boxes[{bad[0]}] = {boxes[bad[0]].tolist()} is empty or reaches outside the "
            f"micrograph of {height}x{width} px."
        )
    return boxes


def _check_area_range(area_range):
    values = np.asarray(area_range, dtype=float)
    if values.shape != (2,) or not (0 <= values[0] < values[1]):
        raise ValueError(
            "area_range must be two fractions (low, high) of the inscribed ellipse's "
            f"area with 0 <= low < high; got {area_range!r}."
        )
    return tuple(values)


def _segment_micrograph(image, boxes, *, polarity, channel, sigma, area_range, min_solidity,
                        split_touching):
    """Segment every box of one micrograph (checked input); no warning."""
    micrograph = _Micrograph(image, channel)
    scores = [_channel_scores(micrograph, box, _margin(box), sigma) for box in boxes]
    signs = _polarities(scores, micrograph.planes.shape[2], polarity)
    masks, records = [], []
    for i, box in enumerate(boxes):
        others = np.delete(boxes, i, axis=0)
        if len(others):
            # Only boxes near this one can seed a neighbour in its region.
            reach = _margin(box)
            near = (
                (others[:, 0] < box[2] + reach) & (others[:, 2] > box[0] - reach)
                & (others[:, 1] < box[3] + reach) & (others[:, 3] > box[1] - reach)
            )
            others = others[near]
        mask, record = _segment_one(
            micrograph, box, scores[i], others, signs[i], sigma=sigma, area_range=area_range,
            min_solidity=min_solidity, split_touching=split_touching,
        )
        if record[-1]:
            # Faint particles: a second try with twice the smoothing, which
            # lifts them out of the noise at the cost of sharpness; accepted
            # only where the particle then clearly stands out, so that
            # smoothed noise in an empty box still falls back.
            retry = _channel_scores(micrograph, box, _margin(box), 2 * sigma or 1.0)
            mask_2, record_2 = _segment_one(
                micrograph, box, retry, others, signs[i], sigma=2 * sigma or 1.0,
                area_range=area_range, min_solidity=min_solidity,
                split_touching=split_touching,
            )
            if not record_2[-1] and record_2[3] > 2 * _CHANNEL_FLOOR:
                mask, record = mask_2, record_2
        masks.append(mask)
        records.append(record)
    polarity_vote = np.where(signs.sum(axis=0) > 0, 1.0, -1.0) if len(signs) else signs
    return masks, records, polarity_vote


def _quality_bunch(records):
    """The per-particle quality record as a Bunch of equal-length arrays."""
    columns = list(zip(*records)) if records else [[]] * len(QUALITY_FIELDS)
    dtypes = (float, float, bool, float, bool)
    return Bunch(
        **{
            name: np.asarray(column, dtype=dtype)
            for name, column, dtype in zip(QUALITY_FIELDS, columns, dtypes)
        }
    )


def _warn_fallbacks(fallback, where, stacklevel):
    """Warn when more than FALLBACK_WARN_RATE of the masks fell back."""
    fallback = np.asarray(fallback, dtype=bool)
    if fallback.size and fallback.mean() > FALLBACK_WARN_RATE:
        warnings.warn(
            f"Segmentation fell back to the inscribed ellipse for {int(fallback.sum())} "
            f"of {fallback.size} particles ({fallback.mean():.0%}) {where}. Check the "
            "masks (sklipo.datasets.MaskGridDisplay, or 'sklipo masks'), and try "
            "polarity='dark' or 'bright', channel=<index>, a larger sigma for noisy "
            "images, or a wider area_range.",
            UserWarning,
            stacklevel=stacklevel,
        )


@validate_params(
    {
        "image": ["array-like"],
        "boxes": ["array-like"],
        "polarity": [StrOptions({"auto", "dark", "bright"})],
        "channel": [Interval(Integral, None, None, closed="neither"), None],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "area_range": [tuple, list],
        "min_solidity": [Interval(Real, 0, 1, closed="both")],
        "split_touching": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def segment_boxes(
    image,
    boxes,
    *,
    polarity="auto",
    channel=None,
    sigma=1.0,
    area_range=(0.2, 1.2),
    min_solidity=0.8,
    split_touching=True,
):
    """Segment the particle inside each bounding box of one micrograph.

    Works for dark particles on a light background (TEM, cryo-EM) and for
    bright ones on a dark background (fluorescence), for particles seen as a
    membrane ring or as a filled disc, on one channel or several, and splits
    particles that touch. For each box:

    1. **Channels.** Each channel is smoothed with a Gaussian of `sigma`
       pixels and put on a common scale: the background level (median of
       the pixels around the box) is 0 and the noise (estimated over the
       whole micrograph) is 1. Channels are flipped so the particle is
       positive and averaged, each weighted by how far this particle stands
       out of the noise in it; a channel where it does not stand out
       (nor a constant one, such as the empty blue of a two-colour RGB file)
       gets no weight. `channel` uses one channel instead.
    2. **Polarity.** Whether particles are darker or brighter than the
       background is decided per channel by a vote over all boxes of the
       micrograph: inside each box's inscribed ellipse, the 90th percentile
       above the background (bright) is compared with the 10th below it
       (dark). Membrane rings decide like filled discs. `polarity`
       overrides the vote.
    3. **Threshold.** Foreground is where the combined plane exceeds half
       the particle's level (its 90th percentile inside the ellipse), so a
       blurred edge is cut at half height. A closing with a disc of radius
       `sigma` and hole filling turn a membrane ring into a disc.
    4. **Touching particles.** A distance-transform watershed separates
       this particle (seeded at the deepest point near the box centre) from
       neighbours, seeded at the centres of the other boxes and at distance
       peaks outside this box's ellipse (neighbours nobody boxed).
    5. **Checks.** The mask, kept inside the box, is accepted when its area
       lies within `area_range` of the inscribed ellipse's area and its
       solidity (area over convex-hull area) is at least `min_solidity`. A
       ring left open (no hole to fill) that spans the box is replaced by
       its convex hull. Otherwise, or when nothing stands out, the mask is
       the inscribed ellipse and ``fallback`` is True.

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, C)
        The micrograph, any integer or floating-point dtype.
    boxes : array-like of int, shape (k, 4)
        The boxes in pixels, rows ``top, left, bottom, right`` with the
        bottom and right edges exclusive, inside the micrograph.
    polarity : {"auto", "dark", "bright"}, default="auto"
        Whether particles are darker or brighter than the background;
        "auto" votes over the boxes, per channel.
    channel : int, default=None
        Segment on this channel only. None combines the channels.
    sigma : float, default=1.0
        Standard deviation in pixels of the smoothing, also the radius of
        the closing; raise it for noisy micrographs or large particles.
    area_range : tuple of float, default=(0.2, 1.2)
        Accepted mask area, as fractions of the inscribed ellipse's area. A
        segmentation spilling over the whole box has about 1.27.
    min_solidity : float, default=0.8
        Smallest accepted solidity; 0 turns the check off (for particles
        with concave outlines).
    split_touching : bool, default=True
        Whether to separate touching particles by watershed. False keeps
        the whole connected component at the box centre.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        masks : list of ndarray of bool
            One mask per box, of the box's shape.
        quality : :class:`~sklearn.utils.Bunch` of ndarray, shape (k,)
            Per particle: ``area_ratio`` (mask area over the inscribed
            ellipse's), ``solidity``, ``touches_edge`` (the mask covers more
            than half of a box side: the particle may extend beyond its
            box), ``contrast`` (how far the particle stands out of the
            noise, in noise units of the smoothed image) and ``fallback``.
            For a fallback, the measures are those of the rejected
            segmentation (NaN when there was none).
        polarity : ndarray of str, shape (n_channels,)
            ``"dark"`` or ``"bright"`` per channel used.

    Warns
    -----
    UserWarning
        When more than 10 % of the masks fell back to the inscribed ellipse.

    See Also
    --------
    load_annotated_micrographs : Cut out and segment particles from annotated
        micrograph files.
    MaskGridDisplay : Look at the masks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.datasets import segment_boxes
    >>> rows, cols = np.ogrid[:80, :120]
    >>> image = np.full((80, 120), 20.0)
    >>> image[(rows - 40) ** 2 + (cols - 40) ** 2 <= 15 ** 2] = 200  # bright disc
    >>> image[(rows - 40) ** 2 + (cols - 69) ** 2 <= 14 ** 2] = 200  # touching it
    >>> result = segment_boxes(image, [[25, 25, 55, 55], [26, 55, 54, 83]])
    >>> result.polarity.tolist(), result.quality.fallback.tolist()
    (['bright'], [False, False])
    >>> int(result.masks[0].sum()), int(result.masks[1].sum())
    (705, 609)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.dtype.kind not in "uif":
        raise ValueError(
            "image must be a 2-D micrograph, with channels last if any, of integer or "
            f"floating-point pixels; got {image.dtype} of shape {image.shape}."
        )
    boxes = _check_boxes(boxes, image.shape[:2])
    area_range = _check_area_range(area_range)
    masks, records, signs = _segment_micrograph(
        image, boxes, polarity=polarity, channel=channel, sigma=sigma,
        area_range=area_range, min_solidity=min_solidity, split_touching=split_touching,
    )
    quality = _quality_bunch(records)
    _warn_fallbacks(quality.fallback, "in this micrograph", stacklevel=4)
    return Bunch(
        masks=masks,
        quality=quality,
        polarity=np.where(signs > 0, "bright", "dark"),
    )
