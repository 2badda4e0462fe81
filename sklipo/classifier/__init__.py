"""The LipNet CNNs as scikit-learn classifiers, and their learned features."""

# License: BSD 3 clause

from sklipo.classifier._data import Batches, ImageData, epoch_indices
from sklipo.classifier._embedding import LipNetEmbedding
from sklipo.classifier._lipnet_classifier import LipNetClassifier
from sklipo.classifier._steps import flat_steps, split_lipnet, transform_before

__all__ = [
    "Batches",
    "ImageData",
    "LipNetClassifier",
    "LipNetEmbedding",
    "epoch_indices",
    "flat_steps",
    "split_lipnet",
    "transform_before",
]
