"""Rendering synthetic liposome scenes, vectorised over particles, and cutting them out."""

# License: BSD 3 clause

import numpy as np

from sklipo.datasets._liposome_parameters import _MAX_RINGS
from sklipo.datasets._value_noise import _BACKGROUND_OCTAVES, _octaves, _smooth_noise
from sklipo.utils import bounding_box

__all__ = []

_DTYPES = {
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
    np.dtype(np.uint8): 255.0,
    np.dtype(np.uint16): 65535.0,
}

# Pixels rendered per chunk: keeps the (b, S, S) temporaries within cache-friendly
# tens of megabytes whatever the number of particles.
_CHUNK_PIXELS = 1 << 21


def _render(params, surrounding, out_dtype, rng):
    """Render all particles, bucketed by canvas size, and cut them out."""
    n = len(params["canvas"])
    images = [None] * n
    masks = [None] * n
    order = np.argsort(params["canvas"], kind="stable")
    sizes = params["canvas"][order]
    for size in np.unique(sizes):
        bucket = order[sizes == size]
        per_chunk = max(1, _CHUNK_PIXELS // (size * size))
        for start in range(0, len(bucket), per_chunk):
            index = bucket[start : start + per_chunk]
            canvas, mask = _render_chunk(params, index, int(size), surrounding, rng)
            _cut_out(canvas, mask, index, surrounding, out_dtype, images, masks)
    return images, masks


def _render_chunk(params, index, size, surrounding, rng):
    """Render particles `index` on canvases of one size; return images and masks."""
    b = len(index)
    f32 = np.float32

    def column(name):
        return params[name][index][:, None, None]

    coords = np.arange(size, dtype=f32) - f32((size - 1) / 2)
    yy, xx = coords[:, None], coords[None, :]
    # The particle lies more than `surrounding` px from the canvas edges, so it
    # is drawn on the central part only (a sixth of the pixels on average).
    centre = slice(surrounding, size - surrounding)
    dark, inner_mask = _draw_particle(params, index, coords[centre], rng)
    mask = np.zeros((b, size, size), dtype=bool)
    mask[:, centre, centre] = inner_mask

    image = _smooth_noise(
        rng,
        b,
        size,
        _BACKGROUND_OCTAVES,
        params["background_texture"][index, None] * _octaves(_BACKGROUND_OCTAVES),
    )
    image += column("brightness")
    image[:, centre, centre] -= dark
    del dark
    for j in range(2):
        _add_neighbour(image, params, index, j, xx, yy)
    _add_blobs(image, params, index, xx, yy, rng)
    # Detector noise: uniform rather than Gaussian, four times cheaper to draw
    # and on these images no different to the eye.
    white = rng.random(image.shape, dtype=np.float32)
    white -= 0.5
    white *= np.sqrt(12.0) * column("noise")
    image += white
    np.clip(image, 0.0, 1.0, out=image)
    return image, mask


def _draw_particle(params, index, coords, rng):
    """Return the darkening by particles `index` and their masks, on `coords`."""
    b, size = len(index), len(coords)

    def column(name):
        return params[name][index][:, None, None]

    d, cos, sin = _edge_distance(params, index, coords)
    sigma = column("sigma")
    mask = d <= 1.5 * sigma
    wobbly = _smooth_noise(rng, b, size, (16.0, 8.0), _octaves((16.0, 8.0)))
    # Windows on inner membranes and fillings: high towards one side (the
    # cosine of the angle to it), with ragged borders.
    side = cos * column("window_cos") + sin * column("window_sin") + 0.3 * wobbly
    del cos, sin

    # Membranes: the distance to the nearest ring centre line, rings at
    # d = 0, -spacing, -2 spacing, ... (rings are further apart than they are
    # wide, so the nearest ring alone decides a pixel's darkness).
    spacing = column("spacing")
    ring = np.rint(-d / spacing)
    np.clip(ring, 0, params["n_rings"][index][:, None, None] - 1, out=ring)
    offset = d + ring * spacing
    ring = ring.astype(np.intp)
    ring_amp = params["amp"][index].ravel()[ring + (_MAX_RINGS * np.arange(b))[:, None, None]]
    window = np.clip(column("ring_bias") + column("ring_gain") * side, 0.0, 1.0)
    ring_amp = np.where(ring >= 1, ring_amp * window, ring_amp)
    del ring, window
    dark = np.exp(offset * offset * (-0.5 / (sigma * sigma)))
    dark *= ring_amp
    dark *= 1.0 + column("membrane_variation") * wobbly
    del offset, ring_amp

    # Interior density, ramping in over 2 px inside the outer membrane.
    inside = np.clip(-(d + sigma) * 0.5, 0.0, 1.0)
    inside *= np.clip(column("fill_bias") + column("fill_gain") * side, 0.0, 1.0)
    inside *= column("density") * (1.0 + column("texture") * wobbly)
    dark += inside
    dark *= column("contrast")
    return dark, mask


def _edge_distance(params, index, coords):
    """Return the signed distance to each particle's outer membrane, and its angle.

    The distance (px, negative inside) is to the centre line of the outer
    membrane: an ellipse, rotated, whose radius wobbles with 3 and 4 lobes. The
    angle comes as its cosine and sine, in the particle's own frame.
    """

    def column(name):
        return params[name][index][:, None, None]

    yy, xx = coords[:, None], coords[None, :]
    # Polar coordinates in each particle's own stretched, rotated frame.
    cos, sin, ellipticity = column("cos"), column("sin"), column("ellipticity")
    u = (xx * cos + yy * sin) / ellipticity
    v = (yy * cos - xx * sin) * ellipticity
    rho = np.hypot(u, v)
    inv = 1.0 / np.maximum(rho, np.float32(1e-3))
    c1, s1 = u * inv, v * inv
    del u, v, inv
    # cos and sin of 3 and 4 times the angle from those of the angle, without
    # any arctan2 or trigonometric call per pixel.
    c2, s2 = c1 * c1 - s1 * s1, 2 * c1 * s1
    c3, s3 = c2 * c1 - s2 * s1, s2 * c1 + c2 * s1
    c4, s4 = c2 * c2 - s2 * s2, 2 * c2 * s2
    wobble = params["wobble"][index][:, :, None, None]
    edge = 1.0 + wobble[:, 0] * c3 + wobble[:, 1] * s3 + wobble[:, 2] * c4 + wobble[:, 3] * s4
    rho -= column("radius") * edge
    return rho, c1, s1


def _add_neighbour(image, params, index, j, xx, yy):
    """Darken `image` in place with neighbour `j` of the particles that have one."""
    sub = np.flatnonzero(params["has_neighbour"][index, j])
    if sub.size == 0:
        return
    chosen = index[sub]

    def column(name):
        values = params[name][chosen]
        return (values[:, j] if values.ndim == 2 else values)[:, None, None]

    d = (xx - column("neighbour_x")) ** 2 + (yy - column("neighbour_y")) ** 2
    np.sqrt(d, out=d)
    d -= column("neighbour_radius")
    sigma = column("sigma")
    ring = d * d
    ring *= -0.5 / (sigma * sigma)
    np.exp(ring, out=ring)
    ring *= column("neighbour_amp")
    d += sigma
    d *= -0.5
    np.clip(d, 0.0, 1.0, out=d)
    d *= column("neighbour_density")
    ring += d
    ring *= column("contrast")
    if sub.size == len(index):
        image -= ring
    else:
        image[sub] -= ring


def _add_blobs(image, params, index, xx, yy, rng):
    """Darken `image` in place with the ice blobs of the particles that have one."""
    sub = np.flatnonzero(params["has_blob"][index])
    if sub.size == 0:
        return
    chosen = index[sub]

    def column(name):
        return params[name][chosen][:, None, None]

    radius = column("blob_radius")
    # Rough edges: the boundary moves in and out by a quarter of the radius.
    d = _smooth_noise(rng, sub.size, image.shape[1], (24.0, 12.0), _octaves((24.0, 12.0)))
    d *= 0.25 * radius
    d += np.hypot(xx - column("blob_x"), yy - column("blob_y"))
    d -= radius
    image[sub] -= column("blob_darkness") * np.clip(-d / 3.0, 0.0, 1.0)


def _cut_out(canvas, mask, index, surrounding, out_dtype, images, masks):
    """Cut each particle out: its mask's bounding box plus the surrounding."""
    scale = _DTYPES[out_dtype]
    if scale != 1.0:
        canvas = np.rint(canvas * np.float32(scale))
    canvas = canvas.astype(out_dtype, copy=False)
    for k, i in enumerate(index):
        box = bounding_box(mask[k], surrounding)
        images[i] = canvas[k][box].copy()
        masks[i] = mask[k][box].copy()
