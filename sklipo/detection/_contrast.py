"""Micrograph contrast in noise units: checks, channel planes, background, polarity."""

# License: BSD 3 clause

from numbers import Integral

import numpy as np
from scipy import ndimage as ndi

__all__ = []

# The background window, in smallest diameters: large enough that a particle
# of the smallest size covers under a fifth of it, small enough to follow
# uneven illumination and ice thickness at the particles' own scale. Larger
# particles are hollowed to their rim by it and filled again.
_BACKGROUND_WINDOW = 2.0


def _check_micrograph(micrograph, name):
    """Return the micrograph as an array, checked for dtype, shape and values."""
    image = np.asarray(micrograph)
    if image.dtype.kind not in "uifb":
        raise TypeError(
            f"The micrograph {name} must hold integer or floating-point pixels; got dtype "
            f"{image.dtype}."
        )
    if image.ndim not in (2, 3) or min(image.shape[:2], default=0) < 1:
        raise ValueError(
            f"The micrograph {name} must be a 2-D image (H, W), or (H, W, C) with channels "
            f"last; got shape {image.shape}."
        )
    if image.ndim == 3 and image.shape[2] > 16:
        raise ValueError(
            f"The micrograph {name} has shape {image.shape}: channels must come last and "
            f"number at most 16, but {image.shape[2]} were found. For a stack of "
            "micrographs, pass a list of 2-D images."
        )
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError(f"The micrograph {name} has NaN or infinite pixels.")
    return image


def _planes(image, channel, name):
    """The channels used, as float32 planes of shape (H, W, C)."""
    planes = image[..., None] if image.ndim == 2 else image
    n = planes.shape[2]
    if channel is not None:
        wanted = [channel] if isinstance(channel, Integral) else list(channel)
        bad = [c for c in wanted if not -n <= c < n]
        if bad or not wanted:
            raise ValueError(
                f"channel={channel!r} does not exist in the micrograph {name}, which has "
                f"{n} channel(s) (valid: 0 to {n - 1})."
            )
        planes = planes[..., wanted]
    return planes.astype(np.float32, copy=False)

def _background(plane, scale):
    """Smooth background of a plane: a median over windows of `scale` pixels.

    The median ignores particles covering less than half of a window; it
    runs on block means (a few pixels per side of a window) and is
    interpolated back, so its cost does not grow with `scale`.
    """
    height, width = plane.shape
    block = max(1, int(scale // 6))
    pad = (-height % block, -width % block)
    padded = np.pad(plane, ((0, pad[0]), (0, pad[1])), mode="reflect" if min(height, width) > 1
                    else "edge")
    small = padded.reshape(
        padded.shape[0] // block, block, padded.shape[1] // block, block
    ).mean(axis=(1, 3))
    size = max(3, int(round(scale / block)) | 1)
    small = ndi.median_filter(small, size=size, mode="reflect")
    small = ndi.uniform_filter(small, size=3, mode="reflect")
    if block == 1:
        return small
    full = ndi.zoom(small, block, order=1, mode="nearest", grid_mode=True)
    return full[:height, :width]


def _spread(values):
    """Robust standard deviation (scaled median absolute deviation)."""
    sample = values.reshape(-1)
    if sample.size > 1 << 18:
        sample = sample[:: sample.size // (1 << 18)]
    centre = np.median(sample)
    spread = 1.4826 * np.median(np.abs(sample - centre))
    if spread > 0:
        return float(spread)
    # Quantised, mostly flat planes: the mean absolute deviation instead.
    return float(np.mean(np.abs(sample - centre)))


def _contrast_planes(planes, sigma, window):
    """Each channel, smoothed, minus its background, in units of its own variation."""
    z = np.empty_like(planes)
    flat = np.zeros(planes.shape[2], dtype=bool)
    for c in range(planes.shape[2]):
        plane = planes[..., c]
        if sigma > 0:
            plane = ndi.gaussian_filter(plane, sigma, mode="reflect")
        residual = plane - _background(plane, window)
        spread = _spread(residual)
        flat[c] = spread == 0
        z[..., c] = residual / spread if spread > 0 else 0.0
    return z, flat


def _polarity_signs(z, flat, polarity, threshold, name):
    """+1 (bright particles) or -1 (dark) per channel.

    "auto" compares how much of each channel stands out above and below the
    background by more than `threshold` (noise units): particles are the
    side with more. A list gives one polarity per channel used.
    """
    n = z.shape[2]
    if isinstance(polarity, str) and polarity != "auto":
        return np.full(n, 1.0 if polarity == "bright" else -1.0)
    if not isinstance(polarity, str):
        polarity = list(polarity)
        if len(polarity) != n or not set(polarity) <= {"dark", "bright"}:
            raise ValueError(
                f"polarity must be 'auto', 'dark', 'bright' or one of 'dark'/'bright' per "
                f"channel used ({n} in the micrograph {name}); got {polarity!r}."
            )
        return np.array([1.0 if p == "bright" else -1.0 for p in polarity])
    signs = np.empty(n)
    for c in range(n):
        plane = z[..., c]
        bright = np.clip(plane - threshold, 0, None).sum()
        dark = np.clip(-plane - threshold, 0, None).sum()
        # A tie (a flat channel) counts as dark, the electron-microscopy default.
        signs[c] = 1.0 if bright > dark and not flat[c] else -1.0
    return signs
