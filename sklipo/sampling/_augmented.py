"""Oversampling with randomly augmented copies instead of identical duplicates."""

# License: BSD 3 clause

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from sklipo._particles import ParticleSet
from sklipo.augmentation import Augmentation
from sklipo.sampling._validation import cast_like, check_particles

__all__ = ["AugmentedOverSampler"]

# Canvas pixels warped per batch: bounds the float32 temporaries to tens of MB.
_BATCH_PIXELS = 1 << 22


def _batches(sizes):
    """Split particle positions into batches of similar size.

    A batch is padded to a square canvas of its largest side, so positions are
    sorted by largest side and cut into runs of about `_BATCH_PIXELS` pixels.
    """
    sides = sizes.max(axis=1)
    order = np.argsort(sides, kind="stable")
    start = 0
    for stop in range(1, len(order) + 1):
        if (stop - start) * int(sides[order[stop - 1]]) ** 2 > _BATCH_PIXELS and stop - 1 > start:
            yield order[start : stop - 1]
            start = stop - 1
    yield order[start:]


def _warp(augmentation, batch, generator, sizes=None):
    """Apply `augmentation` to a float32 (n, C, H, W) array; return an array."""
    import torch  # here, so that `import sklipo.sampling` works without torch

    sizes = None if sizes is None else torch.from_numpy(sizes)
    return augmentation(torch.from_numpy(batch), sizes=sizes, generator=generator).numpy()


def _augment_stack(images, augmentation, generator):
    """Augment an (n, H, W) or (n, C, H, W) stack; same shape and dtype."""
    flat = images if images.ndim == 4 else images[:, None]
    out = np.empty(flat.shape, dtype=images.dtype)
    per_batch = max(1, _BATCH_PIXELS // int(np.prod(flat.shape[1:])))
    for start in range(0, len(flat), per_batch):
        warped = _warp(augmentation, flat[start : start + per_batch].astype(np.float32), generator)
        out[start : start + per_batch] = cast_like(warped, images.dtype)
    return out.reshape(images.shape)


def _augment_particles(particles, augmentation, generator):
    """Augment every particle of a set, image and mask alike; return new lists.

    Particles of similar size are padded into one canvas and warped as a batch,
    each about its own centre (``sizes`` of :class:`Augmentation`); the mask
    rides along as an extra channel and is thresholded back to booleans.
    """
    n = len(particles)
    images, masks = [None] * n, [None] * n
    sizes = particles.sizes
    channels = particles.n_channels
    for batch in _batches(sizes):
        height, width = sizes[batch].max(axis=0)
        canvas = np.empty((len(batch), channels + 1, height, width), dtype=np.float32)
        for row, i in enumerate(batch):
            image = particles.images[i].reshape(*sizes[i], channels)
            pad = ((0, height - sizes[i, 0]), (0, width - sizes[i, 1]))
            # Edge padding: what Augmentation's "border" fill reads outside the image.
            canvas[row, :channels] = np.pad(image, pad + ((0, 0),), mode="edge").transpose(2, 0, 1)
            canvas[row, channels] = np.pad(particles.masks[i], pad)
        warped = _warp(augmentation, canvas, generator, sizes[batch])
        for row, i in enumerate(batch):
            h, w = sizes[i]
            image = warped[row, :channels, :h, :w].transpose(1, 2, 0)
            if particles.images[i].ndim == 2:
                image = image[..., 0]
            images[i] = cast_like(image, particles.images[i].dtype)
            soft = warped[row, channels, :h, :w]
            # A sliver of a mask can fall below one half everywhere; keep its peak.
            mask = soft > 0.5
            masks[i] = mask if mask.any() else soft >= soft.max()
    return images, masks


class AugmentedOverSampler(BaseOverSampler):
    """Balance classes with randomly augmented copies of minority particles.

    Like :class:`~imblearn.over_sampling.RandomOverSampler`, it draws
    minority particles at random with replacement, but every copy is rotated,
    sheared, shifted, zoomed and flipped at random
    (:class:`~sklipo.augmentation.Augmentation`), so the network does not see
    the same few images over and over. Oversampling with augmentation is the
    pair that worked best against class imbalance in the study sklipo follows.

    Works on a :class:`~sklipo.ParticleSet` of any sizes (each particle turns
    about its own centre; its mask is transformed with it) and on fixed-size
    image stacks. Similar-size particles are warped together as one torch
    batch. Copies keep the pixel type of their source (8- and 16-bit images
    are rounded and clipped), its pixel size, and its id with ``"#aug<k>"``
    appended.

    Use it as a step of :class:`imblearn.pipeline.Pipeline` so that only
    training folds are resampled.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples each class should have after resampling, as in
        imbalanced-learn: ``"auto"`` brings every class but the majority up to
        the majority's count; a dict maps class labels to target counts; a
        float is the desired minority-to-majority ratio (two classes only).
    augment : "study" or Augmentation, default="study"
        The random transformation: ``"study"`` is the study's preset
        (rotation up to 180 degrees, shear up to 0.2 rad, shift up to 10 %,
        zoom 0.8 to 1, flips), or pass an
        :class:`~sklipo.augmentation.Augmentation` with your ranges.
    random_state : int, RandomState instance or None, default=None
        Draws the particles to copy and their transformations. An int gives
        identical output across calls.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of copies added per class.
    source_indices_ : ndarray of shape (n_resampled,)
        For each returned sample, the index in ``X`` of the particle it is (the
        first ``n``) or was copied from.

    See Also
    --------
    ParticleSampler : Any imbalanced-learn sampler on particles.
    sklipo.classifier.LipNetClassifier : Augments every training batch on the
        fly and can undersample the majority class anew each epoch.

    Notes
    -----
    The originals come first, unchanged; the augmented copies follow. Copies
    are made once, when fitting; the network's own on-the-fly augmentation
    (``augment=`` of :class:`~sklipo.classifier.LipNetClassifier`) still varies
    them from epoch to epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.sampling import AugmentedOverSampler
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((10, 1, 16, 16), dtype=np.float32)
    >>> y = np.array([0] * 8 + [1] * 2)
    >>> X_res, y_res = AugmentedOverSampler(random_state=0).fit_resample(X, y)
    >>> X_res.shape, np.bincount(y_res).tolist()
    ((16, 1, 16, 16), [8, 8])
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "augment": [StrOptions({"study"}), Augmentation],
    }

    def __init__(self, *, sampling_strategy="auto", augment="study", random_state=None):
        super().__init__(sampling_strategy=sampling_strategy)
        self.augment = augment
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        return check_particles(X, y, type(self).__name__), y, binarize_y

    def _fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        copies = [
            rng.choice(np.flatnonzero(y == label), size=n_new, replace=True)
            for label, n_new in self.sampling_strategy_.items()
            if n_new > 0
        ]
        sources = np.concatenate([np.arange(len(X))] + copies).astype(np.intp)
        self.source_indices_ = sources
        copied = sources[len(X) :]
        if copied.size == 0:
            return X, y
        import torch  # lazily, as in _warp

        augmentation = Augmentation() if self.augment == "study" else self.augment
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        if isinstance(X, ParticleSet):
            originals = X[copied]
            images, masks = _augment_particles(originals, augmentation, generator)
            ids = [f"{source}#aug{k}" for k, source in enumerate(originals.ids)]
            new = originals.replace(images=images, masks=masks, ids=ids)
            X_res = ParticleSet.concatenate([X, new])
        else:
            X_res = np.concatenate([X, _augment_stack(X[copied], augmentation, generator)])
        return X_res, y[sources]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        return tags
