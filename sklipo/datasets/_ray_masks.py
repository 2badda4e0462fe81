"""A particle's outline from rays cast from its box centre, for faint membranes and edges.

The second segmentation method, for boxes where the intensity threshold
finds no acceptable mask. Each box's region is resampled on a polar grid
round the box centre (``scipy.ndimage.map_coordinates``); the outward edge
strength on that grid is pooled over neighbouring angles, and dynamic
programming follows the closed outline of greatest total edge. A faint
membrane that does not stand out of the noise pixel by pixel adds up along
its whole length. The outline counts only when its mean edge stands out of
the background's edge noise by a z-score computed over its length, and when
the edge is there all round.
"""

# License: BSD 3 clause

import numpy as np
from scipy import ndimage as ndi

__all__ = []

# The polar grid, the same for every box so that particles are traced together:
# angles round the box centre, and radii as fractions of the inscribed
# ellipse's (an annotator's box fits the particle up to some slack).
_N_ANGLES = 180
_RADII = np.linspace(0.5, 1.4, 46)
# The edge at a point is the mean over this many pixels inside it minus the
# mean over as many outside, along the ray.
_EDGE_STEP = 3
# Largest change of the radius from one angle to the next, in grid steps.
_MAX_JUMP = 1
# Pixels along an outline over which the edge measure stays correlated, in
# white noise smoothed with sigma = 1 px (the default), whose correlation
# length (see _edge_noise) is _REFERENCE_REACH; a background correlated over
# more pixels (texture, more smoothing) has proportionally fewer independent
# samples along an outline.
_CORRELATION_LENGTH = 2.0
_REFERENCE_REACH = 3.4
# Angles (each side) over which the outline is smoothed.
_SMOOTH_ANGLES = 5
# The tracing picks the best of many outlines, so in pure noise the edge along
# it averages this many edge-noise spreads (measured on boxes of 16 to 100 px
# in white and in smoothed noise, seeds apart from the benchmark's): the bias
# subtracted before the evidence is weighed.
_NOISE_BIAS = 0.85
# An outline is accepted when its mean edge, less that bias, stands this many
# standard errors out of the noise. In boxes of white noise the evidence is
# about a standard normal (160 boxes: mean -0.2, standard deviation 0.9,
# largest 2.3); noise blurred by 1 to 2 px more scores higher (means 1.0 and
# 1.8, 1 and 3 of 160 boxes past 4 with an edge all round). Faint membranes
# the threshold misses on TEM micrographs reach 4 to 100.
MIN_EVIDENCE = 4.0
# Boxes traced together (the back-pointers take 2 bytes per grid point and angle).
_CHUNK = 256
# At most this share of the angles may put the outline at the grid's inner or
# outer end: an outline pressed against them found no edge there.
_MAX_AT_LIMIT = 0.1


def _ray_coordinates(box, origin, radii):
    """Rows and columns (region pixels) of the polar grid, and the unit ray steps.

    Returns arrays of shape (n_angles, n_radii) for the grid points and
    (n_angles, 1) for the row and column components of each ray's unit step.
    """
    top, left, bottom, right = box
    y0, x0 = origin
    centre_row = top - y0 + (bottom - top) / 2 - 0.5
    centre_col = left - x0 + (right - left) / 2 - 0.5
    angles = np.linspace(0, 2 * np.pi, _N_ANGLES, endpoint=False)[:, None]
    along_row = (bottom - top) / 2 * np.sin(angles)
    along_col = (right - left) / 2 * np.cos(angles)
    length = np.hypot(along_row, along_col)
    rows = centre_row + radii * along_row
    cols = centre_col + radii * along_col
    return rows, cols, along_row / length, along_col / length


