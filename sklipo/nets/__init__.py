"""The LipNet convolutional networks as torch modules."""

# License: BSD 3 clause

from sklipo.nets._fcn import LipNetFCN
from sklipo.nets._hybrid import HybridLipNet
from sklipo.nets._lipnet import ARCHITECTURES, LipNet, min_input_size

__all__ = ["ARCHITECTURES", "HybridLipNet", "LipNet", "LipNetFCN", "min_input_size"]
