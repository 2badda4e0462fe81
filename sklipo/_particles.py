"""The particle collection that sklipo's estimators take as ``X``.

A :class:`ParticleSet` is a 1-D collection (``shape == (n_particles,)``) of
cut-outs of any size in which image, mask, pixel size and id travel together
through scikit-learn's splitters, pipelines, ``clone`` and joblib. Subsets
share pixel buffers; a set from a particle store reads pixels on demand and
pickles as the store's path and positions. Images are channel-last, masks
``(H, W)`` booleans; ``docs/guide/data_model.rst`` gives the reasoning.
"""

# License: BSD 3 clause

from numbers import Integral
from typing import NamedTuple

import numpy as np

from sklipo._stored_particles import LazyArrays, open_store
from sklipo._particle_checks import (
    _check_channels,
    _check_ids,
    _check_image,
    _check_mask,
    _check_pixel_size,
    _object_array,
    check_channels_first,
)
from sklipo.utils import describe_particle

__all__ = ["Particle", "ParticleSet", "as_particle_set"]


class Particle(NamedTuple):
    """One particle: what iterating over a :class:`ParticleSet` yields.

    Attributes
    ----------
    image : ndarray of shape (H, W) or (H, W, C)
        The cut-out, channel-last for multichannel particles.
    mask : ndarray of shape (H, W), dtype=bool
        True on the particle.
    pixel_size : float
        Nanometres per pixel; NaN when unknown.
    id : str
        The particle's identifier.
    """

    image: np.ndarray
    mask: np.ndarray
    pixel_size: float
    id: str