def _edge_map(plane, box, origin):
    """Outward edge strength on the polar grid, shape (n_angles, n_radii).

    The particle is positive in `plane`; the edge at a grid point is the
    mean of the plane over `_EDGE_STEP` pixels inside it minus the mean over
    as many outside, so a particle's outer boundary (a disc's rim, a
    membrane's outer side) is a positive ridge round the centre.
    """
    rows, cols, step_row, step_col = _ray_coordinates(box, origin, _RADII)
    edge = np.zeros(rows.shape)
    for offset in np.arange(_EDGE_STEP) + 0.5:
        for sign in (-1.0, 1.0):
            edge -= sign * ndi.map_coordinates(
                plane, [rows + sign * offset * step_row, cols + sign * offset * step_col],
                order=1, mode="nearest",
            )
    return edge / _EDGE_STEP


def _edge_noise(plane, outside):
    """Spread of the edge measure over the background around the box, and its reach.

    Returns the robust spread of the edge measure across the background and
    its correlation length in pixels across the edge's direction, the way
    an outline runs (one plus twice the summed autocorrelation over lags 1
    to 4, up to the first that is not positive; 1 for independent samples).
    A smooth background texture cancels in the edge measure and does not
    count; blotchy noise does.
    """
    kernel = np.r_[np.ones(_EDGE_STEP), -np.ones(_EDGE_STEP)] / _EDGE_STEP
    samples, products, counts = [], np.zeros(4), np.zeros(4)
    for axis in (0, 1):
        edge = ndi.convolve1d(plane, kernel, axis=axis, mode="nearest")
        samples.append(edge[outside])
        # Lagged products along the other axis, over background pairs only.
        edge, known = np.moveaxis(edge, 1 - axis, 0), np.moveaxis(outside, 1 - axis, 0)
        edge = np.where(known, edge - np.median(edge[known]), 0.0)
        for lag in range(1, 5):
            products[lag - 1] += np.sum(edge[lag:] * edge[:-lag])
            counts[lag - 1] += np.sum(known[lag:] & known[:-lag])
    samples = np.concatenate(samples)
    spread = 1.4826 * np.median(np.abs(samples - np.median(samples)))
    variance = np.mean((samples - np.median(samples)) ** 2)
    rho = products / np.maximum(counts, 1) / variance if variance > 0 else np.zeros(4)
    positive = np.cumprod(rho > 0).astype(bool)
    return spread, 1.0 + 2.0 * rho[positive].sum()


def _trace(edges):
    """The closed outline of greatest total edge strength, per particle.

    Dynamic programming over angles, vectorised over particles and radii:
    from one angle to the next the radius moves by at most `_MAX_JUMP` grid
    steps. The ridge, pooled over neighbouring angles, is followed twice
    round; the second turn, which starts where the first ended, is the
    outline, so that it closes on itself.

    Parameters
    ----------
    edges : ndarray of shape (k, n_angles, n_radii)

    Returns
    -------
    path : ndarray of int, shape (k, n_angles)
        The radius index of the outline at each angle.
    """
    pooled = ndi.uniform_filter1d(edges, 2 * _SMOOTH_ANGLES + 1, axis=1, mode="wrap")
    k, n_angles, n_radii = pooled.shape
    turns = np.concatenate([pooled, pooled], axis=1)
    jumps = np.arange(-_MAX_JUMP, _MAX_JUMP + 1)
    # Index of the previous radius for each jump, clipped at the grid's ends.
    sources = np.clip(np.arange(n_radii)[None, :] + jumps[:, None], 0, n_radii - 1)
    score = turns[:, 0].copy()
    choices = np.empty((k, 2 * n_angles, n_radii), dtype=np.int16)
    for a in range(1, 2 * n_angles):
        candidates = score[:, sources]  # (k, n_jumps, n_radii)
        best = np.argmax(candidates, axis=1)
        choices[:, a] = np.take_along_axis(sources[None], best[:, None], axis=1)[:, 0]
        score = np.take_along_axis(candidates, best[:, None], axis=1)[:, 0] + turns[:, a]
    path = np.empty((k, 2 * n_angles), dtype=np.intp)
    path[:, -1] = np.argmax(score, axis=1)
    for a in range(2 * n_angles - 1, 0, -1):
        path[:, a - 1] = choices[np.arange(k), a, path[:, a]]
    return path[:, n_angles:]


