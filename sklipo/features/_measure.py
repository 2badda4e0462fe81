"""Quantities of one particle that several handcrafted features share.

Features of one particle reuse the same intermediate results: the mask's
bounding box, its centroid, the signed distance of every pixel to the mask's
outline, and the intensities standardised against the background. A
:class:`_ParticleMeasure` computes each of them once, on first use (the way
scikit-image's ``RegionProperties`` caches its properties), and only on the
window of the image that the features look at, not on the whole cut-out.
"""

# License: BSD 3 clause

from functools import cached_property

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial.distance import pdist

from sklipo.utils import bounding_box

__all__ = [
    "MIN_EDGE_SPAN_PX",
    "RADIAL_EXTENT",
    "SNR_HALF_WIDTH",
    "edge_range",
    "edge_reach",
    "standardize_intensity",
]

#: The radial profile covers distances from the centroid up to this multiple of
#: the particle's equivalent radius, so it includes the membrane and a margin
#: of surrounding.
RADIAL_EXTENT = 1.5

#: The signal-to-noise ratio is measured on one-pixel rings of signed distance
#: from this many pixels outside the outline to this many inside.
SNR_HALF_WIDTH = 3

#: Fewest pixels the edge profile spans: a range narrower than this at a
#: particle's pixel size (coarse pixels, e.g. fluorescence at 100 nm) is
#: widened about the outline in proportion until it spans this many.
MIN_EDGE_SPAN_PX = 8


def standardize_intensity(image, mask):
    """Standardise intensities against the particle's background.

    Each channel is shifted by the mean and divided by the standard deviation
    of the pixels outside the mask (the background), so intensities of 8-bit,
    16-bit and floating-point images, and of micrographs of different contrast,
    are on one scale: 0 is the background level and 1 one standard deviation
    of background noise. This is what makes fixed histogram ranges and profile
    values comparable across particles.

    Where the mask covers the whole image, all pixels serve as reference.
    Where the reference is constant, the standard deviation of the whole image
    is used instead, and where the whole image is constant the scale is 1 (all
    intensities become 0).

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W), dtype=bool
        True on the particle.

    Returns
    -------
    standardized : ndarray of shape (H, W) or (H, W, C), dtype=float64
        The standardised intensities.
    """
    image = np.asarray(image)
    mask = _check_mask(image, mask)
    centre, scale = _reference(image.reshape(*mask.shape, -1), mask)
    standardized = (image.reshape(*mask.shape, -1) - centre) / scale
    return standardized.reshape(image.shape)


def _check_mask(image, mask, where="the particle"):
    """Validate one image/mask pair for the feature functions; return the mask."""
    mask = np.asarray(mask, dtype=bool)
    if image.ndim not in (2, 3):
        raise ValueError(
            f"The image of {where} must be (H, W) or (H, W, C); got shape {image.shape}."
        )
    if mask.shape != image.shape[:2]:
        raise ValueError(
            f"The mask of {where} has shape {mask.shape}; it must match the image's "
            f"height and width {image.shape[:2]}."
        )
    if not mask.any():
        raise ValueError(
            f"The mask of {where} is empty, so it has no features. Drop the "
            "particle or fix its mask (cropping can cut a mask away)."
        )
    return mask


def _reference(image, mask):
    """Return per-channel centre and scale of the background, shape (C,) each."""
    # np.compress of the flat pixels picks the same values as image[~mask],
    # several times faster than boolean indexing of an (H, W, C) array
    pixels = image.reshape(-1, image.shape[-1])
    reference = np.compress(~mask.ravel(), pixels, axis=0) if not mask.all() else pixels
    reference = reference.astype(np.float64, copy=False)
    centre = reference.mean(axis=0)
    scale = reference.std(axis=0)
    flat = scale == 0
    if flat.any():
        whole = image.reshape(-1, image.shape[-1]).astype(np.float64, copy=False)
        scale[flat] = whole[:, flat].std(axis=0)
        scale[scale == 0] = 1.0
    return centre, scale


