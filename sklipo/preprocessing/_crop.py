"""The study's three input modes: with surrounding, cropped, cropped and masked."""

# License: BSD 3 clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from sklipo._particles import as_particle_set
from sklipo.utils import bounding_box

__all__ = ["CropParticle"]


def _background_value(image, mask):
    """Median of the pixels outside the mask, per channel (the whole image if none).

    The middle order statistic (upper middle for even counts) from
    ``np.partition``: several times faster than ``np.median`` on large cut-outs.
    """
    outside = image[~mask]
    if outside.shape[0] == 0:
        outside = image.reshape(-1, *image.shape[2:])
    middle = outside.shape[0] // 2
    return np.partition(outside, middle, axis=0)[middle]


class CropParticle(TransformerMixin, BaseEstimator):
    """Select the input mode: the cut-out as given, cropped, or cropped and masked.

    The study compared three ways of showing a particle to a classifier
    (§8.5); cropped and masked scored best for both of its problems.

    Parameters
    ----------
    mode : {"surrounding", "cropped", "masked"}, default="masked"
        - ``"surrounding"``: the cut-out unchanged, with the particle's
          surrounding.
        - ``"cropped"``: the smallest box that holds the mask (plus `margin`).
        - ``"masked"``: cropped, and pixels outside the mask set to `fill`.
    margin : int, default=0
        Pixels kept around the mask's bounding box when cropping, clipped at the
        image border.
    fill : "background" or float, default="background"
        The value of pixels outside the mask in ``"masked"`` mode.
        ``"background"`` is the median of the pixels outside the mask in the
        original cut-out (per channel), so the particle sits on its own ice
        rather than on an artificial black frame; a number sets that value.

    Attributes
    ----------
    n_channels_in_ : int
        Channels of the particles seen in :meth:`fit`.

    See Also
    --------
    Resize : Bring the cropped particles to one size for a network.

    Notes
    -----
    Crops are views of the input images (no pixels are copied) except in
    ``"masked"`` mode, which writes new images of the input's dtype. Masks
    are cropped along with their images and pixel sizes and ids are kept.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.preprocessing import CropParticle
    >>> image = np.full((9, 9), 5.0); image[3:6, 3:6] = 1.0
    >>> mask = image == 1.0
    >>> X = ParticleSet([image], [mask])
    >>> CropParticle("cropped", margin=1).fit_transform(X).sizes
    array([[5, 5]])
    """

    _parameter_constraints: dict = {
        "mode": [StrOptions({"surrounding", "cropped", "masked"})],
        "margin": [Interval(Integral, 0, None, closed="left")],
        "fill": [StrOptions({"background"}), Real],
    }

    def __init__(self, mode="masked", *, margin=0, fill="background"):
        self.mode = mode
        self.margin = margin
        self.fill = fill

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
        self.n_channels_in_ = as_particle_set(X).n_channels
        return self

    def transform(self, X):
        """Crop (and mask) each particle.

        Parameters
        ----------
        X : ParticleSet or array of shape (n, H, W) or (n, C, H, W)
            The particles.

        Returns
        -------
        X_out : ParticleSet
            The particles in the chosen input mode, with their masks, pixel
            sizes and ids.
        """
        particles = as_particle_set(X)
        if self.mode == "surrounding":
            return particles
        images, masks = [], []
        for image, mask in zip(particles.images, particles.masks):
            box = bounding_box(mask, self.margin)
            crop, crop_mask = image[box], mask[box]
            if self.mode == "masked":
                fill = _background_value(image, mask) if self.fill == "background" else self.fill
                fill = np.asarray(fill)
                if np.issubdtype(image.dtype, np.integer):
                    info = np.iinfo(image.dtype)
                    fill = np.clip(np.rint(fill), info.min, info.max)
                cond = crop_mask if crop.ndim == 2 else crop_mask[..., None]
                crop = np.where(cond, crop, fill.astype(image.dtype))
            images.append(crop)
            masks.append(crop_mask)
        return particles.replace(images=images, masks=masks)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags
