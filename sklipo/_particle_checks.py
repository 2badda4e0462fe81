"""Checks that turn images, masks, pixel sizes and ids into ParticleSet fields."""

# License: BSD 3 clause

import numpy as np

from sklipo.utils import n_channels

__all__ = ["check_channels_first"]


# At most this many channels (grayscale, RGB, RGBA) in a channels-last guess.
_MAX_GUESSED_CHANNELS = 4


def check_channels_first(X):
    """Refuse a 4-D stack that looks channels-last instead of reading it wrongly.

    sklipo reads every 4-D stack as ``(n, C, H, W)``. A stack with at most
    four entries on its last axis and more than four on its second is
    almost surely ``(n, H, W, C)`` (RGB cut-outs from an image library):
    read as channels first it would give many-channel images of width 3.
    """
    if X.shape[1] > _MAX_GUESSED_CHANNELS >= X.shape[-1]:
        raise ValueError(
            f"A 4-D image stack of shape {X.shape} looks channels-last (n, H, W, C), "
            "but sklipo reads 4-D stacks as channels-first (n, C, H, W). Pass "
            "np.moveaxis(X, -1, 1), or ParticleSet(list(X), channel_axis=-1)."
        )


def _check_image(image, where, channel_axis):
    """Validate one image and return it channel-last."""
    image = np.asarray(image)
    if image.dtype == object or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise TypeError(
            f"Images must hold integer or floating-point pixels; {where} has "
            f"dtype {image.dtype}."
        )
    if channel_axis is None:
        if image.ndim == 3:
            raise ValueError(
                f"{where} is 3-D with shape {image.shape} but no channel_axis was "
                "given. Pass channel_axis=-1 for (H, W, C) images or channel_axis=0 "
                "for (C, H, W) images."
            )
        if image.ndim != 2:
            raise ValueError(
                f"Grayscale images must be 2-D (H, W); {where} has shape {image.shape}."
            )
    else:
        if image.ndim != 3:
            raise ValueError(
                f"With channel_axis={channel_axis}, images must be 3-D; {where} has "
                f"shape {image.shape}."
            )
        image = np.moveaxis(image, channel_axis, -1)
    if min(image.shape[:2]) < 1:
        raise ValueError(f"{where} has an empty image of shape {image.shape}.")
    if np.issubdtype(image.dtype, np.floating) and not np.isfinite(image).all():
        raise ValueError(
            f"{where} has NaN or infinite pixels; replace or drop them before "
            "building the particle set."
        )
    return image


def _check_mask(mask, image, where):
    """Validate one mask against its image and return it as booleans."""
    mask = np.asarray(mask)
    if mask.shape != image.shape[:2]:
        raise ValueError(
            f"The mask of {where} has shape {mask.shape}; it must match the image's "
            f"height and width {image.shape[:2]}."
        )
    mask = mask.astype(bool, copy=False)
    if not mask.any():
        raise ValueError(
            f"The mask of {where} is empty: no pixel marks the particle."
        )
    return mask


def _check_pixel_size(pixel_size, n):
    """Return pixel sizes as a float array of length ``n``; NaN means unknown."""
    if pixel_size is None:
        return np.full(n, np.nan)
    values = np.asarray(pixel_size, dtype=float)
    if values.ndim == 0:
        values = np.full(n, float(values))
    if values.shape != (n,):
        raise ValueError(
            f"pixel_size must be a number or one value per particle ({n}); got an "
            f"array of shape {values.shape}."
        )
    # NaN marks an unknown pixel size (e.g. files without a calibration).
    bad = np.flatnonzero(~np.isnan(values) & ~(np.isfinite(values) & (values > 0)))
    if bad.size:
        raise ValueError(
            "pixel_size must be positive and finite (nanometres per pixel), or NaN "
            f"where unknown; particle {bad[0]} has {float(values[bad[0]])!r}."
        )
    return values


def _check_channels(images):
    """Return the number of channels that all `images` share."""
    channels = {n_channels(image) for image in images}
    if len(channels) > 1:
        raise ValueError(
            f"All particles must have the same number of channels; found {sorted(channels)}."
        )
    return channels.pop()


def _check_ids(ids, n):
    """Return identifiers as a str array of length ``n``."""
    ids = np.asarray(ids).astype(str)
    if ids.shape != (n,):
        raise ValueError(
            f"ids must hold one identifier per particle ({n}); got shape {ids.shape}."
        )
    return ids


def _object_array(arrays):
    """Pack arrays into a 1-D object array without letting NumPy broadcast them."""
    packed = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        packed[i] = array
    return packed
