"""Input checks shared by the samplers: which particles, which labels."""

# License: BSD 3 clause

import numpy as np
from sklearn.utils.validation import check_consistent_length

from sklipo._particles import ParticleSet

__all__ = []


def check_particles(X, y, sampler_name):
    """Return `X` checked as particles: a ParticleSet or an image stack.

    Parameters
    ----------
    X : ParticleSet or ndarray of shape (n, H, W) or (n, C, H, W)
        The particles.
    y : array-like of shape (n,)
        Their labels; only the length is checked.
    sampler_name : str
        Named in error messages.

    Returns
    -------
    X : ParticleSet or ndarray
        A ParticleSet unchanged, anything array-like as an ndarray.
    """
    if not isinstance(X, ParticleSet):
        if not (isinstance(X, np.ndarray) or hasattr(X, "__array__")):
            raise TypeError(
                f"{sampler_name} takes particles: a ParticleSet, or fixed-size images "
                f"as an (n, H, W) or (n, C, H, W) array; got {type(X).__name__}."
            )
        X = np.asarray(X)
        if X.ndim not in (3, 4) or X.dtype == object:
            raise ValueError(
                f"{sampler_name} takes particles: a ParticleSet, or fixed-size images "
                f"as an (n, H, W) or (n, C, H, W) array; got an array of shape "
                f"{X.shape} and dtype {X.dtype}. A 2-D matrix of features needs no "
                "adapter: use the imbalanced-learn sampler itself."
            )
        if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
            raise TypeError(
                f"{sampler_name} needs integer or floating-point pixels; got dtype "
                f"{X.dtype}."
            )
    if len(X) == 0:
        raise ValueError(f"{sampler_name} got 0 particles; at least 1 is required.")
    check_consistent_length(X, y)
    return X


def cast_like(values, dtype):
    """Cast float pixel values to `dtype`, rounding and clipping for integers."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype, copy=False)
