"""Drawing synthetic micrographs: particle patches, their placement, backgrounds and noise."""

# License: BSD 3 clause

import numpy as np
from scipy import ndimage as ndi

from sklipo.datasets._liposome_parameters import _draw_parameters
from sklipo.datasets._liposome_rendering import _add_neighbour, _draw_particle
from sklipo.datasets._value_noise import _BACKGROUND_OCTAVES, _octaves, _smooth_noise

__all__ = []


def _tem_particles(problem, y, pixel_size, rng):
    """Darkening patches, masks and radii of TEM liposomes drawn like make_liposomes."""
    params = _draw_parameters(problem, y, pixel_size, 0, rng)
    reach = (
        params["radius"]
        * params["ellipticity"]
        * (1.0 + np.abs(params["wobble"]).sum(axis=1))
        + 1.5 * params["sigma"]
    )
    # Only overlapping look-alikes keep their neighbour (the study's uncertain
    # overlaps); other neighbours of a cut-out are real particles here.
    distance = np.hypot(params["neighbour_x"], params["neighbour_y"])
    gap = distance - params["radius"][:, None] - params["neighbour_radius"]
    params["has_neighbour"] &= gap < 0
    extent = np.where(
        params["has_neighbour"],
        distance + params["neighbour_radius"] + 4 * params["sigma"][:, None],
        0,
    ).max(axis=1)
    patches, masks = [], []
    for i in range(len(y)):
        half = int(np.ceil(max(reach[i] + 3 * params["sigma"][i], extent[i]))) + 1
        coords = np.arange(2 * half + 1, dtype=np.float32) - half
        index = np.array([i])
        dark, mask = _draw_particle(params, index, coords, rng)
        image = -dark
        for j in range(2):
            _add_neighbour(image, params, index, j, coords[None, :], coords[:, None])
        patches.append(-image[0])
        masks.append(mask[0])
    return patches, masks, reach


def _fluorescence_particles(y, n_channels, rng):
    """Intensity patches (per channel), masks and radii of fluorescent liposomes."""
    n = len(y)
    radius = np.clip(12.0 * np.exp(0.35 * rng.standard_normal(n)), 4.0, 36.0)
    ellipticity = 1.0 + np.minimum(rng.gamma(2.0, 0.02, n), 0.2)
    theta = rng.uniform(0, np.pi, n)
    membrane = rng.uniform(0.8, 1.3, n)  # ring width (sigma, px)
    ring_amp = rng.uniform(0.35, 1.0, n)
    cargo = np.select(
        [y == 0, y == 1], [rng.uniform(0.55, 1.0, n), rng.uniform(0.12, 0.35, n)],
        rng.uniform(0.0, 0.03, n),
    )
    second = rng.uniform(0.0, 1.0, n) * (rng.uniform(size=n) < 0.5)
    reach = radius * ellipticity + 1.5 * membrane
    patches, masks = [], []
    for i in range(n):
        half = int(np.ceil(reach[i] + 4 * membrane[i])) + 1
        coords = np.arange(-half, half + 1, dtype=float)
        yy, xx = coords[:, None], coords[None, :]
        u = (xx * np.cos(theta[i]) + yy * np.sin(theta[i])) / ellipticity[i]
        v = (yy * np.cos(theta[i]) - xx * np.sin(theta[i])) * ellipticity[i]
        d = np.hypot(u, v) - radius[i]  # signed distance to the membrane, px
        ring = np.exp(-0.5 * (d / membrane[i]) ** 2)
        lumen = np.clip(-(d + membrane[i]) / 1.5, 0.0, 1.0)
        patch = np.zeros((2 * half + 1, 2 * half + 1, n_channels), dtype=np.float32)
        patch[..., 0] = ring_amp[i] * ring
        patch[..., 1] = cargo[i] * lumen * (1 + 0.15 * rng.standard_normal(lumen.shape))
        if n_channels == 3:
            patch[..., 2] = second[i] * ring
        patches.append(patch)
        masks.append(d <= 1.5 * membrane[i])
    return patches, masks, reach


