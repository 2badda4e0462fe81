"""LipNetClassifier: the study's CNNs as a scikit-learn classifier."""

# License: BSD 3 clause

import contextlib
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.utils import noop

from sklipo._particles import _describe
from sklipo.augmentation import Augmentation
from sklipo.classifier._data import Batches, ImageData, check_fixed_images, check_variable_images
from sklipo.classifier._loss import ClassWeightedCrossEntropy
from sklipo.nets import ARCHITECTURES, HybridLipNet, HybridLipNetFCN, LipNet, LipNetFCN
from sklipo.nets._lipnet import _min_size

__all__ = ["LipNetClassifier"]

_FCN = "lipnet_fcn"
_FCN_MIN_SIZE = 8  # LipNetFCN's three blocks halve the image three times
_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


class _StratifiedSplit:
    """skorch ``train_split``: a seeded stratified validation split."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y):
        counts = np.bincount(y)
        if counts.min() < 2 or round(self.fraction * len(y)) < len(counts):
            raise ValueError(
                "early_stopping needs a stratified validation split with every class "
                f"in both parts; with {len(y)} samples, class counts "
                f"{counts.tolist()} and validation_fraction={self.fraction} that is "
                "impossible. Raise validation_fraction or set early_stopping=False."
            )
        train, valid = train_test_split(
            np.arange(len(y)), test_size=self.fraction, stratify=y, random_state=self.seed
        )
        return dataset.subset(train), dataset.subset(valid)


def _resolve_device(device):
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but torch finds no CUDA GPU here. Use device='cpu', "
            "or 'auto' to take a GPU only when there is one."
        )
    return device


@contextlib.contextmanager
def _seeded(seed, device):
    """Seed torch inside, leaving torch's global generators as they were."""
    devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class LipNetClassifier(ClassifierMixin, BaseEstimator):
    """Classify particle images with one of the study's LipNet CNNs.

    A scikit-learn classifier around a skorch ``NeuralNetClassifier``: it
    takes images, learns ``classes_`` from labels of any type, and exposes
    every training option as a constructor parameter, so ``GridSearchCV`` can
    tune the architecture alongside the rest of a pipeline.

    Training follows the study: cross-entropy with label smoothing, dropout,
    Adam or SGD, mini-batches shuffled every epoch, on-the-fly augmentation of
    training batches only, optional early stopping on a stratified validation
    split, and weight decay on the dense layers only unless asked otherwise.

    With `extra_features` it trains a two-branch network: handcrafted
    features of each particle join the network's learned features in its
    final layer (:class:`sklipo.nets.HybridLipNet`).

    Parameters
    ----------
    architecture : {"lipnet4", "lipnet1", "lipnet2", "lipnet4c", "lipnet6", \
"lipnet_fcn"}, default="lipnet4"
        The network (see :class:`sklipo.nets.LipNet`). The fixed-size ones
        need images of one size (put :class:`~sklipo.preprocessing.Resize`
        before them; the study used 28x28, 32x32 for LipNet-6);
        ``"lipnet_fcn"`` (:class:`sklipo.nets.LipNetFCN`) takes particles of
        any size, so size can inform the class.
    image_transformer : transformer, default=None
        Turns `X` into the network's images: cloned and fitted on the
        training `X` (``image_transformer_``), then applied to every `X`, for
        example ``make_pipeline(CropParticle("masked"), Resize(28))``. Use it
        with `extra_features`, which need the particles themselves (masks,
        pixel sizes) where a fixed-size network needs resized images. None
        uses `X` as the images.
    extra_features : transformer, default=None
        Features of each particle fed to the network's final layer next to
        its learned features, e.g. :class:`~sklipo.features.ParticleFeatures`:
        cloned and fitted on the training `X` (``extra_features_``), applied
        to `X` as given (not to the output of `image_transformer`),
        standardised with the training mean and standard deviation
        (``extra_mean_``, ``extra_scale_``), and trained end to end with the
        network. They are computed once per `fit` from the un-augmented
        particles: augmentation changes the images only. A non-finite value
        raises an error naming the particle and the feature. None trains on
        the images alone.
    max_epochs : int, default=30
        Training epochs (the most, with early stopping).
    batch_size : int, default=32
        Images per mini-batch, for training and prediction.
    optimizer : {"adam", "sgd"}, default="adam"
        The optimiser.
    lr : float, default=1e-3
        Learning rate.
    momentum : float, default=0.9
        Momentum of SGD; unused by Adam.
    dropout : float, default=0.25
        Dropout rate after every conv block (and the hidden dense layer).
    label_smoothing : float, default=0.1
        Smoothing ``eps`` of the targets: ``eps / k`` for wrong classes and
        ``1 - (k - 1) eps / k`` for the right one, with ``k`` classes.
    weight_decay : float, default=0.0
        L2 penalty of the dense (head) weights.
    decay_conv : bool, default=False
        Also decay the convolution weights. Off by default: in the study,
        decay on conv layers killed filters.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss: a ``{label: weight}`` dict,
        "balanced" for weights inversely proportional to class frequencies, or
        None for equal weights. Each sample's (smoothed) loss is weighted by
        its class, as in scikit-learn; unlike
        ``torch.nn.CrossEntropyLoss(weight=...)``, whose smoothing term
        would pull every sample towards the heavily weighted rare classes.
    augment : "study", Augmentation or None, default="study"
        Augmentation of training batches: the study's preset, an
        :class:`~sklipo.augmentation.Augmentation` with your ranges, or None.
    early_stopping : bool, default=False
        Hold out a stratified `validation_fraction` of the training data, stop
        when its loss has not improved for `patience` epochs, and keep the
        weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
    patience : int, default=10
        Epochs without improvement before early stopping.
    undersample_majority : float, default=None
        Leave out this fraction of the majority class from every training
        epoch, a fresh random draw each epoch (the study used 0.2). None
        keeps all samples.
    balanced_batches : bool, default=False
        Draw each epoch's ``n`` training samples with replacement so that
        every class is equally likely (oversampling without copying data).
        Cannot be combined with `undersample_majority`.
    standardize : bool, default=True
        Subtract the per-channel mean and divide by the standard deviation of
        the training pixels (``mean_``, ``scale_``), at fit and prediction, so
        8-bit, 16-bit and float images of any contrast train alike.
    warm_start : bool, default=False
        When fitted already, continue training the same network for
        `max_epochs` more epochs instead of starting afresh. Classes, image
        shape and the architecture must stay the same; the fitted
        ``image_transformer_``, ``extra_features_`` and standardisation are
        kept.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where the network runs; "auto" picks CUDA when torch finds a GPU;
        "cuda:1" picks a GPU.
    verbose : int, default=0
        0 is silent; 1 prints skorch's table of losses per epoch; 2 also
        shows a progress bar over each epoch's batches.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling, resampling,
        augmentation and the validation split. The same int gives identical
        predictions from two fits on the CPU. torch's global generator is
        never reseeded: training runs in a forked generator state.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_channels_in_ : int
        Channels of the training images.
    input_shape_ : tuple of int or None
        Height and width of the training images; None for ``"lipnet_fcn"``.
    mean_ : ndarray of shape (n_channels,)
        Per-channel pixel mean of the training images (0 without
        standardisation).
    scale_ : ndarray of shape (n_channels,)
        Per-channel pixel standard deviation (1 without standardisation).
    image_transformer_ : transformer or None
        The fitted clone of `image_transformer`; None without one.
    extra_features_ : transformer or None
        The fitted clone of `extra_features`; None without one.
    extra_mean_ : ndarray of shape (n_extra,) or None
        Mean of each extra feature over the training particles; None without
        `extra_features`.
    extra_scale_ : ndarray of shape (n_extra,) or None
        Standard deviation of each extra feature (1 for a constant one); None
        without `extra_features`.
    class_weight_ : ndarray of shape (n_classes,) or None
        The loss weight of each class.
    device_ : str
        The device used.
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch record.
    n_epochs_ : int
        Epochs trained (fewer than `max_epochs` after early stopping).

    See Also
    --------
    sklipo.nets.LipNet : The fixed-size networks.
    sklipo.nets.LipNetFCN : The fully convolutional network.
    sklipo.nets.HybridLipNet : The two-branch network behind `extra_features`.
    sklipo.classifier.LipNetEmbedding : A trained network's features for
        another estimator.
    sklipo.augmentation.Augmentation : The augmentation.

    Notes
    -----
    Batches are cut from one standardised float32 tensor by slicing rather
    than assembled sample by sample, which keeps skorch's overhead small. The
    fully convolutional network pads each batch to its largest image (images
    in the top-left corner, their sizes passed along as a mask), so images of
    any size mix in one batch. Extra features travel as a second tensor,
    sliced with the images.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(40, 1, 28, 28).astype(np.float32)
    >>> y = np.repeat(["a", "b"], 20)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "architecture": [StrOptions(set(ARCHITECTURES) | {_FCN})],
        "image_transformer": [HasMethods(["fit", "transform"]), None],
        "extra_features": [HasMethods(["fit", "transform"]), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS))],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "decay_conv": ["boolean"],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "augment": [StrOptions({"study"}), Augmentation, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "undersample_majority": [Interval(Real, 0, 1, closed="neither"), None],
        "balanced_batches": ["boolean"],
        "standardize": ["boolean"],
        "warm_start": ["boolean"],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        architecture="lipnet4",
        *,
        image_transformer=None,
        extra_features=None,
        max_epochs=30,
        batch_size=32,
        optimizer="adam",
        lr=1e-3,
        momentum=0.9,
        dropout=0.25,
        label_smoothing=0.1,
        weight_decay=0.0,
        decay_conv=False,
        class_weight=None,
        augment="study",
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        undersample_majority=None,
        balanced_batches=False,
        standardize=True,
        warm_start=False,
        device="cpu",
        verbose=0,
        random_state=None,
    ):
        self.architecture = architecture
        self.image_transformer = image_transformer
        self.extra_features = extra_features
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.dropout = dropout
        self.label_smoothing = label_smoothing
        self.weight_decay = weight_decay
        self.decay_conv = decay_conv
        self.class_weight = class_weight
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.undersample_majority = undersample_majority
        self.balanced_batches = balanced_batches
        self.standardize = standardize
        self.warm_start = warm_start
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # -- input ---------------------------------------------------------------

    def _images(self, X, *, reset, y=None):
        """Return the network's images of `X` as standardised float32 torch data.

        `X` goes through the image transformer (cloned and fitted here when
        `reset`), then is checked and standardised.
        """
        if reset:
            self.image_transformer_ = (
                None if self.image_transformer is None else clone(self.image_transformer)
            )
            if self.image_transformer_ is not None:
                X = self.image_transformer_.fit_transform(X, y)
        elif self.image_transformer_ is not None:
            X = self.image_transformer_.transform(X)
        fcn = self.architecture == _FCN
        arrays = check_variable_images(X) if fcn else check_fixed_images(X)
        first = arrays[0]
        if reset:
            self.n_channels_in_ = int(first.shape[0])
            self.input_shape_ = None if fcn else tuple(int(s) for s in first.shape[1:])
            self._check_size(arrays)
            self._fit_scaling(arrays)
        else:
            self._check_like_training(arrays)
        mean = self.mean_.astype(np.float32)[:, None, None]
        scale = self.scale_.astype(np.float32)[:, None, None]
        if fcn:
            return [torch.from_numpy((a - mean) / scale) for a in arrays]
        return torch.from_numpy((arrays - mean[None]) / scale[None])

    def _check_size(self, arrays):
        if self.architecture == _FCN:
            sizes = np.array([a.shape[1:] for a in arrays])
            small = np.flatnonzero(sizes.min(axis=1) < _FCN_MIN_SIZE)
            if small.size:
                raise ValueError(
                    f"lipnet_fcn needs images of at least {_FCN_MIN_SIZE}x{_FCN_MIN_SIZE} "
                    f"pixels; particle {small[0]} is {tuple(sizes[small[0]].tolist())}."
                )
        elif min(self.input_shape_) < _min_size(self.architecture):
            smallest = _min_size(self.architecture)
            raise ValueError(
                f"{self.architecture} needs images of at least {smallest}x{smallest} "
                f"pixels; got {self.input_shape_[0]}x{self.input_shape_[1]}. Resize the "
                "particles (e.g. sklipo.preprocessing.Resize(28)) first."
            )

    def _fit_scaling(self, arrays):
        n_channels = self.n_channels_in_
        if not self.standardize:
            self.mean_, self.scale_ = np.zeros(n_channels), np.ones(n_channels)
            return
        if isinstance(arrays, np.ndarray):
            pixels = arrays.transpose(1, 0, 2, 3).reshape(n_channels, -1)
        else:
            pixels = np.concatenate([a.reshape(n_channels, -1) for a in arrays], axis=1)
        self.mean_ = pixels.mean(axis=1, dtype=np.float64)
        scale = pixels.std(axis=1, dtype=np.float64)
        self.scale_ = np.where(scale > 0, scale, 1.0)

    def _check_like_training(self, arrays):
        channels = int(arrays[0].shape[0])
        if self.architecture == _FCN:
            if channels != self.n_channels_in_:
                raise ValueError(
                    f"{type(self).__name__} was fitted on images with "
                    f"{self.n_channels_in_} channel(s); got {channels}."
                )
            return
        shape = tuple(int(s) for s in arrays.shape[1:])
        expected = (self.n_channels_in_, *self.input_shape_)
        if shape != expected:
            raise ValueError(
                f"{type(self).__name__} was fitted on images of shape {expected} "
                f"(channels, height, width); got {shape}. Preprocess new images "
                "exactly as the training images (same Resize)."
            )

    def _extra(self, X, n_samples, *, reset, y=None):
        """Return the standardised extra features of `X` (float32), or None."""
        if reset:
            self.extra_features_ = (
                None if self.extra_features is None else clone(self.extra_features)
            )
            self.extra_mean_ = self.extra_scale_ = None
        if self.extra_features_ is None:
            return None
        if reset:
            features = self.extra_features_.fit_transform(X, y)
        else:
            features = self.extra_features_.transform(X)
        features = self._check_extra(features, X, n_samples)
        if reset:
            self.extra_mean_ = features.mean(axis=0)
            # a constant feature is centred, not blown up
            self.extra_scale_ = np.where(np.ptp(features, axis=0) > 0, features.std(axis=0), 1.0)
        elif features.shape[1] != len(self.extra_mean_):
            raise ValueError(
                f"extra_features returned {features.shape[1]} feature(s), but "
                f"{type(self).__name__} was fitted with {len(self.extra_mean_)}."
            )
        features = (features - self.extra_mean_) / self.extra_scale_
        return torch.from_numpy(features.astype(np.float32))

    def _check_extra(self, features, X, n_samples):
        """The extra features as a finite float64 (n_samples, k) array."""
        name = type(self.extra_features_).__name__
        if sp.issparse(features):
            features = features.toarray()
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[0] != n_samples or not features.shape[1]:
            raise ValueError(
                f"extra_features must return a 2-D array with one row per particle "
                f"({n_samples}) and at least one column; {name} returned shape "
                f"{features.shape}."
            )
        if not (np.issubdtype(features.dtype, np.number) or features.dtype == bool):
            raise TypeError(
                f"extra_features must return numbers; {name} returned dtype {features.dtype}."
            )
        features = features.astype(np.float64)
        bad = ~np.isfinite(features)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise ValueError(
                f"extra_features ({name}) returned {features[row, column]} for "
                f"{_describe(getattr(X, 'ids', None), row)} in column {column}"
                f"{self._extra_name(column)}; the network needs finite features "
                f"({int(bad.any(axis=1).sum())} particle(s) affected). Drop those "
                "particles or leave that feature out."
            )
        return features

    def _extra_name(self, column):
        """`` ('name')`` of an extra feature column, when the transformer names it."""
        try:
            names = self.extra_features_.get_feature_names_out()
        except (AttributeError, ValueError, TypeError):
            return ""
        return f" ({str(names[column])!r})" if column < len(names) else ""

    def _targets(self, y, n_samples):
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        check_classification_targets(y)
        if y.dtype.kind == "f" and np.isnan(y).any():
            raise ValueError("Input y contains NaN; drop or label those particles.")
        return y

    # -- training ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the network on images `X` with labels `y`.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or ParticleSet
            The images: a stack (any integer or float dtype) or a ParticleSet.
            Fixed-size architectures need images of one size; ``"lipnet_fcn"``
            takes a ParticleSet of any sizes.
        y : array-like of shape (n,)
            Class labels, of any type.

        Returns
        -------
        self : LipNetClassifier
            The fitted classifier.
        """
        if self.undersample_majority is not None and self.balanced_batches:
            raise ValueError(
                "undersample_majority and balanced_batches are two ways of resampling "
                "each epoch; set at most one of them."
            )
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        if self.warm_start and hasattr(self, "net_"):
            return self._continue(X, y)
        images = self._images(X, reset=True, y=y)
        y = self._targets(y, len(images))
        extra = self._extra(X, len(images), reset=True, y=y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                "LipNetClassifier needs samples of at least 2 classes; got 1 class "
                f"({self.classes_.tolist()[0]!r})."
            )
        self.class_weight_ = self._class_weights(y)
        self.device_ = _resolve_device(self.device)
        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        self.net_ = self._build_net()
        self.n_epochs_ = 0
        with _seeded(self._seed, self.device_):
            self.net_.initialize()
            self._train(ImageData(images, codes, extra=extra), codes)
        return self

    def _continue(self, X, y):
        images = self._images(X, reset=False)
        y = self._targets(y, len(images))
        extra = self._extra(X, len(images), reset=False)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"warm_start fit got labels not seen in the first fit: {unseen.tolist()}; "
                f"the classes are {self.classes_.tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        with _seeded(self._seed + self.n_epochs_, self.device_):
            self._train(ImageData(images, codes, extra=extra), codes)
        return self

    def _train(self, dataset, codes):
        # a new seed per call, so warm starts do not replay the first epochs
        self.net_.iterator_train__seed = self._seed + self.n_epochs_
        self.net_.partial_fit(dataset, codes)
        self.n_epochs_ = len(self.net_.history)

    def _class_weights(self, y):
        if self.class_weight is None:
            return None
        if isinstance(self.class_weight, dict):
            missing = [c for c in self.classes_.tolist() if c not in self.class_weight]
            if missing:
                raise ValueError(
                    f"`class_weight` must give a weight for every class; missing "
                    f"{missing}."
                )
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y)

    def _build_net(self):
        n_classes = len(self.classes_)
        hybrid = self.extra_features_ is not None
        if self.architecture == _FCN:
            module, module_params = (HybridLipNetFCN if hybrid else LipNetFCN), {}
        else:
            module = HybridLipNet if hybrid else LipNet
            module_params = {"architecture": self.architecture, "input_shape": self.input_shape_}
        module_params.update(n_channels=self.n_channels_in_, n_classes=n_classes, dropout=self.dropout)
        if hybrid:
            module_params["n_extra"] = len(self.extra_mean_)
        optimizer_params = {}
        if self.optimizer == "sgd":
            optimizer_params["momentum"] = self.momentum
        if self.weight_decay:
            # dense layers live in "head" (a hybrid's image branch has its own)
            pattern = "*weight" if self.decay_conv else "*head.*weight"
            optimizer_params["param_groups"] = [(pattern, {"weight_decay": self.weight_decay})]
        augment = Augmentation() if self.augment == "study" else self.augment
        weight = None if self.class_weight_ is None else torch.tensor(self.class_weight_, dtype=torch.float32)
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                EarlyStopping(
                    patience=self.patience, load_best=True, sink=print if self.verbose else noop
                )
            )
        if self.verbose >= 2:
            callbacks.append(ProgressBar())
        return NeuralNetClassifier(
            module,
            criterion=ClassWeightedCrossEntropy,
            criterion__weight=weight,
            criterion__label_smoothing=self.label_smoothing,
            optimizer=_OPTIMIZERS[self.optimizer],
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=Batches,
            iterator_train__training=True,
            iterator_train__augment=augment,
            iterator_train__n_classes=n_classes,
            iterator_train__undersample_majority=self.undersample_majority,
            iterator_train__balanced=self.balanced_batches,
            iterator_train__device=self.device_,
            iterator_valid=Batches,
            iterator_valid__device=self.device_,
            train_split=(
                _StratifiedSplit(self.validation_fraction, self._seed)
                if self.early_stopping
                else None
            ),
            callbacks=callbacks,
            callbacks__valid_acc=None,
            classes=list(range(n_classes)),
            device=self.device_,
            verbose=self.verbose,
            **{f"module__{key}": value for key, value in module_params.items()},
            **{f"optimizer__{key}": value for key, value in optimizer_params.items()},
        )

    # -- prediction ----------------------------------------------------------

    def predict_proba(self, X):
        """Return the class probabilities of images `X`.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or ParticleSet
            Images prepared like the training images.

        Returns
        -------
        proba : ndarray of shape (n, n_classes)
            Probabilities in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self)
        images = self._images(X, reset=False)
        data = ImageData(images, extra=self._extra(X, len(images), reset=False))
        return self.net_.predict_proba(data).astype(np.float64)

    def _embed(self, X):
        """The penultimate activations of `X`, batched, in eval mode, without grad.

        For a two-branch network, the learned image features only.
        """
        check_is_fitted(self)
        module = self.net_.module_
        data = ImageData(self._images(X, reset=False))
        batches = Batches(data, self.batch_size, device=self.device_)
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                parts = [
                    module.embed(**batch) if isinstance(batch, dict) else module.embed(batch)
                    for batch, _ in batches
                ]
        finally:
            module.train(training)
        return torch.cat(parts).cpu().numpy().astype(np.float64)

    def predict(self, X):
        """Return the most probable class of each image.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or ParticleSet
            Images prepared like the training images.

        Returns
        -------
        y : ndarray of shape (n,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]