def _envelope(rows, cols, side):
    """Positions of the vertices of one side of a row-ordered chain's hull.

    `rows` increase strictly and `cols` hold one point per row. With ``side``
    -1 this returns the vertices of the largest convex function of the row
    below all points (the hull seen from the left), with +1 those of the
    smallest concave one above them (seen from the right). Each pass drops, all
    at once, every point that lies on or behind the chord of its two current
    neighbours: none of them is a vertex, and dropping a point that is not a
    vertex leaves the envelope as it was. The passes are vectorised, where a
    monotone-chain scan loops in Python over every point; all arithmetic is on
    integers, so the vertices are exact.
    """
    keep = np.arange(len(rows))
    while len(keep) >= 3:
        r, c = rows[keep], cols[keep]
        # The sign of (col of the middle point - its chord) times the row span.
        offset = (c[1:-1] - c[:-2]) * (r[2:] - r[:-2]) - (c[2:] - c[:-2]) * (r[1:-1] - r[:-2])
        behind = side * offset <= 0
        if not behind.any():
            break
        keep = np.concatenate([keep[:1], keep[1:-1][~behind], keep[-1:]])
    return keep


# The weights of perimeter_crofton(..., directions=4) for each 2x2 code.
_CROFTON_COEFS = np.array(
    [
        0,
        np.pi / 4 * (1 + 1 / (np.sqrt(2))),
        np.pi / (4 * np.sqrt(2)),
        np.pi / (2 * np.sqrt(2)),
        0,
        np.pi / 4 * (1 + 1 / (np.sqrt(2))),
        0,
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        np.pi / (4 * np.sqrt(2)),
        np.pi / (4 * np.sqrt(2)),
        np.pi / 4,
        np.pi / 2,
        0,
        0,
    ]
)


def _raw_to_central(m):
    """2-D central moments up to order 3 from raw ones (scikit-image's formulae)."""
    mu = np.zeros_like(m)
    cx = m[1, 0] / m[0, 0]
    cy = m[0, 1] / m[0, 0]
    mu[0, 0] = m[0, 0]
    mu[1, 1] = m[1, 1] - cx * m[0, 1]
    mu[2, 0] = m[2, 0] - cx * m[1, 0]
    mu[0, 2] = m[0, 2] - cy * m[0, 1]
    mu[2, 1] = m[2, 1] - 2 * cx * m[1, 1] - cy * m[2, 0] + cx**2 * m[0, 1] + cy * cx * m[1, 0]
    mu[1, 2] = m[1, 2] - 2 * cy * m[1, 1] - cx * m[0, 2] + 2 * cy * cx * m[0, 1]
    mu[3, 0] = m[3, 0] - 3 * cx * m[2, 0] + 2 * cx**2 * m[1, 0]
    mu[0, 3] = m[0, 3] - 3 * cy * m[0, 2] + 2 * cy**2 * m[0, 1]
    return mu


def edge_range(distance_range, pixel_size):
    """The edge profile's range in nm at `pixel_size`: `distance_range`, or wider.

    A range spanning fewer than :data:`MIN_EDGE_SPAN_PX` pixels is scaled
    about the outline (0) until it spans that many, keeping the ratio of its
    outer and inner parts; at TEM pixel sizes the default range is kept.
    """
    low, high = distance_range
    scale = max(1.0, MIN_EDGE_SPAN_PX * pixel_size / (high - low))
    return low * scale, high * scale


def edge_reach(distance_range, pixel_size):
    """Pixels outside the outline that the edge profile reads at `pixel_size`."""
    return max(0.0, -edge_range(distance_range, pixel_size)[0] / pixel_size)


