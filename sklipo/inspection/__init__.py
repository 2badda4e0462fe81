"""Inspection of fitted LipNets: kernels, feature maps and attribution maps."""

# License: BSD 3 clause

from sklipo.inspection._attribution import ATTRIBUTION_METHODS, attribution
from sklipo.inspection._network import conv_layers, feature_maps
from sklipo.inspection._plot import AttributionDisplay, FeatureMapDisplay, KernelDisplay

__all__ = [
    "ATTRIBUTION_METHODS",
    "AttributionDisplay",
    "FeatureMapDisplay",
    "KernelDisplay",
    "attribution",
    "conv_layers",
    "feature_maps",
]
