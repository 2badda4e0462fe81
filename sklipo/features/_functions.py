"""Handcrafted particle features, each a plain function of one image and its mask.

The features are those of the SVM that the study's lab used (study §3, §4.1).
Shape features take the mask (and the pixel size where they are in
nanometres); intensity features take the image and the mask and work on
intensities standardised against the background
(:func:`~sklipo.features.standardize_intensity`). Intensity features of a
multichannel ``(H, W, C)`` image return one value (or profile) per channel.

:class:`~sklipo.features.ParticleFeatures` computes the same values for a whole
particle set; the user guide (``docs/guide/features.rst``) describes each
feature, its unit and what the study used it for.
"""

# License: BSD 3 clause

import numpy as np

from sklipo.features._measure import (
    RADIAL_EXTENT,
    SNR_HALF_WIDTH,
    _binned_means,
    _ParticleMeasure,
    edge_range,
    edge_reach,
)
from sklipo.utils import check_range

__all__ = [
    "area",
    "central_moments",
    "circularity",
    "diameter",
    "edge_profile",
    "intensity_histogram",
    "length",
    "max_width",
    "normalized_moments",
    "radial_profile",
    "segmentation_variance",
    "signal_to_noise",
]

#: Number of bins of the intensity histogram (as in the study).
N_HISTOGRAM_BINS = 32

#: Default histogram range, in background standard deviations.
HISTOGRAM_RANGE = (-4.0, 4.0)

#: Default edge-profile range, in nm from the outline (negative outside).
EDGE_RANGE_NM = (-10.0, 30.0)

#: Default number of bins of the radial and edge profiles.
N_PROFILE_BINS = 16

#: Floor of the along-membrane variance in the signal-to-noise ratio, in
#: squared background standard deviations, so noise-free images give a large
#: finite ratio rather than infinity.
SNR_NOISE_FLOOR = 1e-6

# The moments the study names (Hu's mu_pq), as (p, q) indices of
# skimage.measure.moments_central: p is the power along rows (axis 0).
_MOMENT_ORDERS = ((2, 0), (0, 2), (3, 0), (0, 3))


def _check_pixel_size(pixel_size, feature):
    pixel_size = float(pixel_size)
    if not (np.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(
            f"The {feature} is measured in nanometres and needs a positive pixel "
            f"size (nm per pixel); got {pixel_size!r}."
        )
    return pixel_size


def _per_channel(values, image):
    """Drop the channel axis of a result for a grayscale image."""
    return values[0] if np.ndim(image) == 2 else values


# Private computations on a _ParticleMeasure, shared by the public functions and
# ParticleFeatures. Each returns a 1-D array; per-channel results are
# flattened channel by channel.


def _area(m):
    return np.array([m.area_px * m.pixel_size**2])


def _circularity(m):
    perimeter = m.perimeter
    # Digital perimeters undershoot on particles a few pixels across; a
    # circularity above 1 (or a zero perimeter) means "as round as it gets".
    if perimeter == 0:
        return np.ones(1)
    return np.array([min(1.0, 4 * np.pi * m.area_px / perimeter**2)])


def _central_moments(m):
    return np.array([m.moments[p, q] for p, q in _MOMENT_ORDERS])


def _normalized_moments(m):
    # moments_normalized's formula, on the four moments used alone
    mu = m.moments
    return np.array([(mu[p, q] / 1.0) / (mu[0, 0] ** ((p + q) / 2 + 1)) for p, q in _MOMENT_ORDERS])


def _diameter(m):
    return np.array([m.feret_diameter])


def _length(m):
    return _diameter(m) * m.pixel_size


def _max_width(m):
    return np.array([2 * m.inner_distance.max() * m.pixel_size])


def _edge_profile(m, n_bins, distance_range):
    low, high = edge_range(distance_range, m.pixel_size)
    distance = m.signed_distance * m.pixel_size
    index = np.floor((distance - low) * (n_bins / (high - low))).astype(np.intp)
    index[(index < 0) | (index >= n_bins)] = n_bins
    means = _binned_means(index.ravel(), m.standardized.reshape(index.size, -1), n_bins)
    if means is None:
        raise ValueError(
            f"No pixel of the particle lies within edge_range_nm={(low, high)} of "
            f"its outline at a pixel size of {m.pixel_size} nm; widen the range."
        )
    return means.ravel()


def _radial_profile(m, n_bins):
    rows, cols = np.ogrid[m.window[0], m.window[1]]
    cy, cx = m.centroid
    distance = np.hypot(rows - cy, cols - cx)
    ring_width = RADIAL_EXTENT * m.equivalent_radius / n_bins
    index = (distance / ring_width).astype(np.intp)
    np.minimum(index, n_bins, out=index)
    # The centroid's ring always holds a pixel, so some bin is filled.
    return _binned_means(index.ravel(), m.standardized.reshape(index.size, -1), n_bins).ravel()


def _histogram(m, value_range):
    low, high = value_range
    values = m.inside_values
    index = np.floor((values - low) * (N_HISTOGRAM_BINS / (high - low)))
    index = np.clip(index, 0, N_HISTOGRAM_BINS - 1).astype(np.intp)
    # One bincount for all channels: channel c uses bins c*32 .. c*32+31.
    index += np.arange(values.shape[1]) * N_HISTOGRAM_BINS
    counts = np.bincount(index.ravel(), minlength=values.shape[1] * N_HISTOGRAM_BINS)
    return counts / len(values)


def _signal_to_noise(m):
    ring = np.floor(m.signed_distance).astype(np.intp) + SNR_HALF_WIDTH
    ring[(ring < 0) | (ring >= 2 * SNR_HALF_WIDTH)] = -1
    keep = ring.ravel() >= 0
    ring = ring.ravel()[keep]
    values = m.standardized.reshape(keep.size, -1)[keep]
    counts = np.bincount(ring, minlength=2 * SNR_HALF_WIDTH)[:, np.newaxis]
    ratios = np.empty(values.shape[1])
    for channel in range(values.shape[1]):
        sums = np.bincount(ring, weights=values[:, channel], minlength=2 * SNR_HALF_WIDTH)
        squares = np.bincount(ring, weights=values[:, channel] ** 2, minlength=2 * SNR_HALF_WIDTH)
        filled = counts[:, 0] > 0
        ring_means = sums[filled] / counts[filled, 0]
        grand_mean = sums.sum() / len(values)
        across = (counts[filled, 0] * (ring_means - grand_mean) ** 2).sum() / len(values)
        along = (squares[filled] - counts[filled, 0] * ring_means**2).sum() / len(values)
        ratios[channel] = across / max(along, SNR_NOISE_FLOOR) if across > 0 else 0.0
    return ratios


def _segmentation_variance(m):
    return m.inside_values.var(axis=0)


# Public functions: one particle in, its feature out.


def area(mask, pixel_size):
    """Area of the particle in square nanometres.

    The number of mask pixels times the squared pixel size.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    pixel_size : float
        Nanometres per pixel.

    Returns
    -------
    area : float
        Area in nm².
    """
    pixel_size = _check_pixel_size(pixel_size, "area")
    return float(_area(_ParticleMeasure(mask, mask, pixel_size))[0])


def circularity(mask):
    """Circularity ``4 pi area / perimeter**2`` of the mask, in (0, 1].

    1 for a disc, smaller for elongated or ragged outlines. The perimeter is
    scikit-image's Crofton estimate (``perimeter_crofton``, 4 directions),
    which is within 1 % of the true perimeter for discs of radius 50 px and
    within 3 % at radius 20. Digital perimeters undershoot on particles a few
    pixels across, so values are capped at 1.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    circularity : float
    """
    return float(_circularity(_ParticleMeasure(mask, mask))[0])


def central_moments(mask):
    """Central moments mu20, mu02, mu30, mu03 of the mask, in pixel units.

    The moments the study names ("as defined in Hu 1962"), of the particle's
    shape: ``mu_pq = sum((r - r_c)**p * (c - c_c)**q)`` over the mask pixels,
    where ``r`` is the row and ``c`` the column. The indices follow
    :func:`skimage.measure.moments_central` (whose values it returns): ``p`` is the
    power along rows. Central moments grow with size (mu20 as the fourth power
    of the radius) and depend on no pixel size; see :func:`normalized_moments`
    for the scale-invariant version.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    moments : ndarray of shape (4,)
        mu20, mu02, mu30, mu03.
    """
    return _central_moments(_ParticleMeasure(mask, mask))


def normalized_moments(mask):
    """Normalised central moments nu20, nu02, nu30, nu03 of the mask.

    ``nu_pq = mu_pq / mu_00 ** ((p + q) / 2 + 1)``
    (:func:`skimage.measure.moments_normalized`): invariant to translation and
    scale, so they describe the shape alone, whatever the particle's size.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    moments : ndarray of shape (4,)
        nu20, nu02, nu30, nu03.
    """
    return _normalized_moments(_ParticleMeasure(mask, mask))


def diameter(mask):
    """Largest distance between two points of the particle's outline, in pixels.

    The maximum Feret diameter, as ``feret_diameter_max`` of
    :func:`skimage.measure.regionprops` (the study's "greatest distance between
    any two vertices", and the largest axis for an ellipse). The outline runs
    half a pixel outside the outermost mask pixels, so a disc of radius ``r``
    (pixel centres within ``r``) measures ``2 r + 1``.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    diameter : float
        Diameter in pixels.
    """
    return float(_diameter(_ParticleMeasure(mask, mask))[0])


def length(mask, pixel_size):
    """The :func:`diameter` in nanometres.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    pixel_size : float
        Nanometres per pixel.

    Returns
    -------
    length : float
        Length in nm.
    """
    pixel_size = _check_pixel_size(pixel_size, "length")
    return float(_length(_ParticleMeasure(mask, mask, pixel_size))[0])


def max_width(mask, pixel_size):
    """Width of the particle at its thickest point, in nanometres.

    Twice the maximum of the mask's Euclidean distance transform
    (:func:`scipy.ndimage.distance_transform_edt`): the diameter of the largest
    disc that fits inside the particle. For a disc it equals the diameter; for
    an ellipse it is the minor axis (the :func:`length` carries the major
    axis). The study switched between "largest axis" for ellipses and "maximum
    of the distance transform" for other shapes; one definition for all shapes
    keeps the feature continuous.

    Parameters
    ----------
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    pixel_size : float
        Nanometres per pixel.

    Returns
    -------
    width : float
        Width in nm.
    """
    pixel_size = _check_pixel_size(pixel_size, "max_width")
    return float(_max_width(_ParticleMeasure(mask, mask, pixel_size))[0])


def edge_profile(image, mask, pixel_size, *, n_bins=N_PROFILE_BINS, distance_range=EDGE_RANGE_NM):
    """Mean standardised intensity by signed distance to the outline, in nm.

    The study's edge density profile: like the radial profile, but distances
    are measured from the particle's outline (the outer membrane), positive
    inside and negative outside, so 0 is the membrane. ``n_bins`` equal bins
    cover `distance_range`; bins that no pixel falls into (a particle thinner
    than the range, or an image edge closer than the range) take values
    interpolated from their neighbours. Because distances are in nm, the
    profiles of particles imaged at different magnifications align: inner
    membranes of multilamellar liposomes appear at the same bins. A range
    that spans fewer than 8 pixels at `pixel_size` (coarse pixels, such as
    fluorescence micrographs at 100 nm) is widened about the outline in
    proportion until it spans 8.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    pixel_size : float
        Nanometres per pixel.
    n_bins : int, default=16
        Number of distance bins.
    distance_range : tuple of float, default=(-10.0, 30.0)
        Distances in nm covered by the bins, from outside to inside.

    Returns
    -------
    profile : ndarray of shape (n_bins,) or (C, n_bins)
        Mean intensity per bin, in background standard deviations.
    """
    pixel_size = _check_pixel_size(pixel_size, "edge_profile")
    distance_range = check_range(distance_range, "distance_range")
    m = _ParticleMeasure(image, mask, pixel_size, edge_reach(distance_range, pixel_size))
    return _per_channel(_edge_profile(m, n_bins, distance_range).reshape(-1, n_bins), image)


def radial_profile(image, mask, *, n_bins=N_PROFILE_BINS):
    """Mean standardised intensity in concentric rings around the centroid.

    The study's radial density profile: the first bin holds the centre, the
    following ones the averages of rings further out. The rings are of equal
    width and together reach 1.5 times the particle's equivalent radius
    (the radius of a disc of equal area), so the membrane falls into the same
    bins (about two thirds along) for small and large particles and the
    profile needs no pixel size; the particle's size is carried by
    :func:`area` and :func:`length`. Rings that hold no pixel (on particles a
    few pixels across) take values interpolated from their neighbours.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    n_bins : int, default=16
        Number of rings.

    Returns
    -------
    profile : ndarray of shape (n_bins,) or (C, n_bins)
        Mean intensity per ring, in background standard deviations.
    """
    m = _ParticleMeasure(image, mask)
    return _per_channel(_radial_profile(m, n_bins).reshape(-1, n_bins), image)


def intensity_histogram(image, mask, *, value_range=HISTOGRAM_RANGE):
    """Histogram of the particle's standardised intensities, 32 bins.

    The range is fixed, in background standard deviations (see
    :func:`standardize_intensity`), so bins mean the same for every particle
    and every bit depth: ``hist_16`` of the default range holds pixels between
    0 and 0.25 standard deviations above the background. Per-image ranges
    would make histograms incomparable, and the full range of the data type
    would waste most bins (16-bit detectors rarely fill their range; float
    images have none). Values beyond the range count in the first or last bin.
    Counts are divided by the particle's number of pixels, so the histogram
    describes the intensity distribution, not the size.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W)
        Non-zero on the particle.
    value_range : tuple of float, default=(-4.0, 4.0)
        Lower and upper edge of the bins, in background standard deviations.

    Returns
    -------
    histogram : ndarray of shape (32,) or (C, 32)
        Fraction of the particle's pixels in each bin.
    """
    value_range = check_range(value_range, "value_range")
    m = _ParticleMeasure(image, mask)
    return _per_channel(_histogram(m, value_range).reshape(-1, N_HISTOGRAM_BINS), image)


def signal_to_noise(image, mask):
    """Variance across the membrane over variance along it.

    Pixels within 3 pixels of the outline are grouped into one-pixel rings of
    equal distance to it. The variance across the membrane is that of the ring
    means (the membrane's intensity profile); the variance along it is the
    pooled variance within the rings (noise and texture along the membrane).
    A sharp, clean membrane gives a high ratio, a blurred or noisy one a low
    ratio. A flat image gives 0; the along-membrane variance is floored at
    ``1e-6`` (squared background standard deviations) so noise-free images
    give a large finite ratio.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    ratio : float or ndarray of shape (C,)
    """
    m = _ParticleMeasure(image, mask)
    return _per_channel(_signal_to_noise(m), image)


def segmentation_variance(image, mask):
    """Variance of the standardised intensities inside the mask.

    The internal segmentation variance: how uneven the particle's interior is,
    in units of the background's variance (1 means as uneven as the background
    noise). The study names the feature without defining it (its data sets did
    not include it); this is the definition sklipo uses.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        Intensities, channel-last.
    mask : ndarray of shape (H, W)
        Non-zero on the particle.

    Returns
    -------
    variance : float or ndarray of shape (C,)
    """
    m = _ParticleMeasure(image, mask)
    return _per_channel(_segmentation_variance(m), image)
