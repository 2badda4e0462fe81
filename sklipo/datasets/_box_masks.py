"""Finding a particle's mask in its box: channel contrast, polarity, cut, watershed, checks."""

# License: BSD 3 clause

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.morphology import convex_hull_image, disk
from skimage.segmentation import watershed

from sklipo.datasets._ray_masks import MIN_EVIDENCE, _ray_masks

__all__ = []

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
    return smooth, (y0, x0), background, bright / spread, dark / spread, spread, outside


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
    smooth, origin, background, bright, dark = scores[:5]
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


def _particle_plane(micrograph, scores, signs):
    """The region around a box as one plane: particle positive, in background spreads.

    Channels are flipped so the particle is positive and scaled so that
    the particle's level in each (as the threshold measures it) is 1. As the
    threshold unites its cuts, the plane is the largest of the channels
    where the particle stands out (the best channel when it stands out in
    none): a membrane seen in one channel and a bright lumen in another make
    one particle whose outer edge is the membrane's. The plane is then put
    on the scale of its own background spread.
    """
    smooth, origin, background, bright, dark, spread, outside = scores
    strength = np.where(signs > 0, bright, dark)
    strength[micrograph.flat] = -np.inf
    used = strength > _CHANNEL_FLOOR
    if not used.any():
        used = strength == strength.max()
    level = np.abs(strength[used] * spread[used])
    level[~(level > 0)] = 1.0  # no particle level (nothing stands out): unscaled
    plane = ((smooth[..., used] - background[used]) * (signs[used] / level)).max(axis=2)
    around = plane[outside]
    scale = 1.4826 * np.median(np.abs(around - np.median(around)))
    return (plane - np.median(around)) / (scale if scale > 0 else 1.0), origin, outside


def _trace_fallbacks(micrograph, boxes, scores, signs, masks, records, *, area_range,
                     min_solidity):
    """Second method for the boxes the threshold failed on: trace the outline along rays.

    A faint membrane does not stand out of the noise pixel by pixel, but its
    edge does when pooled round the particle. Outlines that follow a clear
    edge at (nearly) every angle and pass the area and solidity checks
    replace the fallback masks and records in place.
    """
    failed = [i for i, record in enumerate(records) if record[-1] == "fallback"]
    planes = [(*_particle_plane(micrograph, scores[i], signs[i]), boxes[i]) for i in failed]
    traced, evidence, closed = _ray_masks(planes)
    for i, mask, strength, whole in zip(failed, traced, evidence, closed):
        top, left, bottom, right = boxes[i]
        area_ratio, solidity, touches_edge = _measure(mask, bottom - top, right - left)
        if (
            whole
            and strength >= MIN_EVIDENCE
            and area_range[0] <= area_ratio <= area_range[1]
            and solidity >= min_solidity
        ):
            masks[i] = mask
            records[i] = (area_ratio, solidity, touches_edge, records[i][3], False, "rays")


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
        records.append((*record, "fallback" if record[-1] else "threshold"))
    _trace_fallbacks(micrograph, boxes, scores, signs, masks, records,
                     area_range=area_range, min_solidity=min_solidity)
    polarity_vote = np.where(signs.sum(axis=0) > 0, 1.0, -1.0) if len(signs) else signs
    return masks, records, polarity_vote
