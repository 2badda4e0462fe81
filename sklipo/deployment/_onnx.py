"""Export a fitted LipNet (and its pipeline's preprocessing recipe) to ONNX."""

# License: BSD 3 clause

import contextlib
import copy
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import sklipo
from sklipo.classifier import flat_steps, split_lipnet
from sklipo.deployment._files import write_atomic
from sklipo.preprocessing import CropParticle, IntensityNormalizer, Resize
from sklipo.utils import import_optional

__all__ = ["export_onnx"]

#: Version of the layout of the metadata written by export_onnx.
METADATA_VERSION = 1


class _Exported(torch.nn.Module):
    """A LipNet with the classifier's input scaling, its temperature and the softmax.

    Fully convolutional networks ignore the padding of their canvas, so the
    caller may pad with anything.
    """

    def __init__(self, module, mean, scale, extra_scaler=None, temperature=1.0):
        super().__init__()
        self.module = module
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32)[None, :, None, None])
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32)[None, :, None, None])
        if extra_scaler is not None:
            # float64 like the classifier: features such as moments are large
            self.register_buffer("extra_mean", torch.tensor(extra_scaler.mean_))
            self.register_buffer("extra_scale", torch.tensor(extra_scaler.scale_))

    def forward(self, image, sizes=None, features=None):
        extra = None
        if features is not None:
            extra = ((features - self.extra_mean) / self.extra_scale).to(torch.float32)
        logits = self.module((image - self.mean) / self.scale, sizes, extra) / self.temperature
        return torch.softmax(logits, dim=1), logits


def _float_list(values):
    return [float(v) for v in np.ravel(values)]


def _describe_step(name, step):
    """A JSON-ready description of one preprocessing step, or None to skip it."""
    if step is None or step == "passthrough" or hasattr(step, "fit_resample"):
        return None  # samplers resample at fit only
    if isinstance(step, CropParticle):
        fill = step.fill if step.fill == "background" else float(step.fill)
        return {"step": name, "type": "CropParticle", "mode": step.mode,
                "margin": int(step.margin), "fill": fill}
    if isinstance(step, IntensityNormalizer):
        fitted = not step.per_image
        if fitted:
            check_is_fitted(step, "center_")
        return {
            "step": name,
            "type": "IntensityNormalizer",
            "method": step.method,
            "per_image": bool(step.per_image),
            "quantile_range": _float_list(step.quantile_range),
            "center": _float_list(step.center_) if fitted else None,
            "scale": _float_list(step.scale_) if fitted else None,
        }
    if isinstance(step, Resize):
        size = (step.size, step.size) if np.ndim(step.size) == 0 else step.size
        return {"step": name, "type": "Resize", "size": [int(s) for s in size],
                "keep_aspect": bool(step.keep_aspect),
                "anti_aliasing": bool(step.anti_aliasing)}
    raise ValueError(
        f"export_onnx cannot describe the pipeline step {name!r} "
        f"({type(step).__name__}) for another runtime: it records only CropParticle, "
        "IntensityNormalizer and Resize (samplers, which do nothing at prediction, "
        "are skipped). Remove the step, or export the classifier alone and "
        "reproduce that step yourself."
    )


def _describe_steps(steps):
    """Descriptions of (name, step) pairs, samplers and passthroughs left out."""
    described = (_describe_step(name, step) for name, step in steps)
    return [d for d in described if d is not None]


def _split(estimator):
    """The LipNetClassifier of `estimator` and the descriptions of the steps before it."""
    steps, clf = split_lipnet(estimator)
    if clf is not None:
        return clf, _describe_steps(steps)
    if isinstance(estimator, Pipeline):
        last = type(estimator.steps[-1][1]).__name__ if estimator.steps else "nothing"
        what = f"a {type(estimator).__name__} ending in {last}"
    else:
        what = f"a {type(estimator).__name__}"
    raise TypeError(
        "export_onnx exports LipNet networks only: a fitted LipNetClassifier, or a "
        f"fitted pipeline whose last step is one; got {what}. Other models (the SVM "
        "baseline, scikit-learn classifiers) have no ONNX export in sklipo."
    )


def _refuse_prediction_options(clf):
    """Refuse what predict_proba does beyond the network, which the graph lacks."""
    options = {
        name: value
        for name, value in (("tta", clf.tta), ("logit_adjustment", clf.logit_adjustment))
        if value
    }
    if options:
        settings = ", ".join(f"{name}={value!r}" for name, value in options.items())
        raise ValueError(
            f"export_onnx writes the network alone, but this classifier's predict_proba "
            f"also applies {settings}, so the ONNX model would answer differently. "
            f"Export with clf.set_params({', '.join(f'{name}=None' for name in options)}) "
            "and apply them in the other runtime (the guide 'Getting the most out of "
            "your data' gives the formulas)."
        )


