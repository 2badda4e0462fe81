"""Run any imbalanced-learn sampler on particle sets and image stacks."""

# License: BSD 3 clause

from collections import Counter
from numbers import Integral

import numpy as np
from imblearn.base import BaseSampler
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import ClusterCentroids, RandomUnderSampler
from imblearn.utils import check_sampling_strategy
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets

from sklipo._particles import ParticleSet
from sklipo.sampling._validation import check_particles

__all__ = ["ParticleSampler"]


def _smoothed_bootstrap(sampler):
    """Whether `sampler` is a RandomOverSampler that adds noise to its copies."""
    return isinstance(sampler, RandomOverSampler) and sampler.shrinkage is not None


def _draws_rows_only(sampler):
    """Whether `sampler` picks rows at random without looking at their values."""
    if isinstance(sampler, RandomUnderSampler):
        return True
    return isinstance(sampler, RandomOverSampler) and not _smoothed_bootstrap(sampler)


def _synthesises(sampler):
    """Whether `sampler` makes new samples rather than selecting existing ones."""
    if isinstance(sampler, RandomOverSampler):
        return _smoothed_bootstrap(sampler)
    return isinstance(sampler, ClusterCentroids) or (
        getattr(sampler, "_sampling_type", None) == "over-sampling"
    )


def _neighbours_needed(sampler):
    """Samples a class needs for the sampler's neighbour search, or None."""
    for name in ("k_neighbors", "n_neighbors"):
        k = getattr(sampler, name, None)
        if isinstance(k, Integral) and not isinstance(k, bool):
            return name, int(k)
    return None


