"""The channel count of a channel-last particle image."""

# License: BSD 3 clause

__all__ = ["n_channels"]


def n_channels(image):
    """Return the number of channels of a channel-last image.

    Parameters
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        A particle image, channel-last as in :class:`~sklipo.ParticleSet`.

    Returns
    -------
    n_channels : int
        1 for a 2-D (grayscale) image, else ``C``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.utils import n_channels
    >>> n_channels(np.zeros((8, 8))), n_channels(np.zeros((8, 8, 3)))
    (1, 3)
    """
    return 1 if image.ndim == 2 else int(image.shape[2])
