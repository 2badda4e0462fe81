"""Intensity normalisation of particle images, per image or fitted on a data set."""

# License: BSD 3 clause

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from sklipo._particles import as_particle_set
from sklipo.utils import check_range, n_channels

__all__ = ["IntensityNormalizer"]

# Pixels drawn (by a fixed stride) from each image to estimate data-set quantiles:
# enough for stable 1st/99th percentiles without stacking every pixel in memory.
_QUANTILE_SAMPLE_PER_IMAGE = 4096


def _pixels(image):
    """View an (H, W) or (H, W, C) image as (pixels, channels), in float64."""
    return image.reshape(-1, n_channels(image)).astype(np.float64, copy=False)


def _check_quantile_range(quantile_range):
    return check_range(
        quantile_range,
        "The 'quantile_range' parameter of IntensityNormalizer",
        low=0,
        high=100,
    )


def _statistics(pixels, method, quantile_range):
    """Return (center, scale) per channel of a (pixels, channels) array."""
    if method == "standard":
        center, scale = pixels.mean(axis=0), pixels.std(axis=0)
    elif method == "minmax":
        center = pixels.min(axis=0)
        scale = pixels.max(axis=0) - center
    else:
        center, high = np.percentile(pixels, quantile_range, axis=0)
        scale = high - center
    # A constant image (or channel) keeps its offset removed but is not blown up.
    return center, np.where(scale > 0, scale, 1.0)


class IntensityNormalizer(TransformerMixin, BaseEstimator):
    """Rescale particle intensities, per image or with statistics of the training set.

    Micrographs differ in exposure, ice thickness and bit depth (8-bit PNGs,
    16-bit TIFFs, float MRCs). Per-image normalisation removes those
    differences; data-set normalisation keeps the relative brightness of
    particles, which can carry class information (a dense interior, say).
    Statistics are computed in float64 from the raw values, so 16-bit data
    is handled like any other (nothing assumes a 0..255 range).

    Parameters
    ----------
    method : {"standard", "minmax", "quantile"}, default="standard"
        - ``"standard"``: subtract the mean, divide by the standard deviation.
        - ``"minmax"``: map the minimum to 0 and the maximum to 1.
        - ``"quantile"``: map the quantiles `quantile_range` to 0 and 1,
          robust to hot pixels and dark contamination.
    per_image : bool, default=True
        True computes the statistics of each image (and channel) on its own;
        False fits them on the training images, per channel.
    quantile_range : tuple of (float, float), default=(1.0, 99.0)
        Percentiles used by ``method="quantile"``.

    Attributes
    ----------
    n_channels_in_ : int
        Channels of the particles seen in :meth:`fit`.
    center_ : ndarray of shape (n_channels,)
        Value mapped to 0, per channel; only when ``per_image=False``.
    scale_ : ndarray of shape (n_channels,)
        Divisor per channel; only when ``per_image=False``.

    Notes
    -----
    A constant image (or channel) has zero spread; it is shifted but not
    divided, so it maps to zeros instead of NaN. With ``per_image=False`` and
    ``method="quantile"``, the percentiles are estimated from at most 4096
    evenly strided pixels per image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.preprocessing import IntensityNormalizer
    >>> X = np.array([[[0, 100], [200, 300]]], dtype=np.uint16)
    >>> IntensityNormalizer("minmax").fit_transform(X)
    array([[[0.        , 0.33333334],
            [0.6666667 , 1.        ]]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"standard", "minmax", "quantile"})],
        "per_image": ["boolean"],
        "quantile_range": [tuple, list],
    }

    def __init__(self, method="standard", *, per_image=True, quantile_range=(1.0, 99.0)):
        self.method = method
        self.per_image = per_image
        self.quantile_range = quantile_range

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the data-set statistics (when ``per_image=False``).

        Parameters
        ----------
        X : ParticleSet or array of shape (n, H, W) or (n, C, H, W)
            The training particles.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted normaliser.
        """
        quantile_range = _check_quantile_range(self.quantile_range)
        particles = as_particle_set(X)
        self.n_channels_in_ = particles.n_channels
        if not self.per_image:
            pixels = [_pixels(image) for image in particles.images]
            if self.method == "quantile":
                pixels = [
                    p[:: max(1, len(p) // _QUANTILE_SAMPLE_PER_IMAGE)] for p in pixels
                ]
            self.center_, self.scale_ = _statistics(
                np.concatenate(pixels), self.method, quantile_range
            )
        return self

    def transform(self, X):
        """Normalise the intensities.

        Parameters
        ----------
        X : ParticleSet or array of shape (n, H, W) or (n, C, H, W)
            The particles.

        Returns
        -------
        X_out : ParticleSet or ndarray
            An array of `X`'s shape for array input, else a particle set that
            keeps the masks, pixel sizes and ids; float32 pixels either way.
        """
        if not self.per_image:
            check_is_fitted(self, "center_")
        quantile_range = _check_quantile_range(self.quantile_range)
        particles = as_particle_set(X)
        fitted_channels = getattr(self, "n_channels_in_", particles.n_channels)
        if particles.n_channels != fitted_channels:
            raise ValueError(
                f"IntensityNormalizer was fitted on {self.n_channels_in_}-channel "
                f"particles but got {particles.n_channels}-channel ones."
            )
        images = []
        for image in particles.images:
            pixels = _pixels(image)
            if self.per_image:
                center, scale = _statistics(pixels, self.method, quantile_range)
            else:
                center, scale = self.center_, self.scale_
            images.append(((pixels - center) / scale).astype(np.float32).reshape(image.shape))
        if not isinstance(X, np.ndarray) or X.dtype == object:
            return particles.replace(images=images)
        stacked = np.stack(images)
        # as_particle_set read 4-D arrays as channels-first; give back that layout.
        return np.moveaxis(stacked, -1, 1) if np.ndim(X) == 4 else stacked

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = not self.per_image
        return tags
