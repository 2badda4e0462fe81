"""On-the-fly augmentation of training image batches."""

# License: BSD 3 clause

from sklipo.augmentation._augmentation import Augmentation

__all__ = ["Augmentation"]
