"""Bring particles of any size to one fixed size, as the networks need."""

# License: BSD 3 clause

from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
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


def _pad_to_aspect(batch, aspect):
    """Pad a (b, C, H, W) batch evenly to height/width == `aspect`.

    The padding takes each image's border median (per channel), so a masked
    particle is surrounded by its own fill value and a raw cut-out by its ice.
    """
    height, width = batch.shape[-2:]
    if height / width < aspect:
        new_height, new_width = round(width * aspect), width
    else:
        new_height, new_width = height, round(height / aspect)
    if (new_height, new_width) == (height, width):
        return batch
    border = torch.cat(
        [batch[..., 0, :], batch[..., -1, :], batch[..., :, 0], batch[..., :, -1]], dim=-1
    )
    value = border.median(dim=-1).values[..., None, None]
    top, left = (new_height - height) // 2, (new_width - width) // 2
    pad = (left, new_width - width - left, top, new_height - height - top)
    return F.pad(batch - value, pad) + value


class Resize(TransformerMixin, BaseEstimator):
    """Resize particles to one fixed size, ready for a network.

    Particles of equal size are resized together as one batch
    (``torch.nn.functional.interpolate``, bilinear), so the cost grows with
    the number of distinct sizes, not with a Python loop over pixels.

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
            if batch.ndim == 3:
                batch = batch[:, None]
            else:
                batch = np.moveaxis(batch, -1, 1)
            batch = torch.from_numpy(np.ascontiguousarray(batch))
            if self.keep_aspect:
                batch = _pad_to_aspect(batch, height / width)
            if batch.shape[-2:] != (height, width):
                shrinking = batch.shape[-2] > height or batch.shape[-1] > width
                batch = F.interpolate(
                    batch,
                    size=(height, width),
                    mode="bilinear",
                    align_corners=False,
                    antialias=bool(self.anti_aliasing and shrinking),
                )
            out[members] = batch.numpy()
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
