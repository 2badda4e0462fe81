"""The LipNet CNNs as scikit-learn classifiers."""

# License: BSD 3 clause

from sklipo.classifier._lipnet_classifier import LipNetClassifier

__all__ = ["LipNetClassifier"]
