"""Image input checks and the whole-batch iterator behind LipNetClassifier."""

# License: BSD 3 clause

import numpy as np
import scipy.sparse as sp
import torch

from sklipo._particle_checks import check_channels_first
from sklipo._particles import ParticleSet, as_particle_set

__all__ = ["Batches", "ImageData", "epoch_indices"]

_EXPECTED = (
    "LipNetClassifier takes particle images: an (n, H, W) or (n, C, H, W) array or "
    "a ParticleSet"
)


def _check_pixels(array):
    """Refuse dtypes a network cannot read and non-finite pixels."""
    if np.iscomplexobj(array):
        raise ValueError("Complex data not supported; images must hold real pixels.")
    if not (
        np.issubdtype(array.dtype, np.integer)
        or np.issubdtype(array.dtype, np.floating)
        or array.dtype == bool
    ):
        raise TypeError(
            f"{_EXPECTED}, with integer or floating-point pixels; got dtype {array.dtype}."
        )
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(
            "Input contains NaN or infinity; replace or drop those particles first."
        )


def _channels_first(image):
    """A channel-last particle image as a (C, H, W) array."""
    return image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)


def _stack_particles(particles):
    sizes = particles.sizes
    if (sizes != sizes[0]).any():
        odd = int(np.flatnonzero((sizes != sizes[0]).any(axis=1))[0])
        raise ValueError(
            "A fixed-size LipNet needs images of one size, but particle 0 is "
            f"{tuple(sizes[0])} and particle {odd} is {tuple(sizes[odd])}. Put "
            "sklipo.preprocessing.Resize (e.g. Resize(28)) before the classifier, "
            "or use architecture='lipnet_fcn', which takes particles of any size."
        )
    stack = particles.stack()  # (n, H, W) or (n, C, H, W)
    return stack[:, None] if stack.ndim == 3 else stack


def check_fixed_images(X):
    """Return `X` as a float32 ``(n, C, H, W)`` array for a fixed-size network."""
    if sp.issparse(X):
        raise TypeError(
            f"Sparse input is not supported; {_EXPECTED}, as a dense array."
        )
    if isinstance(X, (ParticleSet, list, tuple)) or (
        isinstance(X, np.ndarray) and X.dtype == object
    ):
        X = _stack_particles(as_particle_set(X))
    elif np.ndim(X) == 4:
        # (n, H, W, 3) read as (n, C, H, W) would be images of width 3
        check_channels_first(np.asarray(X))
    X = np.asarray(X)
    _check_pixels(X)
    if X.ndim == 3:
        X = X[:, None]
    elif X.ndim != 4:
        hint = (
            " A 2-D array is a feature matrix, not images: use a tabular "
            "classifier, or pass the images themselves."
            if X.ndim == 2
            else ""
        )
        raise ValueError(f"{_EXPECTED}; got an array of shape {X.shape}.{hint}")
    if X.shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}); at least 1 is required."
        )
    return X.astype(np.float32, copy=False)


def check_variable_images(X):
    """Return `X` as a list of float32 ``(C, H, W)`` arrays, of any sizes."""
    if sp.issparse(X) or (isinstance(X, np.ndarray) and X.dtype != object):
        return list(check_fixed_images(X))
    particles = as_particle_set(X)
    return [_channels_first(image).astype(np.float32, copy=False) for image in particles.images]


