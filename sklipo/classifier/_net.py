"""The skorch net behind LipNetClassifier: module, loss, optimiser, iterators, callbacks."""

# License: BSD 3 clause

import contextlib
import functools
import numbers
import re

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_class_weight
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.dataset import unpack_data
from skorch.utils import noop, to_device

from sklipo.augmentation import Augmentation
from sklipo.classifier._calibration import needs_split
from sklipo.classifier._data import Batches
from sklipo.classifier._loss import ClassWeightedCrossEntropy
from sklipo.classifier._parallel import n_threads, split_step, splits_batches, workers
from sklipo.nets import HybridLipNet, LipNet, LipNetFCN

__all__ = []

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
#: The values of LipNetClassifier's `precision` parameter.
PRECISIONS = ("auto", "float32", "bfloat16")

@functools.cache
def _fused_optimizer(name, device_type):
    """Whether torch offers the fused (one-kernel) optimiser `name` on a device type."""
    # One kernel for all parameters instead of a Python loop over them: on
    # LipNet-4 the for-loop Adam took a quarter of each CPU training step.
    try:
        parameter = torch.nn.Parameter(torch.zeros(1, device=device_type))
        OPTIMIZERS[name]([parameter], lr=0.1, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


class _LipNetNet(NeuralNetClassifier):
    """skorch's classifier with channels-last convolutions, lean inference, split batches.

    The module's 4-D weights are stored channels-last (NHWC), so oneDNN runs
    its direct NHWC convolutions without reordering every activation; and
    prediction runs under :func:`torch.inference_mode`, which skips autograd's
    version counters as well as the graph. On a CPU with several threads,
    each training batch is split over Python threads running one torch
    thread each, and prediction batches are computed side by side (see
    :mod:`sklipo.classifier._parallel`).
    """

    # the threads of the running fit (workers of _parallel); None outside fits
    _workers = None
    # the dtype of training's forward pass under torch.autocast; None: float32
    autocast_dtype = None

    def initialize_module(self):
        super().initialize_module()
        self.module_.to(memory_format=torch.channels_last)
        return self

    # skorch's partial_fit catches every KeyboardInterrupt (EarlyStopping
    # stops training by raising one) and returns the half-trained net. A
    # Ctrl-C must stop the run instead: a truncated fit is never a result.
    def fit_loop(self, X, y=None, **fit_params):
        try:
            with workers(n_threads(self)) as threads:
                self._workers = threads if splits_batches(self) else None
                return super().fit_loop(X, y, **fit_params)
        except KeyboardInterrupt:
            if not self._stopped_early():
                self.interrupted_ = True
            raise
        finally:
            self._workers = None

    def train_step_single(self, batch, **fit_params):
        Xi, yi = unpack_data(batch)
        threads = self._workers
        if threads is not None and isinstance(Xi, dict) and not fit_params:
            self._set_training(True)
            return split_step(self, threads, Xi, yi)
        return super().train_step_single(batch, **fit_params)

    def infer(self, x, **fit_params):
        # training's forward pass in `autocast_dtype`, the loss in float32;
        # autocast is per thread, so each thread of a split step enters it
        if self.autocast_dtype is None or not self.module_.training:
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype):
            logits = super().infer(x, **fit_params)
        return logits.float()

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        self.interrupted_ = False
        super().partial_fit(X, y, classes, **fit_params)
        if self.interrupted_:
            raise KeyboardInterrupt("training was interrupted; the network is not fitted")
        return self

    def _stopped_early(self):
        return any(
            isinstance(callback, EarlyStopping)
            and getattr(callback, "misses_", 0) >= callback.patience
            for _, callback in self.callbacks_ or ()
        )

    def evaluation_step(self, batch, training=False):
        if training:
            return super().evaluation_step(batch, training=True)
        self.check_is_fitted()
        Xi, _ = unpack_data(batch)
        self._set_training(False)
        with torch.inference_mode():
            return self.infer(Xi)

    def forward_iter(self, X, training=False, device="cpu"):
        iterator = self.get_iterator(self.get_dataset(X), training=training)
        if training or len(iterator) < 2:
            yield from super().forward_iter(X, training=training, device=device)
            return
        # n batches at a time, one per thread; all computed before the first
        # output is yielded, so torch's thread setting is back when the
        # caller's code runs (a fit's callbacks predict on the fit's threads)
        with contextlib.ExitStack() as stack:
            threads = self._workers or stack.enter_context(workers(n_threads(self)))
            self._set_training(False)
            outputs = list(threads.map(self.evaluation_step, iterator))
        for output in outputs:
            yield to_device(output, device=device)