class _ParticleMeasure:
    """Shared, lazily computed quantities of one particle.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W), dtype=bool
        True on the particle; must not be empty.
    pixel_size : float, default=nan
        Nanometres per pixel.
    reach_px : float, default=0
        How far outside the outline (in pixels) the distance-based features
        look; the window they work on includes it.
    where : str, default="the particle"
        How error messages name the particle.
    """

    def __init__(self, image, mask, pixel_size=np.nan, reach_px=0.0, where="the particle"):
        image = np.asarray(image)
        self.mask = _check_mask(image, mask, where)
        self.image = image.reshape(*self.mask.shape, -1)
        self.pixel_size = pixel_size
        self.reach_px = reach_px

    @cached_property
    def bbox(self):
        """(rows, cols) slices of the mask's bounding box."""
        return bounding_box(self.mask)

    @cached_property
    def shape_mask(self):
        """The mask cut to its bounding box and padded by one background pixel.

        The padding makes the image edge count as outline where a particle
        touches it, for perimeter and contours.
        """
        return np.pad(self.mask[self.bbox], 1)

    @cached_property
    def area_px(self):
        return int(np.count_nonzero(self.shape_mask))

    @cached_property
    def moments(self):
        """Central moments of the mask up to order 3, as ``moments_central``.

        The raw moments up to order 3 are sums of integers below 2**53, exact in
        any summation order, so two small matrix products give the same values
        as scikit-image's einsum; the conversion to central moments is that of
        ``skimage.measure.moments_raw_to_central``, term for term.
        """
        mask = self.shape_mask
        powers = np.arange(4, dtype=np.float64)
        rows = np.arange(mask.shape[0], dtype=np.float64)[:, np.newaxis] ** powers
        cols = np.arange(mask.shape[1], dtype=np.float64)[:, np.newaxis] ** powers
        return _raw_to_central(rows.T @ (mask.astype(np.float64) @ cols))

    @cached_property
    def perimeter(self):
        """Crofton perimeter (4 directions) of the mask, as ``perimeter_crofton``.

        Counts the same 2x2 configurations as scikit-image's convolution, by
        slicing the padded mask, and weighs them with the same coefficients.
        """
        mask = self.shape_mask.view(np.uint8)
        codes = mask[1:, 1:] + 4 * mask[1:, :-1] + 2 * mask[:-1, 1:] + 8 * mask[:-1, :-1]
        counts = np.bincount(codes.ravel(), minlength=16)
        # perimeter_crofton pads once more: all pixels it adds have code 0
        counts[0] = (mask.shape[0] + 2) * (mask.shape[1] + 2) - counts[1:].sum()
        return _CROFTON_COEFS @ counts

    @cached_property
    def feret_diameter(self):
        """Largest distance (px) between two points of the mask's outline.

        The outline is the one that ``skimage.measure.find_contours(mask, 0.5)``
        traces, through the midpoints between particle and background pixels;
        the vertices of its convex hull are the edge midpoints of the leftmost
        and rightmost particle pixel of each row, so those are all that is
        searched. scikit-image's ``regionprops(...).feret_diameter_max`` traces
        the convex-hull *image* instead, which is up to a pixel larger and
        several times slower.
        """
        mask = self.shape_mask
        rows = np.flatnonzero(mask.any(axis=1))
        left = mask[rows].argmax(axis=1)
        right = mask.shape[1] - 1 - mask[rows, ::-1].argmax(axis=1)
        # Every vertex of the hull of the pixel centres is a vertex of the hull
        # of the leftmost centres seen from the left, or of the rightmost ones
        # seen from the right; searching those finds the same largest distance
        # as searching the hull's vertices alone.
        left_keep, right_keep = _envelope(rows, left, -1), _envelope(rows, right, 1)
        centres = np.concatenate(
            [
                np.column_stack([rows[left_keep], left[left_keep]]),
                np.column_stack([rows[right_keep], right[right_keep]]),
            ]
        ).astype(np.float64)
        # The outline's hull is hull(centres) + the four half-pixel offsets (a
        # Minkowski sum), so hulling the centres first searches far fewer points.
        offsets = np.array([[-0.5, 0.0], [0.5, 0.0], [0.0, -0.5], [0.0, 0.5]])
        points = (centres[:, np.newaxis, :] + offsets).reshape(-1, 2)
        return float(np.sqrt(pdist(points, "sqeuclidean").max()))

    @cached_property
    def centroid(self):
        """(row, col) of the mask's centre of mass in image coordinates."""
        rows, cols = np.nonzero(self.shape_mask)
        box_rows, box_cols = self.bbox
        return box_rows.start - 1 + rows.mean(), box_cols.start - 1 + cols.mean()

    @cached_property
    def equivalent_radius(self):
        """Radius in pixels of the disc with the particle's area."""
        return np.sqrt(self.area_px / np.pi)

    @cached_property
    def window(self):
        """Slices of the image that the distance-based features need."""
        height, width = self.mask.shape
        rows, cols = self.bbox
        reach = int(np.ceil(max(self.reach_px, SNR_HALF_WIDTH))) + 1
        radius = RADIAL_EXTENT * self.equivalent_radius + 1
        cy, cx = self.centroid
        top = max(0, min(rows.start - reach, int(np.floor(cy - radius))))
        bottom = min(height, max(rows.stop + reach, int(np.ceil(cy + radius)) + 1))
        left = max(0, min(cols.start - reach, int(np.floor(cx - radius))))
        right = min(width, max(cols.stop + reach, int(np.ceil(cx + radius)) + 1))
        return slice(top, bottom), slice(left, right)

    @cached_property
    def inner_distance(self):
        """Distance (px) of each bounding-box pixel to the nearest pixel off the particle.

        Pixels beyond the image edge count as off the particle. The nearest
        such pixel always lies within the bounding box padded by one pixel, so
        the transform runs on that box alone, not on the whole window.
        """
        return ndi.distance_transform_edt(self.shape_mask)[1:-1, 1:-1]

    @cached_property
    def signed_distance(self):
        """Signed distance (px) of each window pixel to the outline.

        Positive inside the particle, negative outside and 0 on the outline,
        which runs half a pixel outside the outermost particle pixels. The
        distance-based features look no further than `reach_px` (and
        ``SNR_HALF_WIDTH``) outside; pixels further than that from the
        bounding box hold ``-(margin + 0.5)``, a bound of their true distance,
        where ``margin`` exceeds both, so the transform outside the particle
        runs on the bounding box plus that margin only. Its values there are
        those of the whole window: the nearest particle pixel lies in the box.
        """
        (top, bottom), (left, right) = ((s.start, s.stop) for s in self.window)
        rows, cols = self.bbox
        margin = int(np.ceil(max(self.reach_px, SNR_HALF_WIDTH))) + 1
        crop = (
            slice(max(top, rows.start - margin), min(bottom, rows.stop + margin)),
            slice(max(left, cols.start - margin), min(right, cols.stop + margin)),
        )
        mask = self.mask[crop]
        inner = np.zeros(mask.shape)
        inner[rows.start - crop[0].start : rows.stop - crop[0].start,
              cols.start - crop[1].start : cols.stop - crop[1].start] = self.inner_distance
        outer = ndi.distance_transform_edt(~mask)
        signed = np.full((bottom - top, right - left), -(margin + 0.5))
        signed[crop[0].start - top : crop[0].stop - top, crop[1].start - left : crop[1].stop - left] = (
            np.where(mask, inner - 0.5, 0.5 - outer)
        )
        return signed

    @cached_property
    def standardized(self):
        """Window intensities standardised against the background, (h, w, C)."""
        centre, scale = _reference(self.image, self.mask)
        return (self.image[self.window] - centre) / scale

    @cached_property
    def inside_values(self):
        """Standardised intensities of the particle's pixels, (n_pixels, C)."""
        standardized = self.standardized
        inside = self.mask[self.window].ravel()
        return np.compress(inside, standardized.reshape(inside.size, -1), axis=0)