def _feature_names(transformer, n_features):
    try:
        return [str(name) for name in transformer.get_feature_names_out()]
    except (AttributeError, ValueError, TypeError):
        return [f"feature{i}" for i in range(n_features)]


def _describe_extra(clf):
    """The extra features of a two-branch classifier, for the metadata."""
    transformer = clf.extra_features_
    params = transformer.get_params(deep=False) if hasattr(transformer, "get_params") else {}
    return {
        "input": "features",
        "transformer": type(transformer).__name__,
        "params": {key: repr(value) for key, value in params.items()},
        "names": _feature_names(transformer, clf.extra_scaler_.n_features_in_),
        "mean": _float_list(clf.extra_scaler_.mean_),
        "scale": _float_list(clf.extra_scaler_.scale_),
        "applied_in_graph": True,
    }


def _metadata(clf, preprocessing, image_transformer, fcn):
    channels = int(clf.n_channels_in_)
    image = {
        "name": "image",
        "dtype": "float32",
        "shape": ["batch", channels, "height", "width"]
        if fcn
        else ["batch", channels, *(int(s) for s in clf.input_shape_)],
        "layout": "NCHW",
    }
    inputs = [image]
    if fcn:
        image["padding"] = (
            "each image in the top-left corner of a canvas as large as the batch's "
            "largest image; padding values are ignored"
        )
        image["min_size"] = int(clf.net_.module_.min_size)
        inputs.append({"name": "sizes", "dtype": "int64", "shape": ["batch", 2],
                       "meaning": "height and width of each image on the canvas"})
    extra = clf.extra_features_
    if extra is not None:
        inputs.append({"name": "features", "dtype": "float64",
                       "shape": ["batch", clf.extra_scaler_.n_features_in_],
                       "meaning": "the extra features, as extra_features computes them"})
    metadata = {
        "metadata_version": METADATA_VERSION,
        "classes": [str(c) for c in clf.classes_],
        "architecture": clf.architecture,
        "inputs": inputs,
        "outputs": [
            {"name": "probabilities", "shape": ["batch", len(clf.classes_)],
             "meaning": "class probabilities in the order of classes (predict_proba)"},
            {"name": "logits", "shape": ["batch", len(clf.classes_)],
             "meaning": "the network's scores divided by the temperature, before the "
                        "softmax"},
        ],
        "temperature": float(getattr(clf, "temperature_", 1.0)),
        "standardization": {
            "mean": _float_list(clf.mean_),
            "scale": _float_list(clf.scale_),
            "applied_in_graph": True,
        },
        "preprocessing": preprocessing,
        "image_transformer": image_transformer,
        "extra_features": None if extra is None else _describe_extra(clf),
        "sklipo_version": sklipo.__version__,
        "torch_version": torch.__version__,
    }
    return {key: json.dumps(value) for key, value in metadata.items()}


def _wrap(clf):
    """The module to export, its sample inputs and their dynamic shapes, by name."""
    module = copy.deepcopy(clf.net_.module_).cpu().eval()
    wrapper = _Exported(
        module, clf.mean_, clf.scale_, clf.extra_scaler_, getattr(clf, "temperature_", 1.0)
    )
    batch = torch.export.Dim("batch")
    channels = int(clf.n_channels_in_)
    if clf.input_shape_ is None:
        side = 4 * module.min_size
        inputs = {
            "image": torch.zeros(2, channels, side, side),
            "sizes": torch.tensor([[side, side], [side - 5, side - 9]]),
        }
        height = torch.export.Dim("height", min=module.min_size)
        width = torch.export.Dim("width", min=module.min_size)
        shapes = {"image": {0: batch, 2: height, 3: width}, "sizes": {0: batch}}
    else:
        inputs = {"image": torch.zeros(2, channels, *clf.input_shape_)}
        shapes = {"image": {0: batch}}
    if clf.extra_scaler_ is not None:
        inputs["features"] = torch.zeros(2, clf.extra_scaler_.n_features_in_, dtype=torch.float64)
        shapes["features"] = {0: batch}
    return wrapper.eval(), inputs, shapes


