"""Ring-shaped particles: a ring-matched filter and a trace of each ring's membrane.

Thresholding misses a membrane ring that is faint everywhere (no pixel
stands out by the threshold) and merges rings that touch a neighbour into
one region that fails the shape checks. Averaging along a circle gathers the
contrast of a whole membrane, so a ring stands out of the noise far more
than any of its pixels, and each ring keeps its own centre when it touches
others.
"""

# License: BSD 3 clause

import numpy as np
import scipy.fft
from scipy import ndimage as ndi

from sklipo.utils import box_intersections

__all__ = []

# Contrast is clipped here (noise units) before averaging along circles, so
# a circle's mean tells how much of it runs along a membrane, not how dark
# one crossing membrane is.
_CAP = 3.0
# Ratio between successive radii of the filter bank: each ring template is
# 2 px wide, so a ring between two radii still falls on one.
_RADIUS_STEP = 1.12
# The filter runs on block means of about this many pixels per radius (a
# power of two, at least one): a ring of any size is searched with about the
# same number of pixels around it, so the cost hardly grows with the
# particles' size.
_PIXELS_PER_BLOCK_RADIUS = 5
# A circle whose clipped mean reaches this share of `_CAP` is traced.
_PROPOSAL_SHARE = 0.27
# Angles at which a ring is traced, and how far on either side of its
# radius its membrane is looked for (share of the radius, at least 2 px):
# elliptical and wobbly rings stray from the circle.
_N_ANGLES = 48
_RADIAL_SPAN = 0.15
# Share of the angles at which the membrane must stand out: a ring may fade
# along a short stretch.
_MIN_COVERAGE = 0.8
# Where a ring's lumen is sampled (shares of its traced radius), and how
# contrasted it may be there on average (share of its membrane's contrast).
_LUMEN = np.array([0.3, 0.6])
_HOLLOW = 0.5
# Largest IoU between two rings that replace the region they lie in.
_SIDE_BY_SIDE = 0.15
# A ring is new when fewer than this share of its membrane lies inside
# particles found by thresholding.
_NEW_SHARE = 0.3


def _box_overlaps(a, b):
    """IoU of every pair of boxes, and the share of each box of `b` inside each of `a`."""
    inter, area_a, area_b = box_intersections(a, b)
    iou = inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)
    return iou, inter / np.maximum(area_b[None, :], 1e-9)


