"""Reading and writing single image files: PNG, TIFF and MRC.

The loaders of :mod:`sklipo.datasets` go through these helpers so that every
format gives the same thing back: a channel-last array in its stored dtype and
native byte order, and a pixel size in nanometres (NaN when the file has none).
PNG goes through imageio (scikit-image's reader), TIFF through tifffile and MRC
through mrcfile. The pixel size comes from the MRC voxel size, or from a TIFF's
resolution tags (physical units, or ImageJ's ``unit`` for unitless ones).
"""

# License: BSD 3 clause

from pathlib import Path

import imageio.v3 as iio
import mrcfile
import numpy as np
import tifffile
from skimage.color import rgb2gray

__all__ = [
    "IMAGE_EXTENSIONS",
    "n_channels",
    "read_image",
    "read_mask",
    "write_image",
    "write_mask",
]

#: File extensions the loaders read, lower case.
IMAGE_EXTENSIONS = (".mrc", ".mrcs", ".map", ".png", ".tif", ".tiff")
_MRC_EXTENSIONS = (".mrc", ".mrcs", ".map")
_TIFF_EXTENSIONS = (".tif", ".tiff")
# TIFF page axes that tifffile uses for a plain stack of 2-D planes; a 3-D
# series with one of them first holds one channel per page.
_TIFF_CHANNEL_AXES = "CQIS"
# Nanometres per unit of a TIFF ResolutionUnit tag, and per ImageJ ``unit``.
_TIFF_RESOLUTION_UNITS = {
    tifffile.RESUNIT.INCH: 2.54e7,
    tifffile.RESUNIT.CENTIMETER: 1e7,
    tifffile.RESUNIT.MILLIMETER: 1e6,
    tifffile.RESUNIT.MICROMETER: 1e3,
}
_IMAGEJ_UNITS = {
    "nm": 1.0,
    "nanometer": 1.0,
    "um": 1e3,
    "\u00b5m": 1e3,
    "\u03bcm": 1e3,
    "\\u00b5m": 1e3,  # ImageJ writes the micro sign escaped
    "micron": 1e3,
    "microns": 1e3,
    "mm": 1e6,
    "a": 0.1,
    "\u00e5": 0.1,
    "angstrom": 0.1,
}
# A resolution coarser than this is a print or screen setting (72-300 dpi is
# 85-350 um per pixel), not a microscope calibration: treated as unknown.
_MAX_CALIBRATED_NM = 1e3


class _Raw:
    """An array read from disk with what its format says about it."""

    def __init__(self, array, *, colour=False, alpha=False, pixel_size=np.nan):
        self.array = array
        self.colour = colour
        self.alpha = alpha
        self.pixel_size = pixel_size


def _read_png(path):
    array = iio.imread(path, plugin="pillow")
    # PNG colour types: 2 samples are gray + alpha, 4 are RGB + alpha.
    channels = array.shape[2] if array.ndim == 3 else 1
    return _Raw(array, colour=channels > 1, alpha=channels in (2, 4))


def _read_tiff(path):
    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise ValueError("the file holds no image")
        series = tif.series[0]
        array = series.asarray()
        axes = series.axes
        colour = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        pixel_size = _tiff_pixel_size(tif)
    if array.ndim == 3 and not axes.endswith("S"):
        if axes[0] not in _TIFF_CHANNEL_AXES:
            raise ValueError(
                f"the file holds a stack of {array.shape[0]} images (axes {axes!r}); "
                "expected one image, with channels if any"
            )
        array = np.moveaxis(array, 0, -1)
    return _Raw(array, colour=colour, pixel_size=pixel_size)


def _tiff_pixel_size(tif):
    """Nanometres per pixel from the resolution tags, NaN when not calibrated."""
    tags = tif.pages[0].tags
    if "XResolution" not in tags or "YResolution" not in tags:
        return np.nan
    unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else tifffile.RESUNIT.INCH
    if unit == tifffile.RESUNIT.NONE:
        imagej_unit = (tif.imagej_metadata or {}).get("unit", "")
        nm_per_unit = _IMAGEJ_UNITS.get(str(imagej_unit).strip().lower(), np.nan)
    else:
        nm_per_unit = _TIFF_RESOLUTION_UNITS.get(unit, np.nan)
    x, y = (
        np.divide(*tags[name].value) if tags[name].value[1] else 0.0
        for name in ("XResolution", "YResolution")
    )
    if not (np.isfinite(nm_per_unit) and x > 0 and y > 0):
        return np.nan
    if not np.isclose(x, y, rtol=1e-4):
        raise ValueError(
            f"the resolution tags give non-square pixels ({nm_per_unit / x:g} x "
            f"{nm_per_unit / y:g} nm); sklipo needs one pixel size per image"
        )
    pixel_size = nm_per_unit / x
    return pixel_size if pixel_size <= _MAX_CALIBRATED_NM else np.nan


