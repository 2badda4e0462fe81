"""The LipNet convolutional networks as torch modules."""

# License: BSD 3 clause

from sklipo.nets._fcn import LipNetFCN
from sklipo.nets._hybrid import HybridLipNet, HybridLipNetFCN
from sklipo.nets._lipnet import ARCHITECTURES, LipNet

__all__ = ["ARCHITECTURES", "HybridLipNet", "HybridLipNetFCN", "LipNet", "LipNetFCN"]
