"""Predict with a fitted LipNet through ONNX Runtime instead of torch."""

# License: BSD 3 clause

import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from sklipo._threads import get_threads
from sklipo.classifier import split_lipnet
from sklipo.deployment._onnx import (
    _quiet_export,
    _refuse_prediction_options,
    _split,
    _wrap,
    export_onnx,
)
from sklipo.utils import import_optional

__all__ = ["OnnxPredictor", "runtime_predictor"]

#: Largest difference from torch's probabilities on the first batch that the
#: ONNX Runtime predictor accepts before it falls back to torch.
PARITY_TOLERANCE = 1e-5

#: Particles the parity check compares, from the first call.
_PARITY_BATCH = 32

#: Images per ONNX Runtime call for fixed-size networks; fully convolutional
#: ones use the classifier's batch size, since every image of a batch is
#: padded to the largest.
_BATCH_SIZE = 256

RUNTIMES = ("auto", "torch", "onnx")


def _import_onnxruntime():
    return import_optional(
        "onnxruntime", extra="onnx", purpose="Predicting with ONNX Runtime"
    )


def _model_bytes(estimator):
    """The ONNX model of `estimator`'s network, as bytes.

    torch's TorchScript exporter writes it in well under a second, where the
    dynamo exporter of :func:`export_onnx` takes several (more than the
    prediction of thousands of particles saves); the same module is exported
    either way, and the parity check compares the result with torch. Where
    the TorchScript exporter fails (it is deprecated in torch), export_onnx
    writes the model.
    """
    clf, _ = _split(estimator)
    check_is_fitted(clf)
    _refuse_prediction_options(clf)
    wrapper, inputs, shapes = _wrap(clf)
    axes = {
        name: {axis: str(dim.__name__) for axis, dim in dims.items()}
        for name, dims in shapes.items()
    }
    buffer = io.BytesIO()
    try:
        with _quiet_export(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper, tuple(inputs.values()), buffer, input_names=list(inputs),
                output_names=["probabilities", "logits"], dynamic_axes=axes, dynamo=False,
            )
        return buffer.getvalue()
    except Exception:  # noqa: BLE001 - any failure of the old exporter: use the new one
        with tempfile.TemporaryDirectory() as directory:
            return export_onnx(estimator, Path(directory) / "model.onnx").read_bytes()


