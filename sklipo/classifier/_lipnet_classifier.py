"""LipNetClassifier: the study's CNNs as a scikit-learn classifier."""

# License: BSD 3 clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from sklipo.augmentation import Augmentation
from sklipo.classifier._calibration import CALIBRATIONS, fit_calibration, temperature
from sklipo.classifier._data import ImageData
from sklipo.classifier._input import (
    _NetworkInputMixin,
    check_fit_request,
    check_n_classes,
    check_targets,
)
from sklipo.classifier._loss import LOSSES, class_prior, training_offset
from sklipo.classifier._net import (
    OPTIMIZERS,
    PRECISIONS,
    build_net,
    class_weights,
    resolve_device,
    resolve_precision,
    seeded,
)
from sklipo.classifier._tta import TTA_TRANSFORMS, predict_proba
from sklipo.nets import ARCHITECTURES

__all__ = ["LipNetClassifier"]


# The constraints of every parameter, checked by scikit-learn at fit.
_PARAMETER_CONSTRAINTS = {
    "architecture": [StrOptions(set(ARCHITECTURES))],
    "image_transformer": [HasMethods(["fit", "transform"]), None],
    "extra_features": [HasMethods(["fit", "transform"]), None],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "label_smoothing": [Interval(Real, 0, 1, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "decay_conv": ["boolean"],
    "class_weight": [StrOptions({"balanced"}), dict, None],
    "loss": [StrOptions(set(LOSSES))],
    "loss_tau": [Interval(Real, 0, None, closed="left")],
    "logit_adjustment": [Interval(Real, 0, None, closed="left"), None],
    "augment": [StrOptions({"study"}), Augmentation, None],
    "tta": [StrOptions(set(TTA_TRANSFORMS)), None],
    "calibration": [StrOptions(set(CALIBRATIONS)), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "patience": [Interval(Integral, 1, None, closed="left")],
    "undersample_majority": [Interval(Real, 0, 1, closed="neither"), None],
    "balanced_batches": ["boolean"],
    "standardize": ["boolean"],
    "warm_start": ["boolean"],
    "device": [str],
    "precision": [StrOptions(set(PRECISIONS))],
    "verbose": ["verbose"],
    "callbacks": [list, None],
    "random_state": ["random_state"],
}


class LipNetClassifier(ClassifierMixin, _NetworkInputMixin, BaseEstimator):
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
        (``extra_scaler_``), and trained end to end with the
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
    loss : {"cross_entropy", "logit_adjusted", "balanced_softmax"}, \
default="cross_entropy"
        ``"logit_adjusted"`` (Menon et al., ICLR 2021) trains on ``logits +
        loss_tau * log(class_prior_)``, asking rare classes for larger
        margins; ``"balanced_softmax"`` (Ren et al., NeurIPS 2020) is that
        with ``loss_tau=1``. Composes with label smoothing and class weights.
    loss_tau : float, default=1.0
        Strength of the ``"logit_adjusted"`` loss.
    logit_adjustment : float, default=None
        Post-hoc: ``predict_proba`` is the softmax of ``logits -
        logit_adjustment * log(class_prior_)`` (tune it with ``set_params``,
        no refit; 1 in theory, with label_smoothing=0). None: no shift.
    augment : "study", Augmentation or None, default="study"
        Augmentation of training batches: the study's preset, an
        :class:`~sklipo.augmentation.Augmentation` with your ranges, or None.
    tta : {"dihedral", "flips"} or None, default=None
        Test-time augmentation: ``predict_proba`` averages over each particle
        turned by 90° steps and flipped (8 transforms; particles have no up),
        or flipped only (4, which keep a non-square shape). None: no TTA.
    calibration : "temperature" or None, default=None
        ``"temperature"``: fit ``temperature_`` on a held-out stratified
        `validation_fraction` (the early-stopping split; the network trains
        without it); ``predict_proba`` is ``softmax(logits / T)``, same argmax.
        Off by default: on lamellarity (LipNet-4, 8 epochs, 3 seeds) ECE fell
        from 0.050 to 0.021 but balanced accuracy from 0.70 to 0.64, the
        network losing a tenth of its data; and tiny sets cannot be split.
    early_stopping : bool, default=False
        Hold out a stratified `validation_fraction` of the training data, stop
        when its loss has not improved for `patience` epochs, and keep the
        weights of the best epoch.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping and `calibration`.
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
    precision : {"auto", "float32", "bfloat16"}, default="auto"
        The number format of training's forward pass. "bfloat16" runs it
        under ``torch.autocast`` (mixed precision: the weights, their
        gradients and the optimiser stay float32); "auto" does so on a CPU
        with native bfloat16 instructions (AVX-512 BF16 or AMX), where it
        trained LipNet-4 1.4 times as fast at the same balanced accuracy,
        and trains in float32 elsewhere. Prediction is always float32.
    verbose : int, default=0
        0 is silent; 1 prints skorch's table of losses per epoch; 2 also
        shows a progress bar over each epoch's batches.
    callbacks : list of skorch callbacks, default=None
        More skorch ``Callback`` objects (or ``(name, callback)`` pairs), such
        as ``EpochScoring``; each `fit` runs clones, leaving the list as given.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling, resampling,
        augmentation and the validation split. The same int gives identical
        predictions from two fits on the CPU with the same number of threads
        (:func:`sklipo.threads`). torch's global generator is
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
        standardisation). A stored set of more than 4,096 particles is
        streamed from its store, and ``mean_``, ``scale_`` and
        ``image_transformer_`` are then fitted on a fixed, seeded sample of
        whole stored blocks (about 8,192 particles; the whole set when it
        is smaller), not on a full pass: see the "Bigger data" guide.
    scale_ : ndarray of shape (n_channels,)
        Per-channel pixel standard deviation (1 without standardisation).
    image_transformer_ : transformer or None
        The fitted clone of `image_transformer`; None without one.
    extra_features_ : transformer or None
        The fitted clone of `extra_features`; None without one.
    extra_scaler_ : sklearn.preprocessing.StandardScaler or None
        The extra features' scaling, fitted on the training particles
        (``mean_``, ``scale_``: 1 for a constant feature); None without
        `extra_features`.
    class_weight_ : ndarray of shape (n_classes,) or None
        The loss weight of each class.
    class_prior_ : ndarray of shape (n_classes,)
        The class frequencies of the training labels.
    device_ : str
        The device used.
    precision_ : str
        The number format training used, "float32" or "bfloat16".
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch module and
        ``net_.history`` the per-epoch record.
    n_epochs_ : int
        Epochs trained (fewer than `max_epochs` after early stopping).
    temperature_ : float
        The logits' divisor in ``predict_proba``; 1.0 without `calibration`.

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
    :meth:`network_input` gives what the network receives, :meth:`embed` its
    learned features. Batches are cut from one standardised float32 tensor by
    slicing rather than assembled sample by sample, which keeps skorch's
    overhead small. The fully convolutional network pads each batch to its
    largest image (images in the top-left corner, their sizes passed along
    as a mask), so images of any size mix in one batch. Extra features travel
    as a second tensor, sliced with the images. On a CPU with ``k >= 2``
    threads (:func:`sklipo.threads`), each training batch is split into ``k``
    parts computed side by side, one torch thread each, and their gradients
    summed for one step; prediction and :meth:`embed` run ``k`` batches side
    by side (see the "Performance" guide).

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

    _parameter_constraints = _PARAMETER_CONSTRAINTS

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
        loss="cross_entropy",
        loss_tau=1.0,
        logit_adjustment=None,
        augment="study",
        tta=None,
        calibration=None,
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        undersample_majority=None,
        balanced_batches=False,
        standardize=True,
        warm_start=False,
        device="cpu",
        precision="auto",
        verbose=0,
        callbacks=None,
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
        self.loss = loss
        self.loss_tau = loss_tau
        self.logit_adjustment = logit_adjustment
        self.augment = augment
        self.tta = tta
        self.calibration = calibration
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.undersample_majority = undersample_majority
        self.balanced_batches = balanced_batches
        self.standardize = standardize
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.verbose = verbose
        self.callbacks = callbacks
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

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
        check_fit_request(self, y)
        device = resolve_device(self.device)  # a bad device is refused before any work
        if self.warm_start and hasattr(self, "net_"):
            return self._continue(X, y)
        images = self._fit_images(X, y)
        y = check_targets(y, len(images))
        extra = self._fit_extra(X, y, len(images))
        self.classes_, codes = np.unique(y, return_inverse=True)
        check_n_classes(self.classes_)
        self.class_weight_ = class_weights(self.class_weight, self.classes_, y)
        self.class_prior_ = class_prior(codes, len(self.classes_))
        self.device_ = device
        self.precision_ = resolve_precision(self.precision, device)
        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        self.net_ = build_net(self, self._seed).set_params(
            criterion__logit_offset=training_offset(self.loss, self.loss_tau, self.class_prior_)
        )
        self.n_epochs_ = 0
        with seeded(self._seed, self.device_):
            self.net_.initialize()
            self._train(ImageData(images, codes, extra=extra), codes)
        return self

    def _continue(self, X, y):
        data = self.network_input(X)
        y = check_targets(y, len(data))
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"warm_start fit got labels not seen in the first fit: {unseen.tolist()}; "
                f"the classes are {self.classes_.tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        with seeded(self._seed + self.n_epochs_, self.device_):
            self._train(ImageData(data.X, codes, extra=data.extra), codes)
        return self

    def _train(self, dataset, codes):
        # a new seed per call, so warm starts do not replay the first epochs
        self.net_.iterator_train__seed = self._seed + self.n_epochs_
        self.net_.partial_fit(dataset, codes)
        self.n_epochs_ = len(self.net_.history)
        self.temperature_ = fit_calibration(self, dataset, codes)

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
            Probabilities in the order of ``classes_``; rows sum to 1. With
            `tta`, the mean over the transforms; with `logit_adjustment`,
            adjusted towards rare classes.
        """
        data = self.network_input(X)
        if self.tta is None and not self.logit_adjustment and temperature(self) == 1.0:
            return self.net_.predict_proba(data).astype(np.float64)
        return predict_proba(self, data)

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
