"""Handcrafted particle features and the SVM baseline built on them."""

# License: BSD 3 clause

from sklipo.features._baseline import make_svm_baseline
from sklipo.features._functions import (
    area,
    central_moments,
    circularity,
    diameter,
    edge_profile,
    intensity_histogram,
    length,
    max_width,
    normalized_moments,
    radial_profile,
    segmentation_variance,
    signal_to_noise,
)
from sklipo.features._measure import standardize_intensity
from sklipo.features._transformer import ParticleFeatures

__all__ = [
    "ParticleFeatures",
    "area",
    "central_moments",
    "circularity",
    "diameter",
    "edge_profile",
    "intensity_histogram",
    "length",
    "make_svm_baseline",
    "max_width",
    "normalized_moments",
    "radial_profile",
    "segmentation_variance",
    "signal_to_noise",
    "standardize_intensity",
]
