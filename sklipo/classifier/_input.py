"""The way X travels into a LipNet: image transformer, checks, scaling, extra features."""

# License: BSD 3 clause

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from sklipo.classifier._data import (
    Batches,
    ImageData,
    check_fixed_images,
    check_variable_images,
)
from sklipo.classifier._lazy_data import (
    StreamedImages,
    fit_streamed_images,
    streamed_images,
    streams,
)
from sklipo.classifier._parallel import n_threads, workers
from sklipo.nets import min_input_size
from sklipo.utils import check_label_types, describe_particle

__all__ = []


def _describe_row(X, row):
    """Name particle `row` of `X` by position and, for a ParticleSet, id."""
    ids = getattr(X, "ids", None)
    return describe_particle(row, None if ids is None else ids[row])


_FCN = "lipnet_fcn"


def check_targets(y, n_samples):
    """Return the labels `y` of `n_samples` particles as a checked 1-D array."""
    check_label_types(y)
    y = column_or_1d(y, warn=True)
    check_consistent_length(np.empty(n_samples), y)
    check_classification_targets(y)
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("Input y contains NaN; drop or label those particles.")
    return y


def check_fit_request(clf, y):
    """Refuse a fit without labels, or with two resampling schemes at once."""
    if clf.undersample_majority is not None and clf.balanced_batches:
        raise ValueError(
            "undersample_majority and balanced_batches are two ways of resampling "
            "each epoch; set at most one of them."
        )
    if y is None:
        raise ValueError(
            f"{type(clf).__name__} requires y to be passed, but the target y is None."
        )


def check_n_classes(classes):
    """Refuse labels of a single class."""
    if len(classes) < 2:
        raise ValueError(
            "LipNetClassifier needs samples of at least 2 classes; got 1 class "
            f"({classes.tolist()[0]!r})."
        )