@contextlib.contextmanager
def _quiet_export():
    """Hide the exporter's notes on things sklipo's nets do not use."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"torch\.onnx")
            warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
            yield
    finally:
        logger.setLevel(level)


def export_onnx(estimator, path, *, opset_version=None, verbose=False):
    """Write a fitted LipNet, with its input scaling and softmax, as an ONNX file.

    The ONNX model maps preprocessed images to the class probabilities that
    ``predict_proba`` returns, so any ONNX runtime (onnxruntime in Python,
    C++, Java or JavaScript; ``Microsoft.ML.OnnxRuntime`` in C#/.NET) can
    classify particles without Python. The classifier's per-channel
    standardisation (``mean_``, ``scale_``) and the softmax are part of the
    graph. The preprocessing steps before the network in a pipeline are not:
    their parameters are recorded in the model's metadata so another runtime
    can reproduce them (see the deployment guide for the exact recipe).

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline
        A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
        scikit-learn or imbalanced-learn pipeline whose last step is one.
        Steps before it must be :class:`~sklipo.preprocessing.CropParticle`,
        :class:`~sklipo.preprocessing.IntensityNormalizer`,
        :class:`~sklipo.preprocessing.Resize`, ``"passthrough"`` or samplers
        (skipped: they do nothing at prediction). A two-branch classifier
        (``extra_features``) exports with a second input for the features;
        the steps of its ``image_transformer`` must be of the kinds above too.
    path : str or path-like
        The ONNX file to write (replaced if it exists; written to a temporary
        file first, so a failed export leaves no partial file).
    opset_version : int, default=None
        ONNX operator set to target; None takes torch's default. Lower it for
        an older runtime.
    verbose : bool, default=False
        Print the torch exporter's progress.

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If `estimator` is not a LipNetClassifier or a pipeline ending in one.
    ValueError
        If a pipeline step before the network cannot be described.
    ImportError
        If onnx or onnxscript is missing.

    Notes
    -----
    The model's inputs and outputs:

    - ``image``: float32 ``(batch, C, H, W)``, the output of the pipeline's
      steps before the network (``pipeline[:-1].transform(X)``), then of the
      classifier's ``image_transformer_`` if it has one; any batch size.
      Fixed-size networks take the training ``(H, W)``.
    - ``sizes`` (``"lipnet_fcn"`` only): int64 ``(batch, 2)``, the height and
      width of each image. Images of different sizes share a batch by
      padding: each sits in the top-left corner of a canvas as large as the
      batch's largest image (at least 8x8); the padding values are ignored.
    - ``features`` (two-branch classifiers only): float64 ``(batch, k)``,
      ``extra_features_.transform`` of the pipeline's output, unscaled (the
      standardisation with ``extra_scaler_`` is in the
      graph).
    - ``probabilities``: float32 ``(batch, n_classes)``, in the order of the
      ``classes`` metadata; ``logits``: the scores before the softmax,
      divided by the fitted temperature of a calibrated classifier.

    The model's ``metadata_props`` hold JSON strings: ``classes``,
    ``architecture``, ``inputs``, ``outputs``, ``temperature`` (the
    calibration's divisor of the logits, applied in the graph; 1.0 without
    calibration), ``standardization`` (already
    applied in the graph, recorded for information), ``preprocessing`` (one
    dict per pipeline step, with its parameters and fitted statistics),
    ``image_transformer`` (the same for the classifier's own image steps, or
    null), ``extra_features`` (the feature transformer, its parameters, the
    feature names and their standardisation, or null), ``sklipo_version``,
    ``torch_version`` and ``metadata_version``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.deployment import export_onnx
    >>> X = np.random.RandomState(0).rand(20, 1, 28, 28).astype(np.float32)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> export_onnx(clf, "lipnet.onnx")  # doctest: +SKIP
    PosixPath('lipnet.onnx')
    """
    clf, preprocessing = _split(estimator)
    check_is_fitted(clf)
    _refuse_prediction_options(clf)
    image_transformer = clf.image_transformer_
    if image_transformer is not None:
        image_transformer = _describe_steps(flat_steps(image_transformer, name="image_transformer"))
    onnx = import_optional("onnx", "onnxscript", extra="onnx", purpose="export_onnx")
    metadata = _metadata(clf, preprocessing, image_transformer, clf.input_shape_ is None)
    wrapper, inputs, dynamic_shapes = _wrap(clf)
    with _quiet_export() if not verbose else contextlib.nullcontext():
        program = torch.onnx.export(
            wrapper,
            (),
            kwargs=inputs,
            input_names=list(inputs),
            output_names=["probabilities", "logits"],
            opset_version=opset_version,
            dynamic_shapes=dynamic_shapes,
            dynamo=True,
            verbose=verbose,
        )
    model = program.model_proto
    model.doc_string = (
        f"sklipo {clf.architecture} classifier of particle images into "
        f"{', '.join(json.loads(metadata['classes']))}"
    )
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    path = Path(path)
    write_atomic(path, lambda temp: onnx.save(model, temp))
    return path
