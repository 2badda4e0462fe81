"""Ship fitted models: model cards for joblib files, ONNX export of LipNets."""

# License: BSD 3 clause

from sklipo.deployment._model_card import ModelVersionWarning, card_path, load, load_card, save
from sklipo.deployment._onnx import export_onnx

__all__ = ["ModelVersionWarning", "card_path", "export_onnx", "load", "load_card", "save"]
