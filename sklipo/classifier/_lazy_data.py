"""Network input read from a particle store batch by batch (training streams from disk).

A stored :class:`~sklipo.ParticleSet` (``in_memory`` False) larger than
:data:`STREAM_MIN` particles never becomes one tensor: :class:`StreamedImages`
stands where :class:`~sklipo.classifier._data.ImageData` keeps its image
tensor, and reads, transforms (``image_transformer_``), checks and
standardises only the particles of the batch asked for. Training epochs visit
the store block by block (:func:`sklipo._stored_particles.block_order`) so
each stored block is decoded about once per epoch.

The image transformer and the per-channel pixel statistics (``mean_``,
``scale_``) are fitted on a seeded sample of whole stored blocks, about
:data:`SCALING_SAMPLE` particles (:func:`scaling_sample`), not on a full pass:
a full pass would crop and resize every particle once more before training
(a second epoch's worth of reading), and fitting a ``Pipeline`` on the whole
set would hold every intermediate (e.g. cropped) particle in memory at once.
The sample is fixed (seed 0, not ``random_state``), so a set always gets the
same statistics; a set of at most :data:`SCALING_SAMPLE` particles is used
whole, which gives exactly the in-memory statistics.

Smaller stored sets are read whole and take the in-memory path, so inspection,
export and tests on a few particles behave exactly as with a set in memory.
"""

# License: BSD 3 clause

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.validation import check_consistent_length

from sklipo._stored_particles import BLOCK_SIZE, LazyArrays, block_order

__all__ = [
    "SCALING_SAMPLE",
    "STREAM_MIN",
    "StreamedImages",
    "fit_streamed_images",
    "scaling_sample",
    "streamed_images",
    "streams",
]

#: Stored sets with more particles than this are streamed; smaller ones are read whole.
STREAM_MIN = 4096
#: About how many particles (whole stored blocks) the image transformer and the
#: pixel statistics of a streamed fit are fitted on.
SCALING_SAMPLE = 8 * BLOCK_SIZE
# Seed of that sample: fixed, so a set always gets the same statistics.
_SAMPLE_SEED = 0
# Particles prepared at a time while fitting the pixel scaling.
_SCALING_CHUNK = 2048


def _stored_positions(X):
    """The store positions of the particles of stored set `X`."""
    for field in (X.images, X.masks):
        if isinstance(field, LazyArrays):
            return field.positions
    return np.arange(len(X))  # pragma: no cover - a stored set has a lazy field


def scaling_sample(X, size=None, *, seed=_SAMPLE_SEED):
    """Positions (in `X`) of a seeded sample of whole stored blocks.

    Blocks of :data:`~sklipo._stored_particles.BLOCK_SIZE` consecutive stored
    particles that hold particles of `X` are drawn at random (without
    replacement) until they hold at least `size` of them; the sample is every
    particle of `X` in the drawn blocks, in the order of `X`. Reading whole
    blocks decodes each chunk once; drawing blocks from the whole store keeps
    the sample spread over it.

    Parameters
    ----------
    X : ParticleSet
        A stored set.
    size : int, default=None
        Particles wanted; None means :data:`SCALING_SAMPLE`. A set of at most
        `size` particles is returned whole.
    seed : int, default=0
        Seed of the draw.

    Returns
    -------
    positions : ndarray of int
        Sorted positions in `X`; ``arange(len(X))`` for a small set.
    """
    size = SCALING_SAMPLE if size is None else int(size)
    if len(X) <= size:
        return np.arange(len(X))
    blocks = _stored_positions(X) // BLOCK_SIZE
    unique, inverse, counts = np.unique(blocks, return_inverse=True, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(unique))
    n_blocks = int(np.searchsorted(np.cumsum(counts[order]), size)) + 1
    chosen = np.zeros(len(unique), dtype=bool)
    chosen[order[:n_blocks]] = True
    return np.flatnonzero(chosen[inverse])


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
    """Fit `clf`'s image transformer and pixel scaling on a sample of stored `X`.

    Sets ``image_transformer_``, ``n_channels_in_``, ``input_shape_``,
    ``mean_`` and ``scale_`` as the in-memory fit does and returns the
    standardised :class:`StreamedImages` of all of `X`. The transformer and
    the statistics are fitted on :func:`scaling_sample` (all of `X` when it
    has at most :data:`SCALING_SAMPLE` particles); the statistics are
    accumulated chunk by chunk in float64, so memory does not grow with the
    set.
    """
    check_consistent_length(X, y)
    sample = scaling_sample(X)
    whole = len(sample) == len(X)
    transformer = None if clf.image_transformer is None else clone(clf.image_transformer)
    if transformer is not None:
        # one that learns nothing (CropParticle, Resize) sees one chunk: same fit, less memory
        fit_on = sample[:_SCALING_CHUNK] if _learns_nothing(transformer) else sample
        if len(fit_on) == len(X):
            transformer.fit(X, y)
        else:
            transformer.fit(X[fit_on], None if y is None else _safe_indexing(y, fit_on))
    clf.image_transformer_ = transformer
    images = StreamedImages(X, transformer, clf._checked)
    first = images.prepare(images.positions[:1], standardize=False)
    clf.n_channels_in_ = int(first.shape[1])
    clf.input_shape_ = tuple(int(s) for s in first.shape[2:])
    clf._check_size(first, X)
    if clf.standardize:
        sampled = images if whole else images[sample]
        clf.mean_, clf.scale_ = _channel_statistics(sampled, clf.n_channels_in_)
    else:
        clf.mean_, clf.scale_ = np.zeros(clf.n_channels_in_), np.ones(clf.n_channels_in_)
    images.mean, images.scale = clf.mean_, clf.scale_
    return images


def _learns_nothing(transformer):
    """Whether `transformer` (or every step of a Pipeline) says it needs no fit."""
    steps = getattr(transformer, "steps", None)
    if steps is not None:
        return all(
            step is None or step == "passthrough" or _learns_nothing(step) for _, step in steps
        )
    try:
        return not get_tags(transformer).requires_fit
    except (AttributeError, TypeError, ValueError):  # pragma: no cover - foreign estimators
        return False


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
    """Per-channel mean and standard deviation (1 where 0) of `images`, chunk by chunk.

    Each chunk's float64 mean and sum of squared deviations are combined with
    Chan et al.'s pairwise update, so the result matches the whole-array
    computation to rounding and only one chunk is held at a time.
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
