"""Smooth multi-octave value noise (Perlin-style) for synthetic backgrounds and textures."""

# License: BSD 3 clause

from functools import lru_cache

import numpy as np

__all__ = []

# Wavelengths (px) of the background's octaves.
_BACKGROUND_OCTAVES = (96.0, 48.0, 24.0, 12.0)


@lru_cache(maxsize=128)
def _upsampling_matrix(size, cells):
    """Return the (size, cells + 3) cubic B-spline matrix that upsamples a grid.

    ``M @ G @ M.T`` turns a ``(cells + 3, cells + 3)`` grid of independent
    standard normal values into a smooth ``(size, size)`` field; rows are scaled
    so every pixel of the field has unit variance.
    """
    t = (np.arange(size) + 0.5) * (cells / size) + 1.0
    x = np.abs(t[:, None] - np.arange(cells + 3)[None, :])
    weights = np.where(
        x < 1.0, 2.0 / 3.0 - x**2 + 0.5 * x**3, np.where(x < 2.0, (2.0 - x) ** 3 / 6.0, 0.0)
    )
    weights /= np.sqrt((weights**2).sum(axis=1, keepdims=True))
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def _smooth_noise(rng, b, size, wavelengths, amplitudes):
    """Return ``b`` fields of smooth value noise, shape (b, size, size).

    Field ``i`` is the sum over octaves ``o`` of ``amplitudes[i, o]`` times a
    unit-variance field with features about ``wavelengths[o]`` px across.

    Each octave upsamples a small grid ``G`` of standard normal values to
    ``M @ G @ M.T`` with a cubic B-spline matrix ``M``. The first products run as
    one matrix product over the batch; the second products of all octaves are
    stacked along the inner dimension into a single product, which adds the
    octaves up as it goes.
    """
    amplitudes = np.broadcast_to(
        np.asarray(amplitudes, dtype=np.float32), (b, len(wavelengths))
    )
    halves = []
    matrices = []
    for octave, wavelength in enumerate(wavelengths):
        cells = max(1, int(round(size / wavelength)))
        matrix = _upsampling_matrix(size, cells)
        m = matrix.shape[1]
        grid = rng.standard_normal((b * m, m), dtype=np.float32)
        half = (grid @ matrix.T).reshape(b, m, size)
        half *= amplitudes[:, octave, None, None]
        halves.append(half)
        matrices.append(matrix)
    # (b, size, K) @ (K, size): each field comes out transposed, which noise
    # does not mind.
    half = np.concatenate(halves, axis=1).transpose(0, 2, 1)
    k = half.shape[2]
    return (half.reshape(b * size, k) @ np.concatenate(matrices, axis=1).T).reshape(
        b, size, size
    )


def _octaves(wavelengths):
    """Return octave amplitudes halving per octave, summing to unit variance."""
    weights = 0.5 ** np.arange(len(wavelengths))
    return weights / np.sqrt((weights**2).sum())
