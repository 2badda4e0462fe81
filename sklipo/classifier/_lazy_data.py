"""Network input read from a particle store batch by batch (training streams from disk).

A stored :class:`~sklipo.ParticleSet` (``in_memory`` False) larger than
:data:`STREAM_MIN` particles never becomes one tensor: :class:`StreamedImages`
stands where :class:`~sklipo.classifier._data.ImageData` keeps its image
tensor, and reads, transforms (``image_transformer_``), checks and
standardises only the particles of the batch asked for. Training epochs visit
the store block by block (:func:`sklipo._stored_particles.block_order`) so
each stored block is decoded about once per epoch.

Smaller stored sets are read whole and take the in-memory path, so inspection,
export and tests on a few particles behave exactly as with a set in memory.
"""

# License: BSD 3 clause

import numpy as np
import torch
from sklearn.base import clone

from sklipo._stored_particles import block_order

__all__ = ["STREAM_MIN", "StreamedImages", "fit_streamed_images", "streamed_images", "streams"]

#: Stored sets with more particles than this are streamed; smaller ones are read whole.
STREAM_MIN = 4096
# Particles prepared at a time while fitting the pixel scaling.
_SCALING_CHUNK = 2048


def streams(clf, X):
    """Whether `clf` should stream `X` from its store rather than read it whole."""
    in_memory = getattr(X, "in_memory", True)
    # the fully convolutional net pads each batch to its own size: not streamed yet
    return not in_memory and len(X) > STREAM_MIN and clf.architecture != "lipnet_fcn"


class StreamedImages:
    """The float32 network images of a stored particle set, made per batch.

    Indexing with a ``torch.Tensor`` of positions (what ``ImageData.batch``
    does) reads those particles, applies the fitted image transformer, and
    returns the standardised ``(k, C, H, W)`` tensor; indexing with a NumPy
    array (what ``ImageData.subset`` does, e.g. for the early-stopping split)
    returns a StreamedImages of those positions, reading nothing.

    Parameters
    ----------
    X : ParticleSet
        The stored particles.
    transformer : transformer or None
        The fitted ``image_transformer_``.
    check : callable
        Turns the transformer's output into a float32 ``(k, C, H, W)`` array.
    mean, scale : ndarray of shape (C,), default=None
        Per-channel standardisation; None returns the unscaled images.
    positions : ndarray of int, default=None
        Which particles of `X`; None means all.
    """

    def __init__(self, X, transformer, check, mean=None, scale=None, positions=None):
        self.X = X
        self.transformer = transformer
        self.check = check
        self.mean = mean
        self.scale = scale
        self.positions = np.arange(len(X)) if positions is None else np.asarray(positions)

    def __len__(self):
        return len(self.positions)

    def __getitem__(self, indices):
        if isinstance(indices, torch.Tensor):
            return torch.from_numpy(self.prepare(self.positions[indices.numpy()]))
        return StreamedImages(
            self.X, self.transformer, self.check, self.mean, self.scale, self.positions[indices]
        )

    def prepare(self, positions, *, standardize=True):
        """The images of `positions` (of `X`) as a float32 (k, C, H, W) array."""
        particles = self.X[positions]
        if self.transformer is not None:
            particles = self.transformer.transform(particles)
        images = self.check(particles)
        if standardize and self.mean is not None:
            mean = self.mean.astype(np.float32)[None, :, None, None]
            scale = self.scale.astype(np.float32)[None, :, None, None]
            images = (images - mean) / scale
        return np.ascontiguousarray(images, dtype=np.float32)

    def epoch_order(self, indices, generator):
        """Regroup a training epoch's draws by stored block (see ``block_order``)."""
        stored = self.X.images.positions[self.positions[indices.numpy()]]
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        order = block_order(stored, np.random.default_rng(seed))
        return indices[torch.from_numpy(order)]

    def chunks(self, size=_SCALING_CHUNK, *, standardize=True):
        """Yield the images in consecutive float32 arrays of `size` particles."""
        for start in range(0, len(self), size):
            yield self.prepare(self.positions[start : start + size], standardize=standardize)


def fit_streamed_images(clf, X, y):
    """Fit `clf`'s image transformer and pixel scaling on stored `X`, reading it in chunks.

    Sets ``image_transformer_``, ``n_channels_in_``, ``input_shape_``,
    ``mean_`` and ``scale_`` as the in-memory fit does and returns the
    standardised :class:`StreamedImages`.
    """
    transformer = None if clf.image_transformer is None else clone(clf.image_transformer)
    if transformer is not None:
        transformer.fit(X, y)
    clf.image_transformer_ = transformer
    images = StreamedImages(X, transformer, clf._checked)
    first = images.prepare(images.positions[:1], standardize=False)
    clf.n_channels_in_ = int(first.shape[1])
    clf.input_shape_ = tuple(int(s) for s in first.shape[2:])
    clf._check_size(first, X)
    if clf.standardize:
        clf.mean_, clf.scale_ = _channel_statistics(images, clf.n_channels_in_)
    else:
        clf.mean_, clf.scale_ = np.zeros(clf.n_channels_in_), np.ones(clf.n_channels_in_)
    images.mean, images.scale = clf.mean_, clf.scale_
    return images


def streamed_images(clf, X, *, standardize=True):
    """The fitted `clf`'s network images of stored `X`, checked on their first particle."""
    images = StreamedImages(
        X,
        clf.image_transformer_,
        clf._checked,
        clf.mean_ if standardize else None,
        clf.scale_ if standardize else None,
    )
    first = images.prepare(images.positions[:1], standardize=False)
    clf._check_like_training(first, X)
    return images


def _channel_statistics(images, n_channels):
    """Per-channel mean and standard deviation (1 where 0) over all chunks.

    Chunks are combined with Chan et al.'s pairwise update, so the result
    matches the whole-array computation to rounding.
    """
    count, mean, m2 = 0, np.zeros(n_channels), np.zeros(n_channels)
    for chunk in images.chunks(standardize=False):
        pixels = chunk.transpose(1, 0, 2, 3).reshape(n_channels, -1).astype(np.float64)
        k = pixels.shape[1]
        chunk_mean = pixels.mean(axis=1)
        chunk_m2 = ((pixels - chunk_mean[:, None]) ** 2).sum(axis=1)
        delta = chunk_mean - mean
        total = count + k
        mean = mean + delta * k / total
        m2 = m2 + chunk_m2 + delta**2 * count * k / total
        count = total
    scale = np.sqrt(m2 / count)
    return mean, np.where(scale > 0, scale, 1.0)
