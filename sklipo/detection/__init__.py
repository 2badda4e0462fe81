"""Find particles in whole micrographs, cut them out like training data, classify them."""

# License: BSD 3 clause

from sklipo.detection._classify import (
    CUTOUT_PARAMETERS,
    check_cutout,
    classify_micrographs,
    cut_particles,
    draw_overlay,
)
from sklipo.detection._find import DEFAULT_DIAMETER_RANGE, find_particles
from sklipo.detection._finder import ParticleFinder

__all__ = [
    "CUTOUT_PARAMETERS",
    "DEFAULT_DIAMETER_RANGE",
    "ParticleFinder",
    "check_cutout",
    "classify_micrographs",
    "cut_particles",
    "draw_overlay",
    "find_particles",
]