class _StratifiedSplit:
    """skorch ``train_split``: a seeded stratified validation split."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y):
        train, valid = self.indices(y)
        return dataset.subset(train), dataset.subset(valid)

    def indices(self, y):
        """The training and validation positions of class codes `y`."""
        counts = np.bincount(y)
        if counts.min() < 2 or round(self.fraction * len(y)) < len(counts):
            raise ValueError(
                "early_stopping and calibration need a stratified validation split "
                f"with every class in both parts; with {len(y)} samples, class counts "
                f"{counts.tolist()} and validation_fraction={self.fraction} that is "
                "impossible. Raise validation_fraction, or set early_stopping=False "
                "and calibration=None."
            )
        return train_test_split(
            np.arange(len(y)), test_size=self.fraction, stratify=y, random_state=self.seed
        )


_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


def resolve_device(device):
    """The torch device for the `device` parameter ("auto" picks CUDA when there is one)."""
    if not _DEVICE.fullmatch(device):
        raise ValueError(
            "device must be 'auto', 'cpu', 'cuda', 'cuda:<index>' (such as 'cuda:0') "
            f"or 'mps'; got {device!r}."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but torch finds no CUDA GPU here. Use device='cpu', "
            "or 'auto' to take a GPU only when there is one."
        )
    if device.startswith("cuda:") and int(device[5:]) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} but torch finds {torch.cuda.device_count()} CUDA GPU(s), "
            "numbered from 0."
        )
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            "device='mps' but torch finds no Apple GPU here. Use device='cpu', or "
            "'auto' to take a GPU only when there is one."
        )
    return device


def resolve_precision(precision, device):
    """The number format of training for the `precision` parameter on `device`."""
    if precision != "auto":
        return precision
    native = torch.device(device).type == "cpu" and _native_bfloat16()
    return "bfloat16" if native else "float32"


@functools.cache
def _native_bfloat16():
    """Whether oneDNN computes bfloat16 natively on this CPU (AVX-512 BF16 or AMX)."""
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


@contextlib.contextmanager
def seeded(seed, device):
    """Seed torch inside, leaving torch's global generators as they were."""
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def class_weights(class_weight, classes, y):
    """The loss weight of each class for the `class_weight` parameter, or None."""
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        missing = [c for c in classes.tolist() if c not in class_weight]
        if missing:
            raise ValueError(
                f"`class_weight` must give a weight for every class; missing {missing}."
            )
        # NaN or negative weights train without an error but predict NaN
        # probabilities and one class; all-zero weights make the loss 0/0.
        bad = {
            label: weight
            for label, weight in class_weight.items()
            if isinstance(weight, bool)
            or not isinstance(weight, numbers.Real)
            or not (0 <= weight < np.inf)
        }
        if bad:
            raise ValueError(
                "`class_weight` must map each class to a finite weight >= 0; got "
                f"{bad}."
            )
        if not any(class_weight[c] > 0 for c in classes.tolist()):
            raise ValueError(
                "`class_weight` must give at least one class a positive weight; got "
                f"{class_weight}."
            )
    return compute_class_weight(class_weight, classes=classes, y=y)


def _module_params(clf, n_classes):
    """The network class and its parameters for a fitted classifier's input."""
    params = {"n_channels": clf.n_channels_in_, "n_classes": n_classes, "dropout": clf.dropout}
    fcn = clf.input_shape_ is None
    if not fcn:
        params["input_shape"] = clf.input_shape_
    if clf.extra_scaler_ is not None:
        return HybridLipNet, {
            "image_net": clf.architecture, "n_extra": clf.extra_scaler_.n_features_in_, **params
        }
    if fcn:
        return LipNetFCN, params
    return LipNet, {"architecture": clf.architecture, **params}


def _fresh_callbacks(callbacks):
    """Clones of the `callbacks` parameter's skorch callbacks, for one fit.

    The parameter keeps its own objects untouched (skorch would store each
    fit's state, such as ``EarlyStopping.misses_``, on them). They come
    before the built-in early stopping, so each sees every epoch, the one
    that stops training included.
    """
    return [
        (item[0], clone(item[1])) if isinstance(item, tuple) else clone(item)
        for item in callbacks or ()
    ]


def build_net(clf, seed):
    """Return the (uninitialised) skorch net that trains `clf`'s network.

    Parameters
    ----------
    clf : LipNetClassifier
        The classifier, with its input handling and ``classes_``,
        ``class_weight_`` and ``device_`` fitted.
    seed : int
        Seed of the early-stopping validation split.

    Returns
    -------
    net : skorch.NeuralNetClassifier
    """
    n_classes = len(clf.classes_)
    module, module_params = _module_params(clf, n_classes)
    optimizer_params = {}
    if _fused_optimizer(clf.optimizer, torch.device(clf.device_).type):
        optimizer_params["fused"] = True
    if clf.optimizer == "sgd":
        optimizer_params["momentum"] = clf.momentum
    if clf.weight_decay:
        # dense layers live in "head" (a hybrid's image branch has its own)
        pattern = "*weight" if clf.decay_conv else "*head.*weight"
        optimizer_params["param_groups"] = [(pattern, {"weight_decay": clf.weight_decay})]
    augment = Augmentation() if clf.augment == "study" else clf.augment
    weight = (
        None if clf.class_weight_ is None else torch.tensor(clf.class_weight_, dtype=torch.float32)
    )
    callbacks = _fresh_callbacks(clf.callbacks)
    if clf.early_stopping:
        sink = print if clf.verbose else noop
        callbacks.append(EarlyStopping(patience=clf.patience, load_best=True, sink=sink))
    if clf.verbose >= 2:
        callbacks.append(ProgressBar())
    net = _LipNetNet(
        module,
        criterion=ClassWeightedCrossEntropy,
        criterion__weight=weight,
        criterion__label_smoothing=clf.label_smoothing,
        optimizer=OPTIMIZERS[clf.optimizer],
        lr=clf.lr,
        max_epochs=clf.max_epochs,
        batch_size=clf.batch_size,
        iterator_train=Batches,
        iterator_train__training=True,
        iterator_train__augment=augment,
        iterator_train__n_classes=n_classes,
        iterator_train__undersample_majority=clf.undersample_majority,
        iterator_train__balanced=clf.balanced_batches,
        iterator_train__device=clf.device_,
        iterator_valid=Batches,
        iterator_valid__device=clf.device_,
        train_split=_StratifiedSplit(clf.validation_fraction, seed) if needs_split(clf) else None,
        callbacks=callbacks,
        callbacks__valid_acc=None,
        classes=list(range(n_classes)),
        device=clf.device_,
        verbose=clf.verbose,
        **{f"module__{key}": value for key, value in module_params.items()},
        **{f"optimizer__{key}": value for key, value in optimizer_params.items()},
    )
    net.autocast_dtype = torch.bfloat16 if clf.precision_ == "bfloat16" else None
    return net