class ParticleSampler(BaseSampler):
    """Make any imbalanced-learn sampler work on particles.

    imbalanced-learn's samplers take a 2-D matrix, so a set of variable-size
    particle images, or a stack of fixed-size ones, stops them with "Found
    array with dim 4". This adapter runs the wrapped sampler on a numeric
    stand-in for the particles and maps the result back:

    - **Random selection** (:class:`~imblearn.over_sampling.RandomOverSampler`
      without shrinkage, :class:`~imblearn.under_sampling.RandomUnderSampler`)
      runs on the row numbers, so it works on any :class:`~sklipo.ParticleSet`:
      whole particles are selected with their masks, pixel sizes and ids, and
      the output set *shares* the input's pixel buffers (no pixel is copied).
    - **Selection by neighbours** (NearMiss, TomekLinks, EditedNearestNeighbours,
      anything exposing ``sample_indices_``) runs on the flattened pixels of
      fixed-size images, or on `feature_space`; whole particles are returned as
      above.
    - **Synthesis** (SMOTE, ADASYN, BorderlineSMOTE, ClusterCentroids, ...)
      interpolates between samples, so it needs fixed-size images
      (:class:`~sklipo.preprocessing.Resize` before the sampler): new images
      are made in flattened pixel space and reshaped back to
      ``(n, C, H, W)``. With `feature_space`, the new samples are feature
      vectors and so is the output; see Notes.

    Use it as a step of :class:`imblearn.pipeline.Pipeline`, which calls
    :meth:`fit_resample` when fitting only, so validation and test folds are
    never resampled.

    Parameters
    ----------
    sampler : imbalanced-learn sampler
        Any object with ``fit_resample``, e.g. ``SMOTE(k_neighbors=3)``. It is
        cloned, never changed.
    feature_space : transformer, default=None
        Where samplers that look at the data compare (and synthesisers
        create) samples, e.g. :class:`~sklipo.features.ParticleFeatures` or a
        pipeline of :class:`~sklipo.preprocessing.Resize` and
        :class:`~sklipo.preprocessing.Flatten`. It is cloned and fitted on the
        training particles. None uses the flattened pixels of fixed-size images;
        random samplers never need it.

    Attributes
    ----------
    sampler_ : imbalanced-learn sampler
        The fitted clone of `sampler`.
    feature_space_ : transformer or None
        The fitted clone of `feature_space`, when one was used.
    sample_indices_ : ndarray of shape (n_resampled,)
        For samplers that select samples: the index in ``X`` of each returned
        particle.

    See Also
    --------
    AugmentedOverSampler : Oversample with augmented copies, not duplicates.
    SyntheticOverSampler : Top minority classes up with synthetic liposomes.

    Notes
    -----
    A synthesising sampler in a `feature_space` returns features, not images:
    an interpolated feature vector (a radial profile, a circularity) has no
    image to go with it. Inside a pipeline the steps after the sampler would
    then see features when fitting but particles when predicting, so there put
    the feature transformer first and the plain imbalanced-learn sampler after
    it: ``Pipeline([("features", ParticleFeatures()), ("smote", SMOTE()),
    ("svm", SVC())])``. Returning features is meant for use outside a
    pipeline.

    Selecting samplers on an image stack return ``X[sample_indices_]``, which
    NumPy copies; only a :class:`~sklipo.ParticleSet` shares its buffers.

    Examples
    --------
    >>> import numpy as np
    >>> from imblearn.over_sampling import RandomOverSampler
    >>> from sklipo import ParticleSet
    >>> from sklipo.sampling import ParticleSampler
    >>> X = ParticleSet([np.ones((30 + i, 30)) for i in range(6)])
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> sampler = ParticleSampler(RandomOverSampler(random_state=0))
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> len(X_res), np.bincount(y_res).tolist()
    (8, [4, 4])
    >>> X_res.images[-1] is X.images[sampler.sample_indices_[-1]]
    True
    """

    _sampling_type = "bypass"

    _parameter_constraints: dict = {
        "sampler": [HasMethods(["fit_resample"])],
        "feature_space": [HasMethods(["fit_transform"]), None],
    }

    def __init__(self, sampler, *, feature_space=None):
        self.sampler = sampler
        self.feature_space = feature_space

    def fit(self, X, y, **params):
        """Refuse to fit alone: a sampler's work is the data it returns.

        scikit-learn's :class:`~sklearn.pipeline.Pipeline` would call this and
        carry on with the data unchanged; this method raises instead.

        Parameters
        ----------
        X : ParticleSet or ndarray
            The particles.
        y : array-like of shape (n,)
            Their labels.
        **params : dict
            Ignored.

        Raises
        ------
        TypeError
            Always, pointing to :meth:`fit_resample` and
            :class:`imblearn.pipeline.Pipeline`.
        """
        raise TypeError(
            f"{type(self).__name__}.fit would resample nothing: a sampler's result is "
            "the data fit_resample returns. Call fit_resample(X, y), or make the "
            "sampler a step of imblearn.pipeline.Pipeline (scikit-learn's Pipeline "
            "cannot pass resampled data on to the next step)."
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X, y, **params):
        """Resample the particles with the wrapped sampler.

        Parameters
        ----------
        X : ParticleSet or ndarray of shape (n, H, W) or (n, C, H, W)
            The training particles.
        y : array-like of shape (n,)
            Their labels.
        **params : dict
            Passed to the wrapped sampler's ``fit_resample``.

        Returns
        -------
        X_resampled : ParticleSet, ndarray of the input's shape, or ndarray of shape (n_resampled, n_features)
            Selected particles keep the input's type; synthesised samples come
            as images of the input's shape, or as features with `feature_space`.
        y_resampled : ndarray of shape (n_resampled,)
            Their labels.
        """
        check_classification_targets(y)
        y = np.asarray(y)
        X = check_particles(X, y, type(self).__name__)
        return self._fit_resample(X, y, **params)

    def _fit_resample(self, X, y, **params):
        sampler = clone(self.sampler)
        self.feature_space_ = None
        if _draws_rows_only(sampler):
            space = np.arange(len(X), dtype=float)[:, None]
        else:
            space = self._space(X, y, sampler)
        self._check_class_sizes(sampler, y)
        try:
            space_res, y_res = sampler.fit_resample(space, y, **params)[:2]
        except ValueError as exc:
            if "n_neighbors" not in str(exc):
                raise
            raise ValueError(
                f"{type(sampler).__name__} could not find enough neighbours: "
                f"{exc} Class counts: {dict(sorted(Counter(y.tolist()).items()))}. "
                "Lower its neighbour count, or oversample first with "
                "RandomOverSampler or sklipo.sampling.AugmentedOverSampler."
            ) from exc
        self.sampler_ = sampler
        if hasattr(sampler, "sample_indices_") and not _smoothed_bootstrap(sampler):
            self.sample_indices_ = np.asarray(sampler.sample_indices_)
            return X[self.sample_indices_], y_res
        if self.feature_space_ is not None:
            return space_res, y_res
        return space_res.reshape((-1,) + X.shape[1:]), y_res

    def _space(self, X, y, sampler):
        """Return the 2-D numeric space the sampler works in."""
        if self.feature_space is not None:
            self.feature_space_ = clone(self.feature_space)
            space = np.asarray(self.feature_space_.fit_transform(X, y))
            if space.ndim != 2 or len(space) != len(X):
                raise ValueError(
                    f"feature_space must turn {len(X)} particles into a 2-D matrix "
                    f"with one row each; {type(self.feature_space).__name__} returned "
                    f"shape {space.shape}. Add sklipo.preprocessing.Flatten after it."
                )
            return space
        if isinstance(X, ParticleSet):
            what = (
                "synthesises new samples by interpolating between pixel vectors, "
                "which particles of varying size with masks cannot hold"
                if _synthesises(sampler)
                else "compares particles by their pixels, which needs one image size"
            )
            raise ValueError(
                f"{type(sampler).__name__} {what}. Put "
                "sklipo.preprocessing.Resize before the sampler in the pipeline to "
                "resample fixed-size images, or pass feature_space= (for example "
                "sklipo.features.ParticleFeatures()) to work in a feature space."
            )
        return X.reshape(len(X), -1)

    def _check_class_sizes(self, sampler, y):
        """Raise if a class to oversample is too small for the neighbour search."""
        needed = _neighbours_needed(sampler)
        if needed is None or getattr(sampler, "_sampling_type", None) != "over-sampling":
            return
        param, k = needed
        targets = check_sampling_strategy(sampler.sampling_strategy, y, "over-sampling")
        counts = Counter(y.tolist())
        small = {
            getattr(c, "item", lambda: c)(): counts[c]
            for c, n_new in targets.items()
            if n_new > 0 and counts[c] <= k
        }
        if small:
            smallest = min(small.values())
            raise ValueError(
                f"{type(sampler).__name__} interpolates between a sample and its "
                f"{param}={k} nearest neighbours of the same class, so each class it "
                f"oversamples needs more than {k} samples; class(es) "
                f"{small} have no more. Pass {param}={max(smallest - 1, 1)} or less, "
                "or use RandomOverSampler or sklipo.sampling.AugmentedOverSampler, "
                "which need no neighbours."
            )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        return tags
