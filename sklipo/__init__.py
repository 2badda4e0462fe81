"""Particle classification in electron-microscopy images, the scikit-learn way."""

# License: BSD 3 clause

from sklipo._particles import Particle, ParticleSet, as_particle_set
from sklipo._threads import get_threads, threads

__version__ = "0.1.0.dev0"

__all__ = [
    "Particle",
    "ParticleSet",
    "__version__",
    "as_particle_set",
    "get_threads",
    "threads",
]
