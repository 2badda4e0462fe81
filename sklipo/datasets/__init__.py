"""Synthetic liposome data and loaders for particle images from disk."""

# License: BSD 3 clause

__all__ = []
