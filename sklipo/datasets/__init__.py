"""Synthetic liposome data and loaders for particle images from disk."""

# License: BSD 3 clause

from sklipo.datasets._image_files import (
    IMAGE_EXTENSIONS,
    read_image,
    read_image_frames,
    read_mask,
    read_mask_frames,
    write_image,
    write_mask,
)
from sklipo.datasets._load_particles import load_particles
from sklipo.datasets._make_micrographs import FLUORESCENCE_CLASSES, make_micrographs
from sklipo.datasets._mask_display import MaskGridDisplay
from sklipo.datasets._micrographs import load_annotated_micrographs
from sklipo.datasets._save_particles import save_particles
from sklipo.datasets._segmentation import segment_boxes
from sklipo.datasets._store import ParticleStoreWriter, convert_to_store
from sklipo.datasets._synthetic import LIPOSOME_CLASSES, make_liposomes
from sklipo.datasets._write_yolo import write_yolo
from sklipo.datasets._yolo_labels import (
    label_sources,
    micrograph_sources,
    read_class_names,
    read_yolo_rows,
    yolo_pixel_boxes,
)

__all__ = [
    "FLUORESCENCE_CLASSES",
    "IMAGE_EXTENSIONS",
    "LIPOSOME_CLASSES",
    "MaskGridDisplay",
    "ParticleStoreWriter",
    "convert_to_store",
    "label_sources",
    "load_annotated_micrographs",
    "load_particles",
    "make_liposomes",
    "make_micrographs",
    "micrograph_sources",
    "read_class_names",
    "read_image",
    "read_image_frames",
    "read_mask",
    "read_mask_frames",
    "read_yolo_rows",
    "save_particles",
    "segment_boxes",
    "write_image",
    "write_mask",
    "write_yolo",
    "yolo_pixel_boxes",
]
