"""The LipNet CNNs as scikit-learn classifiers, and their learned features."""

# License: BSD 3 clause

from sklipo.classifier._embedding import LipNetEmbedding
from sklipo.classifier._lipnet_classifier import LipNetClassifier

__all__ = ["LipNetClassifier", "LipNetEmbedding"]