def _smooth_outline(path):
    """Radii (fractions of the inscribed ellipse's) of the outline, median-smoothed over angle."""
    radii = _RADII[path]
    return ndi.median_filter(radii, size=(1, 2 * _SMOOTH_ANGLES + 1), mode="wrap")


def _fill(radii, height, width):
    """Boolean box-shaped mask inside the star-shaped outline of `radii` per angle."""
    rows = (np.arange(height) + 0.5 - height / 2) / (height / 2)
    cols = (np.arange(width) + 0.5 - width / 2) / (width / 2)
    # The ray angle of each pixel, in the same elliptic frame as the grid.
    angle = np.arctan2(rows[:, None], cols[None, :]) % (2 * np.pi)
    angles = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    limit = np.interp(angle, angles, radii, period=2 * np.pi)
    return np.hypot(rows[:, None], cols[None, :]) <= limit


def _ray_masks(planes):
    """Trace the particles of several boxes along rays from their centres.

    Parameters
    ----------
    planes : list of tuple (plane, origin, outside, box)
        Per particle: the region around its box as one float plane, the
        particle positive and the background at 0; the region's top-left
        pixel in the micrograph; the region's background pixels (bool); the
        box ``top, left, bottom, right``.

    Returns
    -------
    masks : list of ndarray of bool
        The filled outline of each particle, of its box's shape.
    evidence : ndarray of float, shape (k,)
        How far the mean edge strength along each outline, less the bias of
        picking the best outline, stands out of the background's edge
        noise: in standard errors of such a mean over the outline's
        independent samples (its length over the noise's correlation
        length).
    closed : ndarray of bool, shape (k,)
        Whether each outline found its edge all round: at (nearly) every
        angle rather than at the grid's ends, and in each quarter of the
        angles stronger than noise gives.
    """
    if not planes:
        return [], np.zeros(0), np.zeros(0, dtype=bool)
    edges = np.stack([_edge_map(plane, box, origin) for plane, origin, _, box in planes])
    noise, reach = np.array([_edge_noise(plane, outside) for plane, _, outside, _ in planes]).T
    # In chunks, so the tracing's back-pointers stay small for any number of boxes.
    path = np.concatenate([
        _trace(edges[start : start + _CHUNK]) for start in range(0, len(edges), _CHUNK)
    ])
    along = np.take_along_axis(edges, path[..., None], axis=2)[..., 0]
    radii = _smooth_outline(path)
    semi_axes = np.array([(box[2] - box[0], box[3] - box[1]) for *_, box in planes]) / 2
    # The outline's length in pixels: neighbouring samples closer than the
    # smoothing's reach are not independent.
    steps = np.hypot(
        np.diff(np.c_[radii, radii[:, :1]], axis=1) * semi_axes.mean(axis=1)[:, None],
        radii * semi_axes.mean(axis=1)[:, None] * 2 * np.pi / _N_ANGLES,
    )
    independent = np.clip(
        steps.sum(axis=1) / (_CORRELATION_LENGTH * reach / _REFERENCE_REACH), 1, _N_ANGLES
    )
    evidence = (along.mean(axis=1) / np.maximum(noise, 1e-12) - _NOISE_BIAS) * np.sqrt(
        independent
    )
    at_limit = (path == 0) | (path == len(_RADII) - 1)
    # An edge all round, not a neighbour's or a speck's on one side: in each
    # quarter of the angles the edge beats what noise gives.
    quarters = along.reshape(len(planes), 4, -1).mean(axis=2) / np.maximum(noise, 1e-12)[:, None]
    closed = (at_limit.mean(axis=1) <= _MAX_AT_LIMIT) & (quarters > _NOISE_BIAS).all(axis=1)
    masks = [
        _fill(outline, box[2] - box[0], box[3] - box[1])
        for outline, (*_, box) in zip(radii, planes)
    ]
    return masks, evidence, closed
