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
# When a file is read as frames (a stack of particle cut-outs), a first axis
# among these holds one image per page: a plain page sequence, z or time.
_TIFF_FRAME_AXES = "IZT"


class _StackError(ValueError):
    """A file holds several images where one was expected."""


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


def _tiff_image(array, axes, colour, pixel_size):
    """One image of a TIFF series, channels last."""
    if array.ndim == 3 and not axes.endswith("S"):
        if axes[0] not in _TIFF_CHANNEL_AXES:
            raise _StackError(
                f"the file holds a stack of {array.shape[0]} images (axes {axes!r}); "
                "expected one image, with channels (axis 'C') if any. A z- or "
                "time-stack is not one image: save one plane per file, or a projection"
            )
        array = np.moveaxis(array, 0, -1)
    elif array.ndim == 4 and axes.endswith("S") and axes[0] in _TIFF_CHANNEL_AXES:
        # Channels of RGB samples each (rare): one channel per sample per page.
        array = np.moveaxis(array, 0, -2).reshape(*array.shape[1:3], -1)
    return _Raw(array, colour=colour, pixel_size=pixel_size)


def _read_tiff(path, frames):
    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise ValueError("the file holds no image")
        if len(tif.series) > 1 and not frames:
            raise _StackError(
                f"the file holds {len(tif.series)} images (pages of different shapes); "
                "expected one image. A stack of particle cut-outs goes to "
                "load_particles (one particle per page); otherwise save one image per file"
            )
        series = [(item.asarray(), item.axes) for item in tif.series]
        colour = tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        pixel_size = _ome_pixel_size(tif.ome_metadata) if tif.is_ome else np.nan
        if not np.isfinite(pixel_size):
            pixel_size = _tiff_pixel_size(tif)
    if not frames:
        return _tiff_image(*series[0], colour, pixel_size)
    # Pages of different shapes make one series each; a series of a page
    # sequence, z or time, one frame per page.
    raws = []
    for array, axes in series:
        if array.ndim >= 3 and axes[0] in _TIFF_FRAME_AXES:
            raws.extend(_tiff_image(plane, axes[1:], colour, pixel_size) for plane in array)
        else:
            raws.append(_tiff_image(array, axes, colour, pixel_size))
    return raws


def _read_mrc(path, frames):
    with mrcfile.open(path, mode="r") as mrc:
        array = np.array(mrc.data)
        voxel = mrc.voxel_size
    if voxel.x < 0 or voxel.y < 0:
        raise ValueError(f"the header gives a negative voxel size ({voxel.x}, {voxel.y}) Å")
    if voxel.x != voxel.y:
        raise ValueError(
            f"the header gives non-square pixels ({voxel.x} x {voxel.y} Å); sklipo needs "
            "one pixel size per image"
        )
    # 0 is the MRC convention for "not set"; the header is in ångström.
    pixel_size = float(voxel.x) / 10 if voxel.x > 0 else np.nan
    if array.ndim == 3 and frames:
        return [_Raw(plane, pixel_size=pixel_size) for plane in array]
    if array.ndim == 3:
        if array.shape[0] != 1:
            raise _StackError(
                f"the file holds a stack of {array.shape[0]} images; expected one image. "
                "A stack of particle cut-outs goes to load_particles (one particle per "
                "image); a z- or time-stack is not one micrograph: save one plane per "
                "file, or a projection"
            )
        array = array[0]
    return _Raw(array, pixel_size=pixel_size)


def _read_raw(path, *, frames=False):
    """Read any supported file, naming it in every error.

    With ``frames=True`` return a list of one :class:`_Raw` per image the
    file holds: one per frame of an MRC stack, per page of a TIFF page
    sequence (axes I, Z or T) or per TIFF page of its own shape; one for
    any other file.
    """
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
    try:
        if suffix in _MRC_EXTENSIONS:
            raws = _read_mrc(path, frames)
        elif suffix in _TIFF_EXTENSIONS:
            raws = _read_tiff(path, frames)
        else:
            raws = _read_pillow(path)
    except _StackError as exc:
        raise ValueError(f"Cannot read '{path}' as one image: {exc}.") from exc
    except Exception as exc:  # each library raises its own kinds on a bad file
        raise ValueError(
            f"Cannot read the image file '{path}' (damaged, truncated or not a "
            f"{suffix[1:].upper()} file?): {exc}"
        ) from exc
    raws = raws if isinstance(raws, list) else [raws]
    if not raws:
        raise ValueError(f"Cannot read '{path}': the stack holds no images.")
    for frame, raw in enumerate(raws):
        where = f"'{path}'" if len(raws) == 1 else f"frame {frame} of '{path}'"
        if raw.array.size == 0:
            raise ValueError(f"Cannot read {where}: the image has no pixels ({raw.array.shape}).")
        if raw.array.ndim not in (2, 3):
            raise ValueError(
                f"Cannot read {where}: expected a 2-D image, with channels last if any; "
                f"got an array of shape {raw.array.shape}."
            )
        raw.array = raw.array.astype(raw.array.dtype.newbyteorder("="), copy=False)
    return raws if frames else raws[0]
