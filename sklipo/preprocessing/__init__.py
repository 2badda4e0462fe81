"""Transformers that crop, mask, normalise and resize particle images."""

# License: BSD 3 clause

__all__ = []
