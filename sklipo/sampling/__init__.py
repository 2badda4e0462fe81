"""Samplers against class imbalance that work on particle images."""

# License: BSD 3 clause

from sklipo.sampling._adapter import ParticleSampler
from sklipo.sampling._augmented import AugmentedOverSampler
from sklipo.sampling._synthetic import SyntheticOverSampler

__all__ = ["AugmentedOverSampler", "ParticleSampler", "SyntheticOverSampler"]
