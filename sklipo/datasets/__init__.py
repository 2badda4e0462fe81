"""Synthetic liposome data and loaders for particle images from disk."""

# License: BSD 3 clause

from sklipo.datasets._io import load_particles, save_particles
from sklipo.datasets._micrographs import load_annotated_micrographs
from sklipo.datasets._synthetic import LIPOSOME_CLASSES, make_liposomes

__all__ = [
    "LIPOSOME_CLASSES",
    "load_annotated_micrographs",
    "load_particles",
    "make_liposomes",
    "save_particles",
]
