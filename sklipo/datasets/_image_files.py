"""Reading and writing single image files: PNG, JPEG, BMP, TIFF/OME-TIFF and MRC.

The loaders of :mod:`sklipo.datasets` and the command line go through these
helpers so that every format gives the same thing back: a channel-last array
in its stored dtype and native byte order, and a pixel size in nanometres (NaN
when the file has none). PNG, JPEG and BMP go through imageio's Pillow plugin
(palette images come back as RGB or RGBA), TIFF through tifffile and MRC
through mrcfile; no format is decoded here. The pixel size comes from the MRC
voxel size, from an OME-TIFF's ``PhysicalSizeX``/``PhysicalSizeY``, or from a
TIFF's resolution tags (physical units, or ImageJ's ``unit`` for unitless
ones).
"""


# License: BSD 3 clause

from pathlib import Path

import imageio.v3 as iio
import mrcfile
import numpy as np
import tifffile
from skimage.color import rgb2gray

from sklipo.datasets._image_formats import (
    _MRC_EXTENSIONS,
    _TIFF_EXTENSIONS,
    IMAGE_EXTENSIONS,
    LOSSY_EXTENSIONS,
    _read_raw,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "LOSSY_EXTENSIONS",
    "n_channels",
    "read_image",
    "read_image_frames",
    "read_mask",
    "read_mask_frames",
    "write_image",
    "write_image_file",
    "write_mask",
]

# JPEG stores a gray image saved as RGB with channels that may differ by a
# rounding step or two; such channels still count as identical.
_LOSSY_TOLERANCE = 2


def _split_alpha(raw):
    """Split off a PNG alpha channel: (colour channels, alpha or None if opaque)."""
    image = raw.array
    if not raw.alpha:
        return image, None
    alpha = image[..., -1]
    image = image[..., :-1]
    if image.shape[2] == 1:
        image = image[..., 0]
    opaque = np.iinfo(alpha.dtype).max if alpha.dtype.kind in "ui" else 1.0
    return image, None if (alpha == opaque).all() else alpha


def _same_channels(image, lossy):
    """Whether all channels of a colour image hold the same gray image."""
    first = image[..., :1]
    if not lossy:
        return bool((image == first).all())
    difference = np.abs(image.astype(np.int32) - first.astype(np.int32))
    return bool(difference.max() <= _LOSSY_TOLERANCE)


def n_channels(image):
    """Return the number of channels of a channel-last image (1 for 2-D)."""
    return 1 if image.ndim == 2 else image.shape[2]


def read_image(path, *, as_gray="auto", return_alpha=False):
    """Read one particle image or micrograph.

    Parameters
    ----------
    path : str or path-like
        A PNG, JPEG, BMP, TIFF (OME-TIFF included) or MRC file; see
        :data:`IMAGE_EXTENSIONS`.
    as_gray : {"auto", True, False}, default="auto"
        How to treat colour images. ``"auto"`` drops a fully opaque alpha
        channel and reads a colour image (PNG, JPEG, BMP, or TIFF stored as
        RGB) whose colour channels are identical as grayscale, keeping the
        dtype (JPEG channels may differ by 2 levels, JPEG's rounding, and are
        then averaged). True does the same and also converts other RGB images
        to luminance (:func:`skimage.color.rgb2gray`, floating point); any
        other multichannel image is then an error. False keeps every channel
        as stored.
    return_alpha : bool, default=False
        Also return a non-opaque alpha channel, split off the image (then
        `as_gray` applies to the colour channels alone). Loaders use it as the
        mask of a cut-out saved with a transparent background.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, C)
        Pixels in the stored dtype (unless converted to luminance).
    pixel_size : float
        Nanometres per pixel from an MRC header's voxel size, an OME-TIFF's
        ``PhysicalSizeX``/``PhysicalSizeY`` or a TIFF's resolution tags (a
        physical ResolutionUnit, or ImageJ's ``unit`` such as "nm" or
        "micron" when the unit tag is "none"); NaN for PNG, JPEG and BMP and
        when the file does not set it. TIFF resolutions coarser than 1 um per
        pixel are print or screen settings (e.g. 72 dpi) and read as NaN.
    alpha : ndarray of shape (H, W) or None
        Only with ``return_alpha=True``: the alpha channel, None when the
        file has none or it is fully opaque.
    """
    raw = _read_raw(path)
    image, alpha = _decode(raw, path, as_gray, return_alpha)
    if return_alpha:
        return image, raw.pixel_size, alpha
    return image, raw.pixel_size


