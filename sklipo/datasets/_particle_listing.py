"""Listing a particle set's files: the manifest CSV or the class-folder layout."""

# License: BSD 3 clause

import csv
from collections import Counter
from pathlib import PurePosixPath

import numpy as np

from sklipo.datasets._image_files import IMAGE_EXTENSIONS

__all__ = []

# The manifest that load_particles reads first in a folder and save_particles writes.
_MANIFEST_NAME = "manifest.csv"
_MANIFEST_COLUMNS = ("id", "image", "mask", "label", "pixel_size")
_REQUIRED_COLUMNS = ("image", "label")


class _Record:
    """Where one particle's files are and what the listing says about it."""

    def __init__(self, image, mask, label, pixel_size, id_, where):
        self.image = image
        self.mask = mask
        self.label = label
        self.pixel_size = pixel_size
        self.id = id_
        self.where = where


def _read_manifest(manifest):
    """Parse a manifest CSV into records, naming the file and line in errors."""
    root = manifest.parent
    with open(manifest, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        columns = [name.strip().lower() for name in (reader.fieldnames or [])]
        missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
        if missing:
            raise ValueError(
                f"The manifest '{manifest}' lacks the column(s) {missing}; it needs a "
                f"header row with at least {list(_REQUIRED_COLUMNS)} (optional: 'mask', "
                f"'pixel_size', 'id'). Found columns {columns}."
            )
        reader.fieldnames = columns
        records = []
        for row in reader:
            where = f"'{manifest}', line {reader.line_num}"
            records.append(_parse_manifest_row(row, root, where))
    if not records:
        raise ValueError(f"The manifest '{manifest}' lists no particles.")
    return records


def _parse_manifest_row(row, root, where):
    """Turn one manifest row into a record, checking its cells."""
    cells = {name: (row.get(name) or "").strip() for name in _MANIFEST_COLUMNS}
    for name in _REQUIRED_COLUMNS:
        if not cells[name]:
            raise ValueError(f"{where}: the '{name}' cell is empty.")
    pixel_size = np.nan
    if cells["pixel_size"]:
        try:
            pixel_size = float(cells["pixel_size"])
        except ValueError:
            raise ValueError(
                f"{where}: pixel_size must be a number (nm per pixel); got "
                f"{cells['pixel_size']!r}."
            ) from None
        if not (np.isfinite(pixel_size) and pixel_size > 0):
            raise ValueError(
                f"{where}: pixel_size must be positive and finite (nm per pixel); got "
                f"{cells['pixel_size']!r}."
            )
    image = root / cells["image"]
    mask = root / cells["mask"] if cells["mask"] else None
    id_ = cells["id"] or PurePosixPath(cells["image"]).with_suffix("").as_posix()
    return _Record(image, mask, cells["label"], pixel_size, id_, where)


def _scan_folder(root, mask_suffix, left_out):
    """List the particles of a folder with one sub-folder per class.

    Files beside the class folders, and entries of a class folder that are not
    read, are appended to `left_out` as ``(path, why)``; hidden entries (names
    starting with ".") are skipped silently.
    """
    class_dirs = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    left_out.extend(
        (entry, "a file beside the class folders; particles go inside them")
        for entry in sorted(root.iterdir())
        if not entry.is_dir() and not entry.name.startswith(".")
    )
    if not class_dirs:
        raise ValueError(
            f"Found no class folders in '{root}'. Expected one sub-folder per class "
            f"holding the images, or a '{_MANIFEST_NAME}' manifest."
        )
    records = []
    for class_dir in class_dirs:
        records.extend(_scan_class(class_dir, mask_suffix, left_out))
    return records


def _scan_class(class_dir, mask_suffix, left_out):
    """List the images of one class folder and pair each with its mask."""
    files = []
    for entry in sorted(class_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            left_out.append((entry, "a folder inside a class folder; not searched"))
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(entry)
        else:
            left_out.append((entry, "not an image type sklipo reads"))
    masks = {}
    images = []
    for file in files:
        if mask_suffix is not None and file.stem.endswith(mask_suffix):
            masks.setdefault(file.stem, []).append(file)
        else:
            images.append(file)
    if not images:
        raise ValueError(
            f"The class folder '{class_dir}' holds no images (looked for "
            f"{', '.join(IMAGE_EXTENSIONS)} files"
            + (f" not ending in {mask_suffix!r}" if mask_suffix is not None else "")
            + ")."
        )
    stems = Counter(file.stem for file in images)
    twins = [stem for stem, count in stems.items() if count > 1]
    if twins:
        raise ValueError(
            f"In '{class_dir}', several images share the name {twins[0]!r} with "
            "different extensions; keep one file per particle."
        )
    if mask_suffix is not None:
        orphans = sorted(set(masks) - {stem + mask_suffix for stem in stems})
        if orphans:
            raise FileNotFoundError(
                f"The mask '{masks[orphans[0]][0]}' has no image: expected "
                f"'{class_dir / orphans[0][: -len(mask_suffix)]}' with one of the "
                f"extensions {', '.join(IMAGE_EXTENSIONS)}."
            )
    records = []
    for image in images:
        mask = None
        if mask_suffix is not None:
            found = masks.get(image.stem + mask_suffix, [])
            if not found:
                raise FileNotFoundError(
                    f"The image '{image}' has no mask: expected "
                    f"'{class_dir / (image.stem + mask_suffix)}' with one of the "
                    f"extensions {', '.join(IMAGE_EXTENSIONS)}. Pass mask_suffix=None "
                    "to load images without masks (a transparent background then "
                    "gives the mask)."
                )
            if len(found) > 1:
                raise ValueError(
                    f"The image '{image}' has several masks: "
                    f"{', '.join(str(f) for f in found)}; keep one."
                )
            mask = found[0]
        id_ = f"{class_dir.name}/{image.stem}"
        records.append(_Record(image, mask, class_dir.name, np.nan, id_, None))
    return records