def _binned_means(index, values, n_bins):
    """Mean of ``values`` (N, C) in each of ``n_bins`` bins, shape (C, n_bins).

    ``index`` holds each value's bin, or ``n_bins`` to leave it out (those
    values go to one extra bin that is dropped, which sums each bin in the
    same order as selecting the kept values first). Bins that no value falls
    into are filled by linear interpolation between their nearest filled
    neighbours (constant beyond the first and last); None is returned when no
    bin is filled.
    """
    counts = np.bincount(index, minlength=n_bins + 1)[:n_bins]
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        return None
    n_channels = values.shape[1]
    if n_channels == 1:
        sums = np.bincount(index, weights=values[:, 0], minlength=n_bins + 1)[np.newaxis]
    else:
        # One bincount for all channels: channel c uses bins c*(n_bins+1) ...
        offsets = np.arange(n_channels) * (n_bins + 1)
        sums = np.bincount(
            (index[:, np.newaxis] + offsets).ravel(),
            weights=values.ravel(),
            minlength=n_channels * (n_bins + 1),
        ).reshape(n_channels, n_bins + 1)
    if filled.size == n_bins:
        return sums[:, :n_bins] / counts
    means = np.empty((n_channels, n_bins))
    bins = np.arange(n_bins)
    for channel in range(n_channels):
        means[channel] = np.interp(bins, filled, sums[channel, filled] / counts[filled])
    return means