class ParticleSet:
    """Variable-size particle images with their masks, pixel sizes and ids.

    A one-dimensional collection that scikit-learn's model selection splits
    like an array: ``X[train]`` is a :class:`ParticleSet` of those particles
    and ``X[i]`` is one :class:`Particle`.

    Parameters
    ----------
    images : sequence of ndarray, or ndarray
        One image per particle, ``(H, W)`` for grayscale or 3-D with the channel
        axis given by `channel_axis`. Sizes may differ between particles. An
        array stack ``(n, H, W)`` is read as ``n`` grayscale images. Integer
        (8- or 16-bit) and floating-point pixels are kept as they are.
    masks : sequence of ndarray, or ndarray, default=None
        One ``(H, W)`` mask per particle, non-zero on the particle. None marks
        every pixel as particle.
    pixel_size : float or array-like of shape (n,), default=None
        Nanometres per pixel, for all particles or one per particle. None (or
        NaN for single particles) when unknown; features measured in nm then
        need it given elsewhere.
    ids : array-like of shape (n,), default=None
        Identifiers (file names, database keys). Defaults to the positions
        ``"0"``, ``"1"``, ...
    channel_axis : int, default=None
        The axis of each *image* that holds channels (scikit-image's convention),
        e.g. ``-1`` for ``(H, W, C)``. None for grayscale.

    Attributes
    ----------
    images : ndarray of object, shape (n,)
        The images, channel-last.
    masks : ndarray of object, shape (n,)
        The boolean masks.
    pixel_size : ndarray of float, shape (n,)
        Nanometres per pixel, NaN where unknown.
    ids : ndarray of str, shape (n,)
        The identifiers.
    n_channels : int
        Channels per image (1 for grayscale).

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> images = [np.zeros((40, 40)), np.ones((60, 52))]
    >>> masks = [np.ones((40, 40), bool), np.ones((60, 52), bool)]
    >>> X = ParticleSet(images, masks, pixel_size=0.8)
    >>> X
    ParticleSet(2 particles, 40x40 to 60x52 px, 1 channel, 0.8 nm/px)
    >>> X[[1]].sizes
    array([[60, 52]])
    >>> image, mask, pixel_size, id_ = X[0]
    """

    def __init__(self, images, masks=None, *, pixel_size=None, ids=None, channel_axis=None):
        if isinstance(images, np.ndarray) and images.dtype != object:
            images = list(images)
        n = len(images)
        if n == 0:
            raise ValueError("A ParticleSet needs at least one particle; got 0 images.")
        ids = np.arange(n).astype(str) if ids is None else _check_ids(ids, n)
        checked_images = [
            _check_image(image, describe_particle(i, ids[i]), channel_axis)
            for i, image in enumerate(images)
        ]
        if masks is None:
            checked_masks = [np.ones(im.shape[:2], dtype=bool) for im in checked_images]
        else:
            if len(masks) != n:
                raise ValueError(
                    f"Got {n} images but {len(masks)} masks; each image needs one mask."
                )
            checked_masks = [
                _check_mask(mask, image, describe_particle(i, ids[i]))
                for i, (mask, image) in enumerate(zip(masks, checked_images))
            ]
        self._set_fields(
            _object_array(checked_images),
            _object_array(checked_masks),
            _check_pixel_size(pixel_size, n),
            ids,
            _check_channels(checked_images),
        )

    def _set_fields(self, images, masks, pixel_size, ids, channels):
        self._images = images
        self._masks = masks
        self._pixel_size = pixel_size
        self._ids = ids
        self._n_channels = channels

    @classmethod
    def _from_checked(cls, images, masks, pixel_size, ids, channels):
        """Build a set from fields that are already validated (no copies)."""
        particles = cls.__new__(cls)
        particles._set_fields(images, masks, pixel_size, ids, channels)
        return particles

    def replace(self, *, images=None, masks=None, pixel_size=None, ids=None):
        """Return a copy with some of the images, masks, pixel sizes and ids replaced.

        Transformers and samplers use it to return their output without
        validating every pixel again: only the number of items, the shapes of
        the masks against the images and the number of channels are checked.

        Parameters
        ----------
        images : sequence of ndarray, default=None
            New channel-last images, one per particle, all with the same number
            of channels; None keeps the current ones.
        masks : sequence of ndarray, default=None
            New boolean masks, one per particle, matching the images' height
            and width; None keeps the current ones.
        pixel_size : float or array-like of shape (n,), default=None
            New nanometres per pixel, NaN where unknown; None keeps the current
            ones.
        ids : array-like of shape (n,), default=None
            New identifiers; None keeps the current ones.

        Returns
        -------
        particles : ParticleSet
            A new set; what is not replaced is shared with this one.

        Raises
        ------
        ValueError
            If a replacement has the wrong length, a mask does not match its
            image, or the images differ in their number of channels.

        Examples
        --------
        >>> import numpy as np
        >>> from sklipo import ParticleSet
        >>> X = ParticleSet([np.zeros((40, 40)), np.ones((60, 52))])
        >>> X.replace(ids=["a", "b"], pixel_size=0.8)
        ParticleSet(2 particles, 40x40 to 60x52 px, 1 channel, 0.8 nm/px)
        """
        n = len(self)
        new_images = self._images if images is None else _object_array(images)
        new_masks = self._masks if masks is None else _object_array(masks)
        new_ids = self._ids if ids is None else _check_ids(ids, n)
        if len(new_images) != n or len(new_masks) != n:
            raise ValueError(
                f"replace needs one image and one mask per particle ({n}); got "
                f"{len(new_images)} images and {len(new_masks)} masks."
            )
        if images is not None or masks is not None:
            for i, (image, mask) in enumerate(zip(new_images, new_masks)):
                if mask.shape != image.shape[:2]:
                    raise ValueError(
                        f"The mask of {describe_particle(i, new_ids[i])} has shape "
                        f"{mask.shape}; it must match the image's height and width "
                        f"{image.shape[:2]}."
                    )
        return self._from_checked(
            new_images,
            new_masks,
            self._pixel_size if pixel_size is None else _check_pixel_size(pixel_size, n),
            new_ids,
            self._n_channels if images is None or n == 0 else _check_channels(new_images),
        )

    @property
    def images(self):
        return self._images

    @property
    def masks(self):
        return self._masks

    @property
    def pixel_size(self):
        return self._pixel_size

    @property
    def ids(self):
        return self._ids

    @property
    def n_channels(self):
        return self._n_channels

    @property
    def shape(self):
        """``(n_particles,)``: what scikit-learn counts samples by."""
        return (len(self._images),)

    @property
    def sizes(self):
        """ndarray of shape (n, 2): the height and width of each image."""
        if isinstance(self._images, LazyArrays):
            return self._images.sizes.astype(int)
        return np.array([im.shape[:2] for im in self._images], dtype=int).reshape(-1, 2)

    @property
    def in_memory(self):
        """bool: False when the pixels are read from a particle store on demand."""
        return not (isinstance(self._images, LazyArrays) or isinstance(self._masks, LazyArrays))

    def load(self):
        """Return the set with every image and mask read into memory.

        A set that is in memory already is returned as it is.

        Returns
        -------
        particles : ParticleSet
            The same particles, ``in_memory``.
        """
        if self.in_memory:
            return self
        return self._from_checked(
            np.asarray(self._images),
            np.asarray(self._masks),
            self._pixel_size,
            self._ids,
            self._n_channels,
        )

    def iter_chunks(self, chunk_size=1024):
        """Yield the set in consecutive in-memory pieces.

        The way to pass over a stored set with bounded memory: each piece is
        read when it is reached and can be dropped after use.

        Parameters
        ----------
        chunk_size : int, default=1024
            Particles per piece (the last may be smaller).

        Yields
        ------
        chunk : ParticleSet
            Particles ``start`` to ``start + chunk_size``, in memory.
        """
        for start in range(0, len(self), chunk_size):
            yield self[start : start + chunk_size].load()

    @classmethod
    def _from_store(cls, path, positions=None):
        """The particles at `positions` (all by default) of the store at `path`, lazily."""
        reader = open_store(path)
        positions = np.arange(len(reader)) if positions is None else np.asarray(positions)
        return cls._from_checked(
            LazyArrays(reader, "images", positions),
            LazyArrays(reader, "masks", positions),
            reader.pixel_size[positions],
            reader.ids[positions],
            reader.n_channels,
        )

    @property
    def has_pixel_size(self):
        """bool: whether every particle has a known pixel size."""
        return bool(len(self) and np.isfinite(self._pixel_size).all())

    def __len__(self):
        return len(self._images)

    def __iter__(self):
        # zip reads a stored set a few hundred particles at a time, not one by one
        for image, mask, pixel_size, id_ in zip(
            self._images, self._masks, self._pixel_size, self._ids
        ):
            yield Particle(image, mask, float(pixel_size), str(id_))

    def __getitem__(self, key):
        if isinstance(key, tuple):
            # scikit-learn indexes array-likes as X[indices, ...].
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError(
                    "A ParticleSet is one-dimensional: index it with one integer, "
                    f"slice, or array of indices or booleans; got {key!r}."
                )
        if isinstance(key, Integral):
            i = int(key)
            return Particle(
                self._images[i], self._masks[i], float(self._pixel_size[i]), str(self._ids[i])
            )
        if not isinstance(key, slice):
            key = np.asarray(key)
            if key.dtype == bool:
                if key.shape != (len(self),):
                    raise IndexError(
                        f"A boolean index must have one value per particle ({len(self)}); "
                        f"got shape {key.shape}."
                    )
            elif key.size == 0:
                key = key.astype(int)
            elif not np.issubdtype(key.dtype, np.integer):
                raise IndexError(
                    f"Index a ParticleSet with integers or booleans; got dtype {key.dtype}."
                )
        return self._from_checked(
            self._images[key],
            self._masks[key],
            self._pixel_size[key],
            self._ids[key],
            self._n_channels,
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A ParticleSet holds images of varying size with their masks, so it has "
            "no single array form. For an estimator that needs a fixed-size numeric "
            "array, add sklipo.preprocessing.Resize (and Flatten for a 2-D matrix) "
            "before it in the pipeline, or use ParticleSet.stack() on equal-size images."
        )

    def __repr__(self):
        n = len(self)
        sizes = self.sizes
        if n == 0:
            size_text = "no images"
        else:
            lo, hi = sizes.min(axis=0), sizes.max(axis=0)
            size_text = (
                f"{lo[0]}x{lo[1]} px" if (lo == hi).all() else f"{lo[0]}x{lo[1]} to {hi[0]}x{hi[1]} px"
            )
        channels = f"{self._n_channels} channel" + ("s" if self._n_channels > 1 else "")
        known = self._pixel_size[np.isfinite(self._pixel_size)]
        if known.size == 0:
            px = "pixel size unknown"
        elif known.min() == known.max():
            px = f"{known[0]:g} nm/px"
        else:
            px = f"{known.min():g} to {known.max():g} nm/px"
        plural = "particle" if n == 1 else "particles"
        return f"ParticleSet({n} {plural}, {size_text}, {channels}, {px})"

    def stack(self):
        """Return the images as one array; they must all have the same size.

        Multichannel images are stacked channels first, the one layout of
        4-D stacks in sklipo, so ``as_particle_set(X.stack())`` gives back
        the same images.

        Returns
        -------
        stack : ndarray of shape (n, H, W) or (n, C, H, W)

        Raises
        ------
        ValueError
            If the images differ in size; resize them first.
        """
        sizes = self.sizes
        if len(self) and (sizes != sizes[0]).any():
            odd = int(np.flatnonzero((sizes != sizes[0]).any(axis=1))[0])
            raise ValueError(
                "stack() needs images of one size; particle 0 is "
                f"{tuple(sizes[0])} and particle {odd} is {tuple(sizes[odd])}. "
                "Use sklipo.preprocessing.Resize to bring them to one size."
            )
        stack = np.stack(list(self._images))
        return stack if stack.ndim == 3 else np.moveaxis(stack, -1, 1)

    @classmethod
    def concatenate(cls, sets):
        """Join particle sets end to end.

        Parameters
        ----------
        sets : sequence of ParticleSet
            Sets with the same number of channels.

        Returns
        -------
        particles : ParticleSet
        """
        sets = list(sets)
        if not sets:
            raise ValueError("concatenate needs at least one ParticleSet.")
        channels = {s.n_channels for s in sets}
        if len(channels) > 1:
            raise ValueError(
                f"Cannot join sets with different numbers of channels: {sorted(channels)}."
            )
        return cls._from_checked(
            _concatenate([s._images for s in sets]),
            _concatenate([s._masks for s in sets]),
            np.concatenate([s._pixel_size for s in sets]),
            np.concatenate([s._ids for s in sets]),
            channels.pop(),
        )