def _place(reach, shape, n_wanted, clustering, rng, max_tries=60):
    """Centres for particles of radii `reach`: single, or touching a placed one."""
    height, width = shape
    centres = np.zeros((0, 2))
    radii = np.zeros(0)
    placed = []
    for i in np.argsort(-reach)[:n_wanted]:
        r = reach[i]
        if 2 * r + 4 >= min(height, width):
            continue
        for _ in range(max_tries):
            touch = len(placed) > 0 and rng.uniform() < clustering
            if touch:
                j = rng.integers(len(placed))
                angle = rng.uniform(0, 2 * np.pi)
                distance = radii[j] + r + rng.uniform(-1.0, 1.0)
                centre = centres[j] + distance * np.array([np.sin(angle), np.cos(angle)])
                clearance = -1.5  # may touch everything it meets
            else:
                centre = rng.uniform([r + 1, r + 1], [height - r - 1, width - r - 1])
                clearance = 3.0
            if not (r + 1 <= centre[0] <= height - r - 1 and r + 1 <= centre[1] <= width - r - 1):
                continue
            gaps = np.hypot(*(centres - centre).T) - radii - r
            if (gaps >= clearance).all():
                centres = np.vstack([centres, centre])
                radii = np.append(radii, r)
                placed.append(i)
                break
    # Large particles were placed first; the listing order should not tell.
    order = rng.permutation(len(placed))
    return np.array(placed, dtype=int)[order], centres[order]


def _paste(canvas, patch, centre, sign=1.0):
    """Add `patch` (centred on `centre`, (row, col)) to `canvas` in place, clipped."""
    half = patch.shape[0] // 2
    top, left = int(round(centre[0])) - half, int(round(centre[1])) - half
    y0, x0 = max(top, 0), max(left, 0)
    y1 = min(top + patch.shape[0], canvas.shape[0])
    x1 = min(left + patch.shape[1], canvas.shape[1])
    region = (slice(y0, y1), slice(x0, x1))
    piece = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    canvas[region] += sign * piece
    return region, (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))


def _smooth_field(rng, shape, wavelengths, amplitude):
    """Smooth value noise of unit variance times `amplitude`, of any shape."""
    size = max(shape)
    field = _smooth_noise(rng, 1, size, wavelengths, amplitude * _octaves(wavelengths))[0]
    return field[: shape[0], : shape[1]]


def _render_tem(shape, patches, masks, centres, placed, rng):
    """One TEM micrograph (float, about [0, 1]) and its label image."""
    height, width = shape
    image = _smooth_field(rng, shape, _BACKGROUND_OCTAVES, rng.uniform(0.02, 0.06))
    image += rng.uniform(0.5, 0.75)
    labels = np.zeros(shape, dtype=np.int32)
    for k, (i, centre) in enumerate(zip(placed, centres)):
        region, inner = _paste(image, patches[i], centre, sign=-1.0)
        labels[region][masks[i][inner]] = k + 1
    # Ice blobs and carbon debris nobody boxed.
    rows, cols = np.ogrid[:height, :width]
    for _ in range(rng.poisson(2)):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(4, 20)
        d = np.hypot(rows - cy, cols - cx) - r
        image -= rng.uniform(0.08, 0.25) * np.clip(-d / 3.0, 0.0, 1.0)
    image += rng.normal(0.0, rng.uniform(0.02, 0.06), shape)
    return image, labels


def _render_fluorescence(shape, n_channels, patches, masks, centres, placed, rng):
    """One fluorescence micrograph (float, about [0, 1], channel-last) and its labels."""
    height, width = shape
    image = np.zeros((height, width, n_channels), dtype=np.float32)
    labels = np.zeros(shape, dtype=np.int32)
    for k, (i, centre) in enumerate(zip(placed, centres)):
        region, inner = _paste(image, patches[i], centre)
        labels[region][masks[i][inner]] = k + 1
    rows, cols = np.ogrid[:height, :width]
    for _ in range(rng.poisson(4)):  # bright debris dots
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(1.0, 3.0)
        dot = np.exp(-0.5 * ((rows - cy) ** 2 + (cols - cx) ** 2) / r**2)
        image[..., rng.integers(n_channels)] += rng.uniform(0.3, 1.0) * dot
    blur = rng.uniform(0.8, 1.5)  # optical point-spread function, px
    image = ndi.gaussian_filter(image, (blur, blur, 0))
    vignette = 1.0 - 0.3 * (
        ((rows - height / 2) / height) ** 2 + ((cols - width / 2) / width) ** 2
    )
    for c in range(n_channels):
        background = rng.uniform(0.03, 0.12) + _smooth_field(
            rng, shape, (96.0, 48.0), rng.uniform(0.005, 0.02)
        )
        image[..., c] = (image[..., c] * rng.uniform(0.6, 0.9) + background) * vignette
    photons = rng.uniform(60.0, 300.0)  # photons at full scale: shot noise
    image = rng.poisson(np.clip(image, 0, None) * photons) / photons
    image += rng.normal(0.0, 0.01, image.shape)
    return image.astype(np.float32), labels