class ImageData(torch.utils.data.Dataset):
    """The network's input: images, their sizes and extra features, with labels.

    Indexed a whole batch at a time (see :meth:`batch`); what
    :meth:`LipNetClassifier.network_input` returns.

    Parameters
    ----------
    X : torch.Tensor of shape (n, C, H, W), or list of (C, H_i, W_i) tensors
        The images: a stack for fixed-size networks, a list for the fully
        convolutional one.
    y : ndarray of int of shape (n,), default=None
        Class codes; None at prediction.
    extra : torch.Tensor of shape (n, n_extra), default=None
        Extra features of a two-branch network, sliced with the images; None
        for an image-only network.

    Attributes
    ----------
    sizes : torch.Tensor of shape (n, 2) or None
        Height and width of each image of a list; None for a stack.
    """

    def __init__(self, X, y=None, *, extra=None):
        self.X = X
        self.y = y
        self.extra = extra
        self.sizes = (
            torch.tensor([x.shape[1:] for x in X], dtype=torch.long)
            if isinstance(X, list)
            else None
        )
        self._y_tensor = None if y is None else torch.as_tensor(y, dtype=torch.long)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.batch(torch.tensor([i]))

    def subset(self, indices):
        """Return a new data set of the given sample positions.

        Parameters
        ----------
        indices : array-like of int
            Sample positions.

        Returns
        -------
        subset : ImageData
        """
        indices = np.asarray(indices)
        X = self.X[indices] if self.sizes is None else [self.X[i] for i in indices]
        return ImageData(
            X,
            None if self.y is None else self.y[indices],
            extra=None if self.extra is None else self.extra[indices],
        )

    def batch(self, indices):
        """Return the batch of the given sample positions.

        Parameters
        ----------
        indices : torch.Tensor of int64
            Sample positions.

        Returns
        -------
        inputs : dict of str to torch.Tensor
            The keyword arguments of the network's forward: ``"x"``, the
            images (of a list: padded to the largest, each in the top-left
            corner of a zero canvas), plus ``"sizes"`` for a list and
            ``"extra"`` with extra features.
        y : torch.Tensor or None
            The class codes; None without labels.
        """
        y = None if self._y_tensor is None else self._y_tensor[indices]
        inputs = {"x": self.X[indices] if self.sizes is None else self._padded(indices)}
        if self.sizes is not None:
            inputs["sizes"] = self.sizes[indices]
        if self.extra is not None:
            inputs["extra"] = self.extra[indices]
        return inputs, y

    def _padded(self, indices):
        height, width = (int(s) for s in self.sizes[indices].max(dim=0).values)
        first = self.X[int(indices[0])]
        canvas = first.new_zeros((len(indices), first.shape[0], height, width))
        for row, i in enumerate(indices.tolist()):
            image = self.X[i]
            canvas[row, :, : image.shape[1], : image.shape[2]] = image
        return canvas


def epoch_indices(y, *, n_classes, generator, undersample_majority=None, balanced=False):
    """The training sample positions of one epoch, shuffled.

    Parameters
    ----------
    y : torch.Tensor of shape (n,)
        Class codes.
    n_classes : int
        Number of classes.
    generator : torch.Generator
        Source of randomness.
    undersample_majority : float, default=None
        Fraction of the largest class left out, drawn anew each epoch.
    balanced : bool, default=False
        Draw ``n`` positions with replacement, every class equally likely.

    Returns
    -------
    indices : torch.Tensor of int64
    """
    n = len(y)
    if balanced:
        counts = torch.bincount(y, minlength=n_classes).to(torch.float64)
        weights = 1.0 / counts[y]
        return torch.multinomial(weights, n, replacement=True, generator=generator)
    order = torch.randperm(n, generator=generator)
    if undersample_majority:
        majority = int(torch.bincount(y, minlength=n_classes).argmax())
        shuffled = y[order]
        is_majority = shuffled == majority
        n_drop = int(round(undersample_majority * int(is_majority.sum())))
        # the permutation is random, so the first n_drop majority samples in it
        # are a fresh random subset each epoch
        drop = torch.cumsum(is_majority, 0) <= n_drop
        order = order[~(is_majority & drop)]
    return order


class Batches:
    """Iterate over an :class:`ImageData` in batches made by tensor slicing.

    skorch builds one per fit (``iterator_train``) and per prediction
    (``iterator_valid``); iterating again starts a new epoch.

    Parameters
    ----------
    dataset : ImageData
        The data.
    batch_size : int
        Samples per batch.
    training : bool, default=False
        Shuffle (or resample) each epoch and augment.
    seed : int, default=0
        Seed of the epoch's shuffling and augmentation.
    augment : callable, default=None
        Applied to the images of each training batch on the device (never to
        extra features).
    n_classes : int, default=None
        Number of classes, for resampling.
    undersample_majority : float, default=None
        See :func:`epoch_indices`.
    balanced : bool, default=False
        See :func:`epoch_indices`.
    device : str, default="cpu"
        Where batches are sent before augmentation.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        *,
        training=False,
        seed=0,
        augment=None,
        n_classes=None,
        undersample_majority=None,
        balanced=False,
        device="cpu",
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.training = training
        self.augment = augment
        self.n_classes = n_classes
        self.undersample_majority = undersample_majority
        self.balanced = balanced
        self.device = device
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        if self.training:
            indices = epoch_indices(
                self.dataset._y_tensor,
                n_classes=self.n_classes,
                generator=self.generator,
                undersample_majority=self.undersample_majority,
                balanced=self.balanced,
            )
            # images streamed from a particle store come grouped by stored block
            regroup = getattr(self.dataset.X, "epoch_order", None)
            if regroup is not None:
                indices = regroup(indices, self.generator)
        else:
            indices = torch.arange(len(self.dataset))
        for start in range(0, len(indices), self.batch_size):
            X, y = self.dataset.batch(indices[start : start + self.batch_size])
            X = {key: value.to(self.device) for key, value in X.items()}
            if self.training and self.augment is not None:
                X["x"] = self.augment(X["x"], sizes=X.get("sizes"), generator=self.generator)
            yield X, y