class OnnxPredictor:
    """``predict_proba`` and ``predict`` of a fitted LipNet, run by ONNX Runtime.

    The estimator's network, with its input scaling, temperature and softmax
    (what :func:`~sklipo.deployment.export_onnx` writes), is exported in
    memory and run in one ``onnxruntime.InferenceSession``. The steps before the network run in
    Python as in the estimator. The first call checks the first particles
    against the estimator's own (torch) ``predict_proba``: when any
    probability differs by more than ``1e-5``, a warning is issued and every
    call from then on uses torch.

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline
        A fitted LipNetClassifier, or a pipeline ending in one, that
        :func:`~sklipo.deployment.export_onnx` can export (no ``tta`` or
        ``logit_adjustment``).
    threads : int, default=None
        Intra-op threads of the session; None takes
        :func:`sklipo.get_threads`.

    Attributes
    ----------
    estimator : object
        The estimator, used for the steps before the network and as fallback.
    classes_ : ndarray
        The classifier's classes.
    runtime_ : str
        ``"onnx"``, or ``"torch"`` after the parity check failed.
    parity_ : float or None
        Largest difference from torch seen by the parity check; None before
        the first call.

    Raises
    ------
    ImportError
        If onnxruntime (or the exporter's onnx and onnxscript) is missing.
    TypeError, ValueError
        If `estimator` cannot be exported (see
        :func:`~sklipo.deployment.export_onnx`).
    """

    def __init__(self, estimator, *, threads=None):
        onnxruntime = _import_onnxruntime()
        self.estimator = estimator
        self._steps, self._clf = split_lipnet(estimator)
        model = _model_bytes(estimator)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(threads or get_threads() or torch.get_num_threads())
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            model, options, providers=["CPUExecutionProvider"]
        )
        self.classes_ = self._clf.classes_
        self.runtime_ = "onnx"
        self.parity_ = None
        self._last = None

    def predict_proba(self, X):
        """Return the class probabilities of particles `X`.

        Parameters
        ----------
        X : ParticleSet or array-like
            What the estimator's ``predict_proba`` takes.

        Returns
        -------
        proba : ndarray of shape (n, n_classes)
            Probabilities in the order of ``classes_``, float64.
        """
        if self._last is not None and self._last[0] is X:
            return self._last[1]
        if self.runtime_ == "torch":
            proba = self.estimator.predict_proba(X)
        elif self.parity_ is None:
            proba = self._checked(X)
        else:
            proba = self._run(X)
        # predict then predict_proba of the same particles run the network once
        self._last = (X, proba)
        return proba

    def predict(self, X):
        """Return the most probable class of each particle of `X`.

        Parameters
        ----------
        X : ParticleSet or array-like
            What the estimator's ``predict`` takes.

        Returns
        -------
        y : ndarray of shape (n,)
            Labels from ``classes_``.
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _checked(self, X):
        """Probabilities of the first call, after comparing its first batch with torch."""
        first = X[:_PARITY_BATCH]
        self.parity_ = float(np.abs(self._run(first) - self.estimator.predict_proba(first)).max())
        if not self.parity_ <= PARITY_TOLERANCE:
            warnings.warn(
                f"ONNX Runtime's probabilities differ from torch's by up to "
                f"{self.parity_:.1e} (more than {PARITY_TOLERANCE:g}) on the first "
                f"{len(first)} particles; predicting with torch instead.",
                RuntimeWarning,
                stacklevel=3,
            )
            self.runtime_ = "torch"
            return self.estimator.predict_proba(X)
        return self._run(X)

    def _run(self, X):
        for _, step in self._steps:
            if step is None or step == "passthrough" or hasattr(step, "fit_resample"):
                continue  # samplers resample at fit only
            X = step.transform(X)
        data = self._clf.network_input(X, standardize=False)
        size = self._clf.batch_size if data.sizes is not None else _BATCH_SIZE
        names = {"x": "image", "sizes": "sizes", "extra": "features"}
        proba = []
        for start in range(0, len(data), size):
            inputs, _ = data.batch(torch.arange(start, min(start + size, len(data))))
            feed = {names[key]: value.numpy() for key, value in inputs.items()}
            proba.append(self._session.run(["probabilities"], feed)[0])
        return np.concatenate(proba).astype(np.float64)


def runtime_predictor(estimator, runtime="auto", *, threads=None):
    """Return what predicts with `estimator` in the chosen runtime.

    Parameters
    ----------
    estimator : object
        A fitted estimator.
    runtime : {"auto", "torch", "onnx"}, default="auto"
        ``"torch"`` returns `estimator` itself; ``"onnx"`` an
        :class:`OnnxPredictor`, raising where it cannot be built; ``"auto"``
        an OnnxPredictor where onnxruntime is installed and the estimator is
        a LipNet that :func:`~sklipo.deployment.export_onnx` exports, else
        `estimator`.
    threads : int, default=None
        Intra-op threads of ONNX Runtime; None takes :func:`sklipo.get_threads`.

    Returns
    -------
    predictor : object
        An object with ``predict``, ``classes_`` and, where the estimator has
        it, ``predict_proba``.
    """
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}; got {runtime!r}.")
    if runtime == "torch":
        return estimator
    if runtime == "auto":
        _, clf = split_lipnet(estimator)
        if clf is None or clf.tta or clf.logit_adjustment:
            return estimator
        try:
            _import_onnxruntime()
        except ImportError:
            return estimator
        try:
            return OnnxPredictor(estimator, threads=threads)
        except (ImportError, TypeError, ValueError):
            return estimator
    return OnnxPredictor(estimator, threads=threads)
