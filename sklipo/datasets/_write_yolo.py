"""Writing micrographs and their boxes in the YOLO folder layout annotation tools export."""

# License: BSD 3 clause

import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.datasets._image_files import IMAGE_EXTENSIONS, n_channels, write_image_file

__all__ = ["write_yolo"]


def _yolo_rows(classes, boxes, shape):
    """Normalised YOLO rows ``class cx cy w h`` from pixel boxes."""
    height, width = shape
    top, left, bottom, right = boxes.T.astype(float)
    return np.column_stack(
        [classes, (left + right) / 2 / width, (top + bottom) / 2 / height,
         (right - left) / width, (bottom - top) / height]
    )


_COLOUR_FORMATS = ("png", "jpg", "jpeg", "bmp")


@validate_params(
    {
        "path": [str, os.PathLike],
        "images": [list, tuple],
        "labels": [list, tuple],
        "class_names": ["array-like"],
        "names": ["array-like", None],
        "image_format": [StrOptions({ext[1:] for ext in IMAGE_EXTENSIONS})],
        "jpeg_quality": [Interval(Integral, 1, 100, closed="both")],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "overwrite": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def write_yolo(
    path,
    images,
    labels,
    class_names,
    *,
    names=None,
    image_format="png",
    jpeg_quality=95,
    pixel_size=None,
    overwrite=False,
):
    """Write micrographs and their boxes the way annotation tools export YOLO.

    Writes ``images/<name>.<image_format>``, ``labels/<name>.txt`` (one line
    ``class cx cy w h`` per box, normalised, six decimals) and
    ``classes.txt`` (one class name per line) under `path`, the layout
    LabelImg, Label Studio and Roboflow export and
    :func:`load_annotated_micrographs` reads::

        load_annotated_micrographs(path / "images", path / "labels",
                                   path / "classes.txt")

    Parameters
    ----------
    path : str or path-like
        The folder to write; created if missing.
    images : list of ndarray of shape (H, W) or (H, W, C)
        The micrographs.
    labels : list of ndarray of shape (k, 5)
        YOLO rows per micrograph, as :func:`make_micrographs` returns them.
    class_names : array-like of str
        The class names, by class index.
    names : array-like of str, default=None
        File stems; None numbers the micrographs ``micrograph-000``, ...
    image_format : {"png", "jpg", "jpeg", "bmp", "tif", "tiff", "mrc", \
"mrcs", "map"}, default="png"
        The image file type. PNG, JPEG and BMP hold 8-bit gray or RGB (PNG
        also 16-bit gray): a two-channel image is written as RGB with an
        empty blue channel, as microscope software exports two colours.
        TIFF keeps any dtype and channels; MRC one grayscale image.
    jpeg_quality : int, default=95
        JPEG quality, 1 to 100.
    pixel_size : float, default=None
        Nanometres per pixel, stored in TIFF and MRC headers.
    overwrite : bool, default=False
        Whether to write into a folder that is not empty (files of the same
        name are replaced; nothing is deleted).

    Returns
    -------
    path : pathlib.Path
        The folder written.

    Raises
    ------
    FileExistsError
        If `path` is not empty and `overwrite` is False.
    ValueError
        If the lists differ in length, a label array is not ``(k, 5)``, or
        the format cannot hold an image (the message names the file).

    See Also
    --------
    make_micrographs : Synthetic micrographs to write.
    load_annotated_micrographs : Read the folder back.

    Examples
    --------
    >>> import tempfile
    >>> from sklipo.datasets import make_micrographs, write_yolo
    >>> data = make_micrographs("fluorescence", 2, n_particles=3, random_state=0)
    >>> folder = write_yolo(tempfile.mkdtemp(), data.images, data.labels,
    ...                     data.target_names, image_format="jpg")
    >>> sorted(p.name for p in (folder / "images").iterdir())
    ['micrograph-000.jpg', 'micrograph-001.jpg']
    >>> print((folder / "classes.txt").read_text())
    full
    partial
    empty
    <BLANKLINE>
    """
    path = Path(path)
    if len(images) != len(labels):
        raise ValueError(
            f"Got {len(images)} images but {len(labels)} label arrays; give one per micrograph."
        )
    if names is None:
        width = max(3, len(str(len(images) - 1)))
        names = [f"micrograph-{i:0{width}d}" for i in range(len(images))]
    names = [str(name) for name in names]
    if len(names) != len(images) or len(set(names)) != len(names):
        raise ValueError(f"names must be {len(images)} distinct file stems; got {names!r}.")
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"Cannot write into '{path}': it is a file.")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        raise FileExistsError(
            f"The folder '{path}' is not empty. Choose a new folder, or pass overwrite=True."
        )
    (path / "images").mkdir(parents=True, exist_ok=True)
    (path / "labels").mkdir(exist_ok=True)
    for image, rows, name in zip(images, labels, names):
        rows = np.asarray(rows, dtype=float).reshape(-1, 5) if np.size(rows) else np.zeros((0, 5))
        if rows.shape[1] != 5:
            raise ValueError(f"The labels of {name} must be an array of shape (k, 5).")
        image = np.asarray(image)
        if image_format in _COLOUR_FORMATS and n_channels(image) == 2:
            image = np.dstack([image, np.zeros_like(image[..., 0])])
        write_image_file(
            path / "images" / f"{name}.{image_format}", image,
            jpeg_quality=jpeg_quality, pixel_size=pixel_size,
        )
        text = "".join(
            f"{int(row[0])} {row[1]:.6f} {row[2]:.6f} {row[3]:.6f} {row[4]:.6f}\n" for row in rows
        )
        (path / "labels" / f"{name}.txt").write_text(text, encoding="utf-8")
    (path / "classes.txt").write_text(
        "".join(f"{name}\n" for name in np.asarray(class_names).astype(str)), encoding="utf-8"
    )
    return path