def _read_mrc(path):
    with mrcfile.open(path, mode="r") as mrc:
        array = np.array(mrc.data)
        voxel = mrc.voxel_size
    if array.ndim == 3:
        if array.shape[0] != 1:
            raise ValueError(
                f"the file holds a stack of {array.shape[0]} images; expected one image"
            )
        array = array[0]
    if voxel.x < 0 or voxel.y < 0:
        raise ValueError(f"the header gives a negative voxel size ({voxel.x}, {voxel.y}) Å")
    if voxel.x != voxel.y:
        raise ValueError(
            f"the header gives non-square pixels ({voxel.x} x {voxel.y} Å); sklipo needs "
            "one pixel size per image"
        )
    # 0 is the MRC convention for "not set"; the header is in ångström.
    pixel_size = float(voxel.x) / 10 if voxel.x > 0 else np.nan
    return _Raw(array, pixel_size=pixel_size)


def _read_raw(path):
    """Read any supported file, naming it in every error."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_EXTENSIONS:
        raise ValueError(
            f"Cannot read '{path}': unsupported file type {path.suffix!r}. Supported: "
            f"{', '.join(IMAGE_EXTENSIONS)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"Image file not found: '{path}'.")
    reader = (
        _read_mrc
        if suffix in _MRC_EXTENSIONS
        else _read_tiff if suffix in _TIFF_EXTENSIONS else _read_png
    )
    try:
        raw = reader(path)
    except Exception as exc:  # each library raises its own kinds on a bad file
        raise ValueError(f"Cannot read the image file '{path}': {exc}") from exc
    if raw.array.ndim not in (2, 3):
        raise ValueError(
            f"Cannot read '{path}': expected a 2-D image, with channels last if any; "
            f"got an array of shape {raw.array.shape}."
        )
    raw.array = raw.array.astype(raw.array.dtype.newbyteorder("="), copy=False)
    return raw


def _drop_opaque_alpha(raw):
    """Drop a PNG alpha channel that is fully opaque; report whether alpha remains."""
    image = raw.array
    if not raw.alpha:
        return image, False
    alpha = image[..., -1]
    opaque = np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0
    if (alpha == opaque).all():
        image = image[..., :-1]
        return (image[..., 0] if image.shape[2] == 1 else image), False
    return image, True


def n_channels(image):
    """Return the number of channels of a channel-last image (1 for 2-D)."""
    return 1 if image.ndim == 2 else image.shape[2]


def read_image(path, *, as_gray="auto"):
    """Read one particle image or micrograph.

    Parameters
    ----------
    path : str or path-like
        A PNG, TIFF or MRC file.
    as_gray : {"auto", True, False}, default="auto"
        How to treat colour images. ``"auto"`` drops a fully opaque PNG alpha
        channel and reads a colour image (PNG, or TIFF stored as RGB) whose
        colour channels are identical as grayscale, keeping the dtype. True does
        the same and also converts other RGB images to luminance
        (:func:`skimage.color.rgb2gray`, floating point); any other
        multichannel image is then an error. False keeps every channel as
        stored.

    Returns
    -------
    image : ndarray of shape (H, W) or (H, W, C)
        Pixels in the stored dtype (unless converted to luminance).
    pixel_size : float
        Nanometres per pixel from an MRC header's voxel size or a TIFF's
        resolution tags (a physical ResolutionUnit, or ImageJ's ``unit`` such
        as "nm" or "micron" when the unit tag is "none"); NaN for PNG and when
        the file does not set it. TIFF resolutions coarser than 1 um per
        pixel are print or screen settings (e.g. 72 dpi) and read as NaN.
    """
    raw = _read_raw(path)
    image = raw.array
    if image.ndim == 2 or as_gray is False:
        return image, raw.pixel_size
    image, has_alpha = _drop_opaque_alpha(raw)
    if image.ndim == 2:
        return image, raw.pixel_size
    if has_alpha:
        if as_gray is True:
            raise ValueError(
                f"Cannot read '{path}' as grayscale: its alpha channel is not fully "
                "opaque. Pass as_gray=False to keep all channels."
            )
        return image, raw.pixel_size
    if raw.colour and (image == image[..., :1]).all():
        return image[..., 0], raw.pixel_size
    if as_gray is True:
        if image.shape[2] != 3:
            raise ValueError(
                f"Cannot read '{path}' as grayscale: it has {image.shape[2]} channels "
                "that differ and are not RGB. Pass as_gray=False to keep them."
            )
        return rgb2gray(image), raw.pixel_size
    return image, raw.pixel_size


def read_mask(path):
    """Read a mask file: True where any colour channel is non-zero.

    A PNG alpha channel is ignored.

    Parameters
    ----------
    path : str or path-like
        A PNG, TIFF or MRC file.

    Returns
    -------
    mask : ndarray of shape (H, W), dtype=bool
    """
    raw = _read_raw(path)
    mask = raw.array
    if mask.ndim == 3:
        if raw.alpha:
            mask = mask[..., :-1]
        mask = mask.any(axis=-1)
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
