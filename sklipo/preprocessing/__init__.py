"""Transformers that crop, mask, normalise and resize particle images."""

# License: BSD 3 clause

from sklipo.preprocessing._crop import CropParticle
from sklipo.preprocessing._flatten import Flatten
from sklipo.preprocessing._intensity import IntensityNormalizer
from sklipo.preprocessing._resize import Resize

__all__ = ["CropParticle", "Flatten", "IntensityNormalizer", "Resize"]