def _concatenate(fields):
    """Join image or mask fields; those of one store stay lazy."""
    if all(isinstance(f, LazyArrays) for f in fields) and (
        len({(f.reader.path, f.field) for f in fields}) == 1
    ):
        first = fields[0]
        return LazyArrays(first.reader, first.field, np.concatenate([f.positions for f in fields]))
    return np.concatenate([np.asarray(f) for f in fields])


def as_particle_set(X):
    """Return `X` as a :class:`ParticleSet`, converting image stacks.

    Parameters
    ----------
    X : ParticleSet, ndarray or sequence of 2-D arrays
        A particle set is returned as it is. A stack ``(n, H, W)`` is read as
        grayscale images and ``(n, C, H, W)`` as images with channels first (the
        networks' layout, and what :meth:`ParticleSet.stack` returns); a
        stack that looks channels-last, ``(n, H, W, C)`` with at most 4
        channels last and more than 4 first, is refused rather than guessed.
        A list of 2-D arrays is read as grayscale images. Masks of
        converted input cover the whole image and pixel sizes are unknown.

    Returns
    -------
    particles : ParticleSet

    Raises
    ------
    TypeError
        If `X` is of no supported kind.
    ValueError
        If `X` is empty or an array has the wrong number of dimensions.
    """
    if isinstance(X, ParticleSet):
        if len(X) == 0:
            raise ValueError("Found an empty ParticleSet (0 particles); at least 1 is required.")
        return X
    if isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
        return ParticleSet(X)
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        X = np.asarray(X)
        if X.ndim == 3:
            return ParticleSet(X)
        if X.ndim == 4:
            check_channels_first(X)
            return ParticleSet(list(X), channel_axis=0)
        raise ValueError(
            "Expected particle images: a ParticleSet, an (n, H, W) or (n, C, H, W) "
            f"array, or a list of 2-D images; got an array of shape {X.shape}."
        )
    raise TypeError(
        "Expected particle images: a ParticleSet, an (n, H, W) or (n, C, H, W) array, "
        f"or a list of 2-D images; got {type(X).__name__}."
    )