def read_image_frames(path, *, as_gray="auto", return_alpha=False):
    """Read every image a file holds: one per frame of a stack, else one.

    A stack is an MRC file of several sections (a RELION-style ``.mrcs``
    particle stack), a TIFF page sequence (series axes starting with I, Z or
    T) or a TIFF whose pages differ in shape; every other file holds one
    image, read as :func:`read_image` reads it.

    Parameters
    ----------
    path : str or path-like
        An image file; see :data:`IMAGE_EXTENSIONS`.
    as_gray : {"auto", True, False}, default="auto"
        As in :func:`read_image`, per frame.
    return_alpha : bool, default=False
        Also return each frame's non-opaque alpha channel (or None).

    Returns
    -------
    images : list of ndarray of shape (H, W) or (H, W, C)
        The frames, in file order.
    pixel_size : float
        Nanometres per pixel from the header, shared by all frames; NaN when
        unset.
    alphas : list of (ndarray or None)
        Only with ``return_alpha=True``.
    """
    raws = _read_raw(path, frames=True)
    decoded = [_decode(raw, path, as_gray, return_alpha) for raw in raws]
    images = [image for image, _ in decoded]
    if return_alpha:
        return images, raws[0].pixel_size, [alpha for _, alpha in decoded]
    return images, raws[0].pixel_size


def _decode(raw, path, as_gray, return_alpha):
    """One read image as `as_gray` asks, and its non-opaque alpha (or None)."""
    image = raw.array
    alpha = None
    if image.ndim == 3 and as_gray is not False:
        image, alpha = _split_alpha(raw)
        if alpha is not None and not return_alpha:
            if as_gray is True:
                raise ValueError(
                    f"Cannot read '{path}' as grayscale: its alpha channel is not fully "
                    "opaque. Pass as_gray=False to keep all channels."
                )
            # "auto" keeps a transparent alpha as a channel.
            image = raw.array
        elif image.ndim == 3:
            image = _to_gray(image, raw, path, as_gray)
    return image, alpha


def _to_gray(image, raw, path, as_gray):
    """Fold identical colour channels, or (as_gray=True) convert RGB to luminance."""
    if raw.colour and _same_channels(image, raw.lossy):
        if raw.lossy:
            return np.rint(image.mean(axis=-1)).astype(image.dtype)
        return image[..., 0]
    if as_gray is True:
        if image.shape[2] != 3:
            raise ValueError(
                f"Cannot read '{path}' as grayscale: it has {image.shape[2]} channels "
                "that differ and are not RGB. Pass as_gray=False to keep them."
            )
        return rgb2gray(image)
    return image


def read_mask(path):
    """Read a mask file: True where any colour channel is set.

    A pixel is set where it is non-zero, except in JPEG files, whose
    compression leaves small non-zero values around edges: there a pixel is
    set above half the dtype's range (128 for 8-bit). An alpha channel is
    ignored.

    Parameters
    ----------
    path : str or path-like
        A PNG, JPEG, BMP, TIFF or MRC file.

    Returns
    -------
    mask : ndarray of shape (H, W), dtype=bool
    """
    return _mask_of(_read_raw(path))


def read_mask_frames(path):
    """Read every mask a file holds, as :func:`read_image_frames` splits it.

    Parameters
    ----------
    path : str or path-like
        A mask file or a stack of masks.

    Returns
    -------
    masks : list of ndarray of shape (H, W), dtype=bool
    """
    return [_mask_of(raw) for raw in _read_raw(path, frames=True)]


def _mask_of(raw):
    """The set pixels of one read mask image."""
    mask = raw.array
    if mask.ndim == 3:
        if raw.alpha:
            mask = mask[..., :-1]
        mask = mask.max(axis=-1)
    if raw.lossy:
        return mask > np.iinfo(mask.dtype).max // 2
    return mask.astype(bool, copy=False)