def _propose(aligned, radius_range):
    """Centres and radii of circles that run along membranes: rows ``cy, cx, r``.

    The clipped contrast is correlated (by FFT) with a bank of thin circle
    templates; a circle is proposed at each local maximum, over position,
    of the best response over radii. Radii of ``r`` px are searched on
    blocks of ``r / 5`` px, rounded down to a power of two.
    """
    low, high = radius_range
    low = max(low, 3.0)
    n = int(np.ceil(np.log(max(high, low) / low) / np.log(_RADIUS_STEP))) + 1
    radii = low * _RADIUS_STEP ** np.arange(n)
    blocks = 2 ** np.floor(np.log2(np.maximum(1.0, radii / _PIXELS_PER_BLOCK_RADIUS))).astype(int)
    clipped = np.clip(aligned, -_CAP, _CAP).astype(np.float32)
    height, width = clipped.shape
    found = []
    for block in np.unique(blocks):
        rows, cols = height // block, width // block
        if min(rows, cols) < 3:
            continue
        small = clipped[: rows * block, : cols * block].reshape(rows, block, cols, block)
        small = small.mean(axis=(1, 3))
        spectrum = scipy.fft.rfft2(small)
        dy = np.fft.fftfreq(rows, 1.0 / rows)[:, None]
        dx = np.fft.fftfreq(cols, 1.0 / cols)[None, :]
        distance = np.hypot(dy, dx).astype(np.float32)
        best = np.full((rows, cols), -np.inf, dtype=np.float32)
        best_radius = np.zeros((rows, cols), dtype=np.float32)
        for radius in radii[blocks == block]:
            template = (np.abs(distance - radius / block) <= 1.0).astype(np.float32)
            if not template.any():  # a circle larger than the micrograph
                continue
            template /= template.sum()
            # Correlation: the template is symmetric, so a product of spectra.
            response = scipy.fft.irfft2(spectrum * scipy.fft.rfft2(template), s=(rows, cols))
            best_radius = np.where(response > best, np.float32(radius), best_radius)
            best = np.maximum(best, response)
        size = max(3, int(radii[blocks == block][0] / block) | 1)
        # A ring's lumen is fainter than its membrane; a filled disc's is not.
        lumen = ndi.uniform_filter(small, size=max(3, size // 2 | 1), mode="nearest")
        peaks = (
            (best == ndi.maximum_filter(best, size=size, mode="nearest"))
            & (best >= _PROPOSAL_SHARE * _CAP)
            & (lumen <= _HOLLOW * best)
        )
        py, px = np.nonzero(peaks)
        found.append(np.c_[(py + 0.5) * block - 0.5, (px + 0.5) * block - 0.5,
                           best_radius[py, px]])
    return np.concatenate(found) if found else np.zeros((0, 3))


def _sample(aligned, circles, n_angles, n_radii):
    """The most contrasted point near each circle at each angle, and its contrast.

    Returns the contrast, shape (n, n_angles), and the points, shape
    (n, 2, n_angles) (rows, then columns).
    """
    angle = np.linspace(0.0, 2 * np.pi, n_angles, endpoint=False)
    radius = circles[:, 2, None, None]
    span = np.maximum(2.0, _RADIAL_SPAN * radius)
    radii = radius + span * np.linspace(-1.0, 1.0, n_radii)[None, :, None]
    rows = circles[:, 0, None, None] + radii * np.sin(angle)
    cols = circles[:, 1, None, None] + radii * np.cos(angle)
    values = ndi.map_coordinates(aligned, [rows.ravel(), cols.ravel()], order=1,
                                 mode="nearest").reshape(rows.shape)
    peak = values.argmax(axis=1)[:, None, :]
    contrast = np.take_along_axis(values, peak, axis=1)[:, 0]
    points = np.stack([np.take_along_axis(rows, peak, axis=1)[:, 0],
                       np.take_along_axis(cols, peak, axis=1)[:, 0]], axis=1)
    return contrast, points


def _trace(aligned, circles, level, pad):
    """Trace each proposed circle's membrane around its centre.

    At each of `_N_ANGLES` angles the membrane is the most contrasted point
    within the radial span; a ring is kept when it stands out by `level` at
    `_MIN_COVERAGE` of the angles and its lumen is fainter than its
    membrane. A coarse trace (a quarter of the angles) first drops most
    proposals cheaply. A ring's box holds its traced membrane plus `pad`
    pixels.

    Returns
    -------
    boxes : ndarray of shape (k, 4)
    scores : ndarray of shape (k,)
        The mean contrast along the traced membrane, in noise units.
    points : ndarray of shape (k, 2, _N_ANGLES)
        The traced membrane, rows and columns.
    """
    coarse, _ = _sample(aligned, circles, _N_ANGLES // 4, 5)
    circles = circles[(coarse >= level).mean(axis=1) >= _MIN_COVERAGE - 0.1]
    contrast, points = _sample(aligned, circles, _N_ANGLES, 9)
    # A ring is hollow: inside, at a share of its traced radius, it is
    # fainter than along its membrane (a filled disc holds circles of every
    # smaller radius, as contrasted as their rim).
    centre = circles[:, :2, None, None]
    inner = centre + np.multiply.outer(points - centre[..., 0], _LUMEN)
    lumen = ndi.map_coordinates(aligned, np.moveaxis(inner, 1, 0), order=1, mode="nearest")
    ridge = contrast.mean(axis=1)
    # Coverage counts the angles where the membrane, averaged with its
    # neighbours on either side (a stretch of 22 degrees), stands out.
    along = ndi.uniform_filter1d(contrast, 3, axis=1, mode="wrap")
    keep = ((along >= level).mean(axis=1) >= _MIN_COVERAGE) & (
        lumen.mean(axis=(1, 2)) <= _HOLLOW * ridge
    )
    points = points[keep]
    boxes = np.c_[points[:, 0].min(axis=1) - pad, points[:, 1].min(axis=1) - pad,
                  points[:, 0].max(axis=1) + pad + 1, points[:, 1].max(axis=1) + pad + 1]
    return boxes, ridge[keep], points


def _suppress(boxes, scores):
    """Indices of the rings kept by non-maximum suppression, best first.

    A ring is dropped when its box overlaps a better ring's by IoU over 0.3,
    or when one box lies mostly inside the other about the same centre (a
    multilamellar vesicle's inner membranes).
    """
    order = np.argsort(-scores, kind="stable")
    boxes = boxes[order]
    iou, inside = _box_overlaps(boxes, boxes)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.sqrt(np.prod(boxes[:, 2:] - boxes[:, :2], axis=1))
    gap = np.hypot(*(centre[:, None] - centre[None]).T)
    concentric = gap < 0.15 * np.maximum(size[:, None], size[None])
    clash = (iou > 0.3) | (concentric & ((inside > 0.7) | (inside.T > 0.7)))
    kept = []
    for i in range(len(order)):
        if not clash[kept, i].any():
            kept.append(i)
    return order[kept]


def find_rings(aligned, labels, kept, kept_boxes, *, size_range, sigma, threshold):
    """Ring-shaped particles that thresholding missed or merged.

    Each ring is compared with the regions kept by thresholding that lie
    under its membrane:

    - a region whose box matches the ring's (IoU of 0.5 or more) already
      found it: the ring is dropped;
    - a ring with less than `_NEW_SHARE` of its membrane on kept regions
      is a new particle (else it is a circle through neighbours'
      membranes, and dropped);
    - a region holding the membranes of two rings or more, matching none,
      is touching rings taken for one: the rings replace it, when they lie
      side by side (box IoU of at most `_SIDE_BY_SIDE` between any two).

    Parameters
    ----------
    aligned : ndarray of shape (H, W)
        Contrast in noise units, particles positive.
    labels : ndarray of int, shape (H, W)
        The regions found by thresholding.
    kept : ndarray of int, shape (n,)
        The labels of those regions kept as particles.
    kept_boxes : ndarray of shape (n, 4)
        Their boxes.
    size_range : tuple of float
        Smallest and largest particle diameter, px.
    sigma : float
        The smoothing of `aligned`, px.
    threshold : float
        A ring's membrane must stand out by half of it.

    Returns
    -------
    boxes : ndarray of shape (k, 4)
        The rings' boxes, rows ``top, left, bottom, right``.
    scores : ndarray of shape (k,)
        Their mean membrane contrast.
    diameters : ndarray of shape (k,)
        The diameters of their traced membranes (the geometric mean of
        their extents up and across), px.
    merged : ndarray of bool, shape (n,)
        Which kept regions the rings replace.
    """
    empty = np.zeros((0, 4)), np.zeros(0), np.zeros(0), np.zeros(len(kept), dtype=bool)
    # Contrast above the micrograph's typical level: the maximum over
    # several channels raises the background above 0.
    step = max(1, min(aligned.shape) // 256)
    aligned = aligned - np.median(aligned[::step, ::step])
    circles = _propose(aligned, (size_range[0] / 2, size_range[1] / 2))
    if len(circles) == 0:
        return empty
    boxes, scores, points = _trace(aligned, circles, 0.5 * threshold, pad=sigma + 1.0)
    if len(boxes) == 0:
        return empty
    order = _suppress(boxes, scores)
    boxes, scores, points = boxes[order], scores[order], points[order]
    height, width = labels.shape
    rows = np.clip(np.rint(points[:, 0]).astype(int), 0, height - 1)
    cols = np.clip(np.rint(points[:, 1]).astype(int), 0, width - 1)
    # The share of each ring's membrane (row) on each kept region (column).
    column = np.zeros(int(labels.max()) + 1, dtype=int)
    column[kept] = np.arange(1, len(kept) + 1)
    under = column[labels[rows, cols]]
    share = np.zeros((len(boxes), len(kept) + 1))
    np.add.at(share, (np.arange(len(boxes))[:, None], under), 1.0 / under.shape[1])
    share = share[:, 1:]
    kept_boxes = np.asarray(kept_boxes, dtype=float).reshape(-1, 4)
    iou, _ = _box_overlaps(boxes, kept_boxes)
    new = ~((share > 0) & (iou >= 0.5)).any(axis=1) & (share.sum(axis=1) < _NEW_SHARE)
    held = share >= 1 - _NEW_SHARE
    merged = (held.sum(axis=0) >= 2) & ~(held & (iou >= 0.5)).any(axis=0)
    # Touching rings lie side by side; circles inside one filled region
    # that overlap one another are parts of one particle.
    between, _ = _box_overlaps(boxes, boxes)
    np.fill_diagonal(between, 0.0)
    for k in np.flatnonzero(merged):
        mine = held[:, k]
        merged[k] = between[np.ix_(mine, mine)].max() <= _SIDE_BY_SIDE
    new |= held[:, merged].any(axis=1)
    extent = points.max(axis=2) - points.min(axis=2)
    return boxes[new], scores[new], np.sqrt(np.prod(extent[new], axis=1)), merged


def centre_ratios(aligned, boxes):
    """How filled each boxed particle is: its centre's contrast over its rim's.

    The centre is the middle third of the box (each way), averaged; the rim
    is the box's 95th percentile of contrast. A membrane ring scores about
    0, a filled disc or blob about 1. NaN where the box holds no positive
    contrast or is under 3 px.
    """
    height, width = aligned.shape
    ratios = np.full(len(boxes), np.nan)
    for k, (top, left, bottom, right) in enumerate(np.rint(boxes).astype(int)):
        crop = aligned[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
        rows, cols = crop.shape
        if min(rows, cols) < 3:
            continue
        rim = np.percentile(crop, 95)
        centre = crop[rows // 3 : rows - rows // 3, cols // 3 : cols - cols // 3]
        if rim > 0:
            ratios[k] = centre.mean() / rim
    return ratios
