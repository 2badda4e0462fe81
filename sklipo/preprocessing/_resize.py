"""Bring particles of any size to one fixed size, as the networks need."""

# License: BSD 3 clause

from functools import lru_cache
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval

from sklipo._particles import as_particle_set

__all__ = ["Resize"]


def _target_size(size):
    """Return `size` as a (height, width) pair of positive ints."""
    if isinstance(size, Integral):
        size = (size, size)
    size = tuple(size)
    if len(size) != 2 or not all(isinstance(s, Integral) and s >= 1 for s in size):
        raise ValueError(
            "The 'size' parameter of Resize must be a positive int or a pair of "
            f"positive ints (height, width). Got {size!r} instead."
        )
    return tuple(int(s) for s in size)


@lru_cache(maxsize=512)
def _interpolation_matrix(in_size, out_size, antialias):
    """Return the (out_size, in_size) float32 matrix of a linear 1-D resize.

    The weights of ``torch.nn.functional.interpolate(mode="bilinear",
    align_corners=False)``: pixel centres are aligned, and with `antialias`
    the triangle filter is widened by the shrink factor (as in Pillow), so
    every input pixel contributes. Each row sums to one.
    """
    scale = in_size / out_size
    centre = scale * (np.arange(out_size) + 0.5)
    if antialias:
        support = scale if scale >= 1.0 else 1.0
        inverse = 1.0 / scale if scale >= 1.0 else 1.0
        start = np.maximum((centre - support + 0.5).astype(int), 0)
        stop = np.minimum((centre + support + 0.5).astype(int), in_size)
        source = np.arange(in_size)
        weights = np.clip(1.0 - np.abs((source + 0.5 - centre[:, None]) * inverse), 0.0, None)
        weights[(source < start[:, None]) | (source >= stop[:, None])] = 0.0
        weights /= weights.sum(axis=1, keepdims=True)
    else:
        position = np.maximum(centre - 0.5, 0.0)
        low = np.minimum(position.astype(int), in_size - 1)
        high = np.minimum(low + 1, in_size - 1)
        fraction = np.clip(position - low, 0.0, 1.0)
        weights = np.zeros((out_size, in_size))
        rows = np.arange(out_size)
        np.add.at(weights, (rows, low), 1.0 - fraction)
        np.add.at(weights, (rows, high), fraction)
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def _padded_size(height, width, aspect):
    """The smallest (height, width) with height/width == `aspect` holding the image."""
    if height / width < aspect:
        return round(width * aspect), width
    return height, round(height / aspect)


def _resize_batch(batch, size, keep_aspect, anti_aliasing):
    """Resize a (b, C, H, W) float32 batch of equal-size images to `size`.

    With `keep_aspect`, each image is first padded evenly to the output's
    aspect ratio with its border median (per channel), so a masked particle
    is surrounded by its own fill value and a raw cut-out by its ice. The
    padding is folded into the interpolation: the padded image is the median
    plus the zero-padded ``batch - median``, and each interpolation matrix
    keeps only its columns over the image.
    """
    height, width = batch.shape[-2:]
    out_height, out_width = size
    padded = _padded_size(height, width, out_height / out_width) if keep_aspect else (height, width)
    if padded == (out_height, out_width) == (height, width):
        return batch
    antialias = bool(anti_aliasing and (padded[0] > out_height or padded[1] > out_width))
    top, left = (padded[0] - height) // 2, (padded[1] - width) // 2
    rows = _interpolation_matrix(padded[0], out_height, antialias)[:, top : top + height]
    cols = _interpolation_matrix(padded[1], out_width, antialias)[:, left : left + width]
    value = np.float32(0.0)
    if padded != (height, width):
        border = np.concatenate(
            [batch[..., 0, :], batch[..., -1, :], batch[..., :, 0], batch[..., :, -1]], axis=-1
        )
        # The lower of the two middle values for an even count, as torch.median.
        middle = (border.shape[-1] - 1) // 2
        value = np.partition(border, middle, axis=-1)[..., middle, None, None]
        batch = batch - value
    # One matrix product over all rows of the batch, then one per image.
    across = (batch.reshape(-1, width) @ cols.T).reshape(*batch.shape[:-1], out_width)
    return value + rows @ across


class Resize(TransformerMixin, BaseEstimator):
    """Resize particles to one fixed size, ready for a network.

    Particles of equal size are resized together as one batch, by two matrix
    products with the weights of bilinear interpolation, so the cost grows
    with the number of distinct sizes, not with a Python loop over pixels.

    Parameters
    ----------
    size : int or tuple of (int, int), default=28
        Output height and width; an int gives a square.
    keep_aspect : bool, default=True
        Pad each image to the output's aspect ratio before resizing, so
        particles are not stretched. Padding takes the median of the image's
        border pixels. False stretches the image to the output size.
    anti_aliasing : bool, default=True
        Low-pass filter when shrinking, so fine texture does not alias into
        false patterns.

    Attributes
    ----------
    n_channels_in_ : int
        Channels of the particles seen in :meth:`fit`.

    See Also
    --------
    CropParticle : Choose the input mode before resizing.
    Flatten : Turn the resized images into a 2-D matrix for tabular models.

    Notes
    -----
    Intensities are converted to float32 but not rescaled; integer images
    keep their values (0..65535 for 16-bit data). Masks are dropped: use
    ``CropParticle(mode="masked")`` first to bake them into the pixels.

    The weights are those of ``torch.nn.functional.interpolate`` in
    ``"bilinear"`` mode (with ``antialias=True`` when shrinking), so the
    output matches the networks' own resizing to float32 precision; torch is
    not needed.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.preprocessing import Resize
    >>> X = ParticleSet([np.ones((50, 40)), np.ones((90, 90))])
    >>> Resize(28).fit_transform(X).shape
    (2, 1, 28, 28)
    """

    _parameter_constraints: dict = {
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "keep_aspect": ["boolean"],
        "anti_aliasing": ["boolean"],
    }

    def __init__(self, size=28, *, keep_aspect=True, anti_aliasing=True):
        self.size = size
        self.keep_aspect = keep_aspect
        self.anti_aliasing = anti_aliasing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the particles.

        Parameters
        ----------
        X : ParticleSet or array of shape (n, H, W) or (n, C, H, W)
            The particles.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        _target_size(self.size)
        self.n_channels_in_ = as_particle_set(X).n_channels
        return self

    def transform(self, X):
        """Resize every particle to `size`.

        Parameters
        ----------
        X : ParticleSet or array of shape (n, H, W) or (n, C, H, W)
            The particles.

        Returns
        -------
        X_out : ndarray of shape (n, C, height, width), dtype=float32
            The resized images, channels first (C is 1 for grayscale).
        """
        height, width = _target_size(self.size)
        particles = as_particle_set(X)
        out = np.empty((len(particles), particles.n_channels, height, width), dtype=np.float32)
        sizes = particles.sizes
        shapes, groups = np.unique(sizes, axis=0, return_inverse=True)
        order = np.argsort(groups.ravel(), kind="stable")
        bounds = np.cumsum(np.bincount(groups.ravel(), minlength=len(shapes)))[:-1]
        for members in np.split(order, bounds):
            batch = np.stack([particles.images[i] for i in members]).astype(np.float32)
            batch = batch[:, None] if batch.ndim == 3 else np.moveaxis(batch, -1, 1)
            out[members] = _resize_batch(
                batch, (height, width), self.keep_aspect, self.anti_aliasing
            )
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
