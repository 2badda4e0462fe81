"""Decoding one image file per format (Pillow, TIFF, MRC) into an array and its metadata."""

# License: BSD 3 clause

from pathlib import Path

import imageio.v3 as iio
import mrcfile
import numpy as np
import tifffile

from sklipo.datasets._pixel_size_metadata import _ome_pixel_size, _tiff_pixel_size

__all__ = ["IMAGE_EXTENSIONS", "LOSSY_EXTENSIONS"]

#: File extensions the loaders read, lower case.
IMAGE_EXTENSIONS = (
    ".bmp",
    ".jpeg",
    ".jpg",
    ".map",
    ".mrc",
    ".mrcs",
    ".png",
    ".tif",
    ".tiff",
)
#: Extensions of lossy formats: channels and masks are compared with a tolerance.
LOSSY_EXTENSIONS = (".jpeg", ".jpg")
_MRC_EXTENSIONS = (".mrc", ".mrcs", ".map")
_TIFF_EXTENSIONS = (".tif", ".tiff")

# TIFF page axes that tifffile uses for a plain stack of 2-D planes; a 3-D
# series with one of them first holds one channel per page.
_TIFF_CHANNEL_AXES = "CQIS"


class _Raw:
    """An array read from disk with what its format says about it."""

    def __init__(self, array, *, colour=False, alpha=False, pixel_size=np.nan, lossy=False):
        self.array = array
        self.colour = colour
        self.alpha = alpha
        self.pixel_size = pixel_size
        self.lossy = lossy


def _read_pillow(path):
    """PNG, JPEG and BMP; palette images come back as RGB(A)."""
    array = iio.imread(path, plugin="pillow")
    # Pillow's modes: 2 samples are gray + alpha, 4 are RGB + alpha (CMYK JPEG
    # is converted to RGB by the plugin).
    channels = array.shape[2] if array.ndim == 3 else 1
    return _Raw(
        array,
        colour=channels > 1,
        alpha=channels in (2, 4),
        lossy=path.suffix.lower() in LOSSY_EXTENSIONS,
    )


def _read_tiff(path):
    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise ValueError("the file holds no image")
        series = tif.series[0]
        array = series.asarray()
        axes = series.axes
        colour = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        pixel_size = _ome_pixel_size(tif.ome_metadata) if tif.is_ome else np.nan
        if not np.isfinite(pixel_size):
            pixel_size = _tiff_pixel_size(tif)
    if array.ndim == 3 and not axes.endswith("S"):
        if axes[0] not in _TIFF_CHANNEL_AXES:
            raise ValueError(
                f"the file holds a stack of {array.shape[0]} images (axes {axes!r}); "
                "expected one image, with channels (axis 'C') if any. Save one plane "
                "per file, or a projection"
            )
        array = np.moveaxis(array, 0, -1)
    elif array.ndim == 4 and axes.endswith("S") and axes[0] in _TIFF_CHANNEL_AXES:
        # Channels of RGB samples each (rare): one channel per sample per page.
        array = np.moveaxis(array, 0, -2).reshape(*array.shape[1:3], -1)
    return _Raw(array, colour=colour, pixel_size=pixel_size)


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
    if path.stat().st_size == 0:
        raise ValueError(f"Cannot read the image file '{path}': the file is empty (0 bytes).")
    reader = (
        _read_mrc
        if suffix in _MRC_EXTENSIONS
        else _read_tiff if suffix in _TIFF_EXTENSIONS else _read_pillow
    )
    try:
        raw = reader(path)
    except Exception as exc:  # each library raises its own kinds on a bad file
        raise ValueError(
            f"Cannot read the image file '{path}' (damaged, truncated or not a "
            f"{suffix[1:].upper()} file?): {exc}"
        ) from exc
    if raw.array.size == 0:
        raise ValueError(f"Cannot read '{path}': the image has no pixels ({raw.array.shape}).")
    if raw.array.ndim not in (2, 3):
        raise ValueError(
            f"Cannot read '{path}': expected a 2-D image, with channels last if any; "
            f"got an array of shape {raw.array.shape}."
        )
    raw.array = raw.array.astype(raw.array.dtype.newbyteorder("="), copy=False)
    return raw
