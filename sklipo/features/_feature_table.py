"""The feature table ParticleFeatures reads: each feature's computation and column names."""

# License: BSD 3 clause

from dataclasses import dataclass

from sklipo.features._functions import (
    N_HISTOGRAM_BINS,
    _area,
    _central_moments,
    _circularity,
    _diameter,
    _edge_profile,
    _histogram,
    _length,
    _max_width,
    _normalized_moments,
    _radial_profile,
    _segmentation_variance,
    _signal_to_noise,
)

__all__ = []


@dataclass(frozen=True)
class _Feature:
    """One entry of the feature table that ParticleFeatures reads."""

    compute: object  # function of (measure, params) -> 1-D array
    columns: object  # function of params -> list of column names (per channel)
    per_channel: bool
    needs_pixel_size: bool


def _numbered(prefix, n):
    width = max(2, len(str(n - 1)))
    return [f"{prefix}_{i:0{width}d}" for i in range(n)]


#: The features ParticleFeatures offers, in the order "all" lists them. Keys
#: are the names users pass; ``params`` holds n_profile_bins, edge_range_nm and
#: histogram_range.
FEATURES = {
    "area": _Feature(lambda m, p: _area(m), lambda p: ["area"], False, True),
    "circularity": _Feature(lambda m, p: _circularity(m), lambda p: ["circularity"], False, False),
    "moments": _Feature(
        lambda m, p: _central_moments(m), lambda p: ["mu20", "mu02", "mu30", "mu03"], False, False
    ),
    "normalized_moments": _Feature(
        lambda m, p: _normalized_moments(m), lambda p: ["nu20", "nu02", "nu30", "nu03"], False, False
    ),
    "max_width": _Feature(lambda m, p: _max_width(m), lambda p: ["max_width"], False, True),
    "diameter": _Feature(lambda m, p: _diameter(m), lambda p: ["diameter"], False, False),
    "length": _Feature(lambda m, p: _length(m), lambda p: ["length"], False, True),
    "edge_profile": _Feature(
        lambda m, p: _edge_profile(m, p["n_profile_bins"], p["edge_range_nm"]),
        lambda p: _numbered("edge_profile", p["n_profile_bins"]),
        True,
        True,
    ),
    "radial_profile": _Feature(
        lambda m, p: _radial_profile(m, p["n_profile_bins"]),
        lambda p: _numbered("radial_profile", p["n_profile_bins"]),
        True,
        False,
    ),
    "histogram": _Feature(
        lambda m, p: _histogram(m, p["histogram_range"]),
        lambda p: _numbered("hist", N_HISTOGRAM_BINS),
        True,
        False,
    ),
    "signal_to_noise": _Feature(
        lambda m, p: _signal_to_noise(m), lambda p: ["signal_to_noise"], True, False
    ),
    "segmentation_variance": _Feature(
        lambda m, p: _segmentation_variance(m), lambda p: ["segmentation_variance"], True, False
    ),
}
