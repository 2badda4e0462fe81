"""Ship fitted models: model cards for joblib files, ONNX export of LipNets."""

# License: BSD 3 clause

from sklipo.deployment._model_card import (
    ModelVersionWarning,
    card_path,
    load,
    load_card,
    save,
)
from sklipo.deployment._onnx import export_onnx
from sklipo.deployment._runtime import OnnxPredictor, runtime_predictor

__all__ = [
    "ModelVersionWarning",
    "OnnxPredictor",
    "card_path",
    "export_onnx",
    "load",
    "load_card",
    "runtime_predictor",
    "save",
]