def write_image(path, image):
    """Write an image losslessly: PNG for 2-D uint8, TIFF otherwise.

    Parameters
    ----------
    path : str or path-like
        Target file without extension; the extension is chosen here.
    image : ndarray of shape (H, W) or (H, W, C)
        Channel-last pixels of any integer or floating-point dtype.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    path = Path(path)
    if image.ndim == 2 and image.dtype == np.uint8:
        path = path.with_name(path.name + ".png")
        iio.imwrite(path, image, plugin="pillow")
        return path
    path = path.with_name(path.name + ".tif")
    # minisblack keeps channels as plain samples, so a reader never takes them
    # for a colour image and folds identical channels into one.
    tifffile.imwrite(
        path,
        image,
        photometric="minisblack",
        planarconfig="contig" if image.ndim == 3 else None,
        compression="zlib",
    )
    return path


def write_mask(path, mask):
    """Write a boolean mask as an 8-bit PNG (0 and 255).

    Parameters
    ----------
    path : str or path-like
        Target file without extension.
    mask : ndarray of shape (H, W), dtype=bool

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    path = Path(path)
    path = path.with_name(path.name + ".png")
    iio.imwrite(path, np.asarray(mask, dtype=np.uint8) * np.uint8(255), plugin="pillow")
    return path


def write_image_file(path, image, *, jpeg_quality=95, pixel_size=None):
    """Write an image in the format its file extension names.

    Unlike :func:`write_image`, which picks a lossless format, this writes
    what a lab's tools would: PNG (8- or 16-bit, gray, RGB or RGBA), JPEG
    and BMP (8-bit gray or RGB), TIFF (any dtype and channels, with the pixel
    size as resolution tags in micrometres) and MRC (one 2-D image, the
    pixel size as voxel size).

    Parameters
    ----------
    path : str or path-like
        The file to write; its extension chooses the format.
    image : ndarray of shape (H, W) or (H, W, C)
        Channel-last pixels.
    jpeg_quality : int, default=95
        JPEG quality, 1 to 100.
    pixel_size : float, default=None
        Nanometres per pixel to store (TIFF and MRC); None stores none.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the format cannot hold the image (dtype or channels), naming the
        file and the formats that can.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    channels = n_channels(image)
    if suffix in (".png", ".jpg", ".jpeg", ".bmp"):
        allowed = (np.uint8, np.uint16) if suffix == ".png" else (np.uint8,)
        if image.dtype not in allowed or channels not in (1, 3, 4) or (
            channels == 4 and suffix != ".png"
        ):
            raise ValueError(
                f"Cannot write '{path}': {suffix[1:].upper()} holds 8-bit "
                f"{'or 16-bit ' if suffix == '.png' else ''}gray or RGB images; got "
                f"dtype {image.dtype} with {channels} channel(s). Write a .tif file instead."
            )
        if image.dtype == np.uint16 and channels > 1:
            raise ValueError(
                f"Cannot write '{path}': Pillow writes 16-bit PNG in gray only; got "
                f"{channels} channels. Write a .tif file instead."
            )
        kwargs = {"quality": int(jpeg_quality)} if suffix in LOSSY_EXTENSIONS else {}
        iio.imwrite(path, image, plugin="pillow", **kwargs)
    elif suffix in _TIFF_EXTENSIONS:
        resolution = {}
        if pixel_size is not None:
            per_um = 1e3 / float(pixel_size)
            resolution = {"resolution": (per_um, per_um), "resolutionunit": "MICROMETER"}
        tifffile.imwrite(
            path,
            image,
            photometric="rgb" if channels == 3 and image.dtype == np.uint8 else "minisblack",
            planarconfig="contig" if image.ndim == 3 else None,
            compression="zlib",
            **resolution,
        )
    elif suffix in _MRC_EXTENSIONS:
        if image.ndim != 2:
            raise ValueError(
                f"Cannot write '{path}': MRC holds one 2-D image here; got {channels} "
                "channels. Write a .tif file instead."
            )
        with mrcfile.new(path, overwrite=True) as mrc:
            mrc.set_data(image.astype(np.float32) if image.dtype == np.uint8 else image)
            if pixel_size is not None:
                mrc.voxel_size = float(pixel_size) * 10  # the header is in ångström
    else:
        raise ValueError(
            f"Cannot write '{path}': unsupported file type {path.suffix!r}. Supported: "
            f"{', '.join(IMAGE_EXTENSIONS)}."
        )
    return path


