"""Oversampling with synthetic liposomes matched to the data."""

# License: BSD 3 clause

from collections.abc import Mapping

import numpy as np
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from skimage.transform import resize
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from sklipo._particles import ParticleSet
from sklipo.datasets import LIPOSOME_CLASSES, make_liposomes
from sklipo.preprocessing import Resize
from sklipo.sampling._validation import cast_like, check_particles

__all__ = ["SyntheticOverSampler"]

# Percentiles of a reference particle that its synthetic stand-in is mapped onto.
_INTENSITY_PERCENTILES = (1.0, 99.0)


def _match_intensity(images, references):
    """Map each image's 1st..99th percentile range onto its reference's.

    Both are float arrays of shape (n, ...); the result is float64.
    """
    axes = tuple(range(1, images.ndim))
    low, high = np.percentile(images, _INTENSITY_PERCENTILES, axis=axes, keepdims=True)
    ref_low, ref_high = np.percentile(
        references, _INTENSITY_PERCENTILES, axis=axes, keepdims=True
    )
    scale = (ref_high - ref_low) / np.where(high > low, high - low, 1.0)
    return ref_low + (images - low) * scale


class SyntheticOverSampler(BaseOverSampler):
    """Top minority classes up with synthetic liposomes matched to the data.

    The study's "artificial data" experiment: minority classes are filled
    with particles drawn by :func:`~sklipo.datasets.make_liposomes` for the
    corresponding generator class. Each synthetic particle takes the size and
    the intensity range (1st to 99th percentile) of a particle of its class
    drawn at random from the data, and the pixel type of the data, so it can
    stand next to real particles in training. In the study this did *not*
    help the networks; the sampler lets you test that on your own data.

    The mapping from your classes to the generator's is explicit: with
    ``class_map=None`` the labels must be the generator's class names for
    `problem` (e.g. ``"unilamellar"``) or their integer codes in target order
    (0, 1, 2, as :func:`~sklipo.datasets.make_liposomes` returns them);
    otherwise `class_map` names the generator class for each of your labels.

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        How many samples each class should have after resampling, as in
        imbalanced-learn (``"auto"``: every class but the majority up to the
        majority's count).
    problem : {"lamellarity", "encapsulation"}, default="lamellarity"
        Which of the generator's problems the classes come from. Lamellarity
        classes: ``"unilamellar"``, ``"multilamellar"``, ``"uncertain"``;
        encapsulation classes: ``"full"``, ``"uncertain"``, ``"empty"``.
    class_map : dict, default=None
        Maps each label to top up to a generator class name of `problem`, e.g.
        ``{"multi": "multilamellar", "unsure": "uncertain"}``. Labels left out
        cannot be oversampled. None: see above.
    random_state : int, RandomState instance or None, default=None
        Draws the synthetic particles and the reference particles they are
        matched to. An int gives identical output across calls.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of synthetic particles added per class.
    class_map_ : dict
        Generator class name used for each label that was topped up.

    See Also
    --------
    sklipo.datasets.make_liposomes : The generator.
    AugmentedOverSampler : Oversample with augmented copies of real particles.

    Notes
    -----
    The originals come first, unchanged; the synthetic particles follow,
    with ids ``"synthetic-<class>-<k>"``. Use the sampler on the raw cut-outs
    (a :class:`~sklipo.ParticleSet`), before cropping and resizing, so that
    the synthetic particles go through the same preprocessing as the real
    ones; their masks come from the generator and their pixel size is that of
    their reference particle. On a fixed-size stack the synthetic cut-outs are
    resized to the stack's size. The generator draws grayscale particles only.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.datasets import make_liposomes
    >>> from sklipo.sampling import SyntheticOverSampler
    >>> X, y = make_liposomes(n_samples=30, weights=[20, 8, 2], random_state=0,
    ...                       return_X_y=True)
    >>> sampler = SyntheticOverSampler(problem="lamellarity", random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [20, 20, 20]
    >>> sampler.class_map_
    {1: 'multilamellar', 2: 'uncertain'}
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "problem": [StrOptions(set(LIPOSOME_CLASSES))],
        "class_map": [Mapping, None],
    }

    def __init__(
        self, *, sampling_strategy="auto", problem="lamellarity", class_map=None, random_state=None
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.problem = problem
        self.class_map = class_map
        self.random_state = random_state

    def _check_X_y(self, X, y, accept_sparse=None):
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        X = check_particles(X, y, type(self).__name__)
        channels = X.n_channels if isinstance(X, ParticleSet) else (1 if X.ndim == 3 else X.shape[1])
        if channels != 1:
            raise ValueError(
                f"SyntheticOverSampler draws grayscale liposomes, but the particles have "
                f"{channels} channels."
            )
        return X, y, binarize_y

    def _generator_class(self, label):
        """Return the generator class name for `label`, or raise."""
        names = list(LIPOSOME_CLASSES[self.problem])
        if self.class_map is not None:
            if label not in self.class_map:
                raise ValueError(
                    f"class_map has no entry for class {label!r}, which is to be "
                    f"oversampled; map it to one of {names} or leave it out of "
                    "sampling_strategy."
                )
            name = self.class_map[label]
            if name not in names:
                raise ValueError(
                    f"class_map maps {label!r} to {name!r}, which is not a "
                    f"{self.problem} class; choose one of {names}."
                )
            return name
        if isinstance(label, str) and label in names:
            return label
        if isinstance(label, (int, np.integer)) and 0 <= label < len(names):
            return names[int(label)]
        raise ValueError(
            f"Class {label!r} is neither a {self.problem} class name {names} nor "
            f"its code 0..{len(names) - 1}; pass class_map={{{label!r}: <name>}} to "
            "say which synthetic class stands in for it."
        )

    def _fit_resample(self, X, y):
        rng = check_random_state(self.random_state)
        names = list(LIPOSOME_CLASSES[self.problem])
        self.class_map_ = {}
        parts, labels = [], []
        for label, n_new in self.sampling_strategy_.items():
            if n_new <= 0:
                continue
            label = label.item() if isinstance(label, np.generic) else label
            name = self._generator_class(label)
            self.class_map_[label] = name
            references = rng.choice(np.flatnonzero(y == label), size=n_new, replace=True)
            synthetic = make_liposomes(
                self.problem,
                n_new,
                weights=np.eye(len(names))[names.index(name)],
                random_state=rng,
                return_X_y=True,
            )[0]
            if isinstance(X, ParticleSet):
                part = self._match_particles(synthetic, X[references], name)
            else:
                part = self._match_stack(synthetic, X[references])
            parts.append(part)
            labels.append(np.full(n_new, label, dtype=y.dtype))
        if not parts:
            return X, y
        if isinstance(X, ParticleSet):
            X_res = ParticleSet.concatenate([X] + parts)
        else:
            X_res = np.concatenate([X] + parts)
        return X_res, np.concatenate([y] + labels)

    def _match_particles(self, synthetic, references, name):
        """Give each synthetic particle its reference's size, range and pixel type."""
        images, masks = [], []
        for particle, reference in zip(synthetic, references):
            shape = reference.image.shape
            image = resize(particle.image, shape, order=1, anti_aliasing=True)
            image = _match_intensity(image[None], reference.image[None].astype(np.float64))[0]
            images.append(cast_like(image, reference.image.dtype))
            mask = resize(particle.mask, shape, order=0, anti_aliasing=False)
            masks.append(mask if mask.any() else resize(particle.mask.astype(float), shape) > 0)
        return synthetic.replace(
            images=images,
            masks=masks,
            pixel_size=references.pixel_size,
            ids=[f"synthetic-{name}-{k}" for k in range(len(synthetic))],
        )

    def _match_stack(self, synthetic, references):
        """Resize synthetic cut-outs to the stack's size and match intensities."""
        images = Resize(references.shape[-2:]).fit_transform(synthetic)
        images = images.reshape(references.shape).astype(np.float64)
        return cast_like(_match_intensity(images, references.astype(np.float64)), references.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        return tags