class _NetworkInputMixin:
    """Fit and apply the input handling of a LipNet classifier.

    Fitting sets ``image_transformer_``, ``n_channels_in_``, ``input_shape_``,
    ``mean_``, ``scale_``, ``extra_features_`` and ``extra_scaler_``;
    :meth:`network_input` applies them, and :meth:`embed` runs the fitted
    network's feature layers on the result.
    """

    def network_input(self, X, *, standardize=True):
        """Return what the network receives for particles `X`.

        `X` goes through ``image_transformer_``, is checked like the training
        images, and is standardised with ``mean_`` and ``scale_``; the extra
        features (``extra_features_.transform(X)``) are checked and scaled
        with ``extra_scaler_``.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or ParticleSet
            Images prepared like the training images.
        standardize : bool, default=True
            Whether to apply the classifier's scaling. False gives the input
            before it: the images as the classifier receives them (float32)
            and the extra features as ``extra_features_`` returns them
            (float64), which is what an exported ONNX model takes.

        Returns
        -------
        data : ImageData
            ``data.X`` holds the float32 images, a ``(n, C, H, W)`` tensor
            for a fixed-size network or a list of ``(C, H_i, W_i)`` tensors
            for ``"lipnet_fcn"`` (``data.sizes`` then holds their sizes);
            ``data.extra`` the ``(n, n_extra)`` extra features, or None.
            ``data.batch(indices)`` gives the keyword arguments of the
            network's forward.

        Raises
        ------
        ValueError
            If the images differ in channels or size from the training
            images, or a ``"lipnet_fcn"`` image is too small.
        """
        check_is_fitted(self)
        if streams(self, X):
            # a large stored set: images are read, transformed and scaled per batch
            images = streamed_images(self, X, standardize=standardize)
        else:
            images = self._transform_images(X)
            self._check_like_training(images, X)
        extra = self._extra_features(X, len(images))
        if isinstance(images, StreamedImages):
            if standardize and extra is not None:
                extra = self.extra_scaler_.transform(extra).astype(np.float32)
        elif standardize:
            images = self._standardized(images)
            if extra is not None:
                extra = self.extra_scaler_.transform(extra).astype(np.float32)
        elif self.architecture == _FCN:
            images = [torch.from_numpy(image) for image in images]
        else:
            images = torch.from_numpy(images)
        return ImageData(images, extra=None if extra is None else torch.from_numpy(extra))

    def embed(self, X):
        """Return the network's learned features of images `X`.

        The penultimate activations, the input of the final layer (see
        :meth:`sklipo.nets.LipNet.embed`), computed batch by batch in eval
        mode (no dropout) without gradients, on a CPU with several threads
        one batch per thread.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W), or ParticleSet
            Images prepared like the training images.

        Returns
        -------
        embedding : ndarray of shape (n, n_embedding)
            One row per image; ``n_embedding`` is
            ``net_.module_.n_embedding``. For a two-branch network, the
            learned image features only, without the extra features.
        """
        data = self.network_input(X)
        module = self.net_.module_

        def embed(batch):
            inputs, _ = batch
            with torch.no_grad():  # grad mode is per thread
                return module.embed(inputs["x"], inputs.get("sizes"))

        training = module.training
        module.eval()
        try:
            # on a CPU with several threads, batches side by side
            with workers(n_threads(self.net_)) as threads:
                batches = Batches(data, self.batch_size, device=self.device_)
                parts = list(threads.map(embed, batches))
        finally:
            module.train(training)
        return torch.cat(parts).cpu().numpy().astype(np.float64)

    # -- fit -----------------------------------------------------------------

    def _fit_images(self, X, y):
        """Fit the image transformer and pixel scaling; return the standardised images."""
        if streams(self, X):
            return fit_streamed_images(self, X, y)
        self.image_transformer_ = (
            None if self.image_transformer is None else clone(self.image_transformer)
        )
        transformed = X
        if self.image_transformer_ is not None:
            transformed = self.image_transformer_.fit_transform(X, y)
        images = self._checked(transformed)
        self.n_channels_in_ = int(images[0].shape[0])
        self.input_shape_ = (
            None if self.architecture == _FCN else tuple(int(s) for s in images.shape[2:])
        )
        self._check_size(images, X)
        self._fit_scaling(images)
        return self._standardized(images)

    def _fit_extra(self, X, y, n_samples):
        """Fit the extra features and their scaler; return them scaled, or None."""
        self.extra_features_ = None if self.extra_features is None else clone(self.extra_features)
        self.extra_scaler_ = None
        if self.extra_features_ is None:
            return None
        features = self._checked_extra(self.extra_features_.fit_transform(X, y), X, n_samples)
        # a constant feature gets scale 1: centred, not blown up
        self.extra_scaler_ = StandardScaler().fit(features)
        return torch.from_numpy(self.extra_scaler_.transform(features).astype(np.float32))

    def _fit_scaling(self, images):
        n_channels = self.n_channels_in_
        if not self.standardize:
            self.mean_, self.scale_ = np.zeros(n_channels), np.ones(n_channels)
            return
        if isinstance(images, np.ndarray):
            pixels = images.transpose(1, 0, 2, 3).reshape(n_channels, -1)
        else:
            pixels = np.concatenate([a.reshape(n_channels, -1) for a in images], axis=1)
        self.mean_ = pixels.mean(axis=1, dtype=np.float64)
        scale = pixels.std(axis=1, dtype=np.float64)
        self.scale_ = np.where(scale > 0, scale, 1.0)

    # -- images --------------------------------------------------------------

    def _transform_images(self, X):
        if self.image_transformer_ is not None:
            X = self.image_transformer_.transform(X)
        return self._checked(X)

    def _checked(self, X):
        """The images as a float32 (n, C, H, W) array, or a list for ``"lipnet_fcn"``."""
        return check_variable_images(X) if self.architecture == _FCN else check_fixed_images(X)

    def _standardized(self, images):
        """The images standardised with ``mean_`` and ``scale_``, as torch data."""
        mean = self.mean_.astype(np.float32)[:, None, None]
        scale = self.scale_.astype(np.float32)[:, None, None]
        if self.architecture == _FCN:
            return [torch.from_numpy((a - mean) / scale) for a in images]
        return torch.from_numpy((images - mean[None]) / scale[None])

    def _check_size(self, images, X):
        smallest = min_input_size(self.architecture)
        if self.architecture == _FCN:
            sizes = np.array([a.shape[1:] for a in images])
            small = np.flatnonzero(sizes.min(axis=1) < smallest)
            if small.size:
                row = int(small[0])
                raise ValueError(
                    f"lipnet_fcn needs images of at least {smallest}x{smallest} pixels; "
                    f"{_describe_row(X, row)} is "
                    f"{tuple(sizes[row].tolist())} ({small.size} image(s) too small). "
                    "Drop the smallest particles, or pad or resize them."
                )
        elif min(self.input_shape_) < smallest:
            raise ValueError(
                f"{self.architecture} needs images of at least {smallest}x{smallest} "
                f"pixels; got {self.input_shape_[0]}x{self.input_shape_[1]}. Resize the "
                "particles (e.g. sklipo.preprocessing.Resize(28)) first."
            )

    def _check_like_training(self, images, X):
        channels = int(images[0].shape[0])
        if self.architecture == _FCN:
            if channels != self.n_channels_in_:
                raise ValueError(
                    f"{type(self).__name__} was fitted on images with "
                    f"{self.n_channels_in_} channel(s); got {channels}."
                )
            self._check_size(images, X)
            return
        shape = tuple(int(s) for s in images.shape[1:])
        expected = (self.n_channels_in_, *self.input_shape_)
        if shape != expected:
            raise ValueError(
                f"{type(self).__name__} was fitted on images of shape {expected} "
                f"(channels, height, width); got {shape}. Preprocess new images "
                "exactly as the training images (same Resize)."
            )

    # -- extra features ------------------------------------------------------

    def _extra_features(self, X, n_samples):
        """The unscaled extra features of `X` (float64), or None."""
        if self.extra_features_ is None:
            return None
        features = self._checked_extra(self.extra_features_.transform(X), X, n_samples)
        expected = self.extra_scaler_.n_features_in_
        if features.shape[1] != expected:
            raise ValueError(
                f"extra_features returned {features.shape[1]} feature(s), but "
                f"{type(self).__name__} was fitted with {expected}."
            )
        return features

    def _checked_extra(self, features, X, n_samples):
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
                f"{_describe_row(X, row)} in column {column}"
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
