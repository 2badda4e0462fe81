"""ParticleFeatures: a particle set in, a matrix of handcrafted features out."""

# License: BSD 3 clause

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklipo._particles import as_particle_set
from sklipo._threads import WithThreads, parallel_jobs, worker_threads
from sklipo.features._feature_table import FEATURES
from sklipo.features._functions import EDGE_RANGE_NM, HISTOGRAM_RANGE, N_PROFILE_BINS
from sklipo.features._measure import _ParticleMeasure, edge_reach
from sklipo.utils import check_range, describe_particle

__all__ = ["ParticleFeatures"]

# Particles per parallel task: large enough that scheduling and pickling cost
# little next to the work, small enough to balance the load and show progress.
_BATCH_SIZE = 256


class ParticleFeatures(TransformerMixin, BaseEstimator):
    """Handcrafted features of each particle: shape, profiles, histogram.

    Turns a particle set (images, masks and pixel sizes) into a 2-D feature
    matrix, one row per particle: the features of the SVM that the study's
    lab used (study §3, §4.1). Feed it to ``StandardScaler`` and ``SVC``, or
    use :func:`make_svm_baseline` which does.

    ========================= ========= ================================ ====
    feature                   columns   unit                             nm?
    ========================= ========= ================================ ====
    ``area``                  1         nm²                              yes
    ``circularity``           1         --                               no
    ``moments``               4         px^(p+q+2) (central mu_pq)       no
    ``normalized_moments``    4         -- (scale-invariant nu_pq)       no
    ``max_width``             1         nm                               yes
    ``diameter``              1         px                               no
    ``length``                1         nm                               yes
    ``edge_profile``          n_bins    background std, by nm            yes
    ``radial_profile``        n_bins    background std, by radius        no
    ``histogram``             32        fraction of pixels               no
    ``signal_to_noise``       1         --                               no
    ``segmentation_variance`` 1         background variance              no
    ========================= ========= ================================ ====

    The last five are intensity features: a multichannel set gets them once
    per channel, with column names suffixed ``_c0``, ``_c1``, ...; shape
    features come once. Intensities are standardised against each particle's
    background (pixels outside the mask) first, so 8-bit, 16-bit and float
    images, and micrographs of different contrast, give comparable values;
    see :func:`standardize_intensity`. The plain functions (:func:`area`,
    :func:`edge_profile`, ...) compute each feature for one image and mask
    and document its definition.

    Parameters
    ----------
    features : "all" or list of str, default="all"
        The features to compute, in the order of the columns; "all" takes
        every feature in the order of the table above. Names as in the table.
    pixel_size_nm : float, default=None
        Nanometres per pixel for every particle, overriding the set's own pixel
        sizes. None uses the set's; the features marked "nm" above then need
        every particle to have one.
    n_profile_bins : int, default=16
        Number of bins of the edge and radial profiles.
    edge_range_nm : tuple of float, default=(-10.0, 30.0)
        Distances from the particle's outline covered by the edge profile, in
        nm, negative outside. The default spans the surrounding just outside
        the outer membrane and 30 nm of interior, where inner membranes of
        multilamellar liposomes lie. At a pixel size where the range spans
        fewer than 8 pixels (fluorescence micrographs at 100 nm, say), it is
        widened about the outline in proportion until it spans 8.
    histogram_range : tuple of float, default=(-4.0, 4.0)
        Range of the 32 histogram bins, in background standard deviations;
        values beyond it count in the first or last bin.
    n_jobs : int, default=None
        Number of parallel jobs over batches of particles (joblib). None means
        1 unless in a ``joblib.parallel_backend`` context; -1 means all
        processors. Rows come out in the order of the particles whatever the
        number of jobs.
    verbose : int, default=0
        Verbosity of joblib's progress messages while transforming.

    Attributes
    ----------
    features_ : tuple of str
        The features computed, in column order.
    n_channels_ : int
        Number of channels of the particles seen in `fit`.

    See Also
    --------
    make_svm_baseline : The study's SVM on these features.

    Notes
    -----
    Every mask must mark at least one pixel. A :class:`~sklipo.ParticleSet`
    refuses empty masks when it is built, but a mask can still become empty
    later (a crop that cuts the particle away); `transform` then raises a
    ``ValueError`` naming the particle, rather than returning NaN features
    that a scaler or SVM would choke on later or, worse, silently accept.
    Masks touching the image edge are measured as they are seen: the image
    edge counts as outline. No feature is ever NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.features import ParticleFeatures
    >>> rows, cols = np.mgrid[:64, :64]
    >>> mask = (rows - 32) ** 2 + (cols - 32) ** 2 <= 20**2
    >>> image = np.where(mask, 180, 60).astype(np.uint8)
    >>> X = ParticleSet([image, image.T], [mask, mask.T], pixel_size=0.5)
    >>> pf = ParticleFeatures(["area", "circularity", "length"]).fit(X)
    >>> pf.transform(X).round(2)
    array([[314.25,   0.97,  20.5 ],
           [314.25,   0.97,  20.5 ]])
    >>> pf.get_feature_names_out()
    array(['area', 'circularity', 'length'], dtype=object)
    """

    _parameter_constraints: dict = {
        "features": [StrOptions({"all"}), list, tuple],
        "pixel_size_nm": [Interval(Real, 0, None, closed="neither"), None],
        "n_profile_bins": [Interval(Integral, 2, None, closed="left")],
        "edge_range_nm": [tuple, list],
        "histogram_range": [tuple, list],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        features="all",
        *,
        pixel_size_nm=None,
        n_profile_bins=N_PROFILE_BINS,
        edge_range_nm=EDGE_RANGE_NM,
        histogram_range=HISTOGRAM_RANGE,
        n_jobs=None,
        verbose=0,
    ):
        self.features = features
        self.pixel_size_nm = pixel_size_nm
        self.n_profile_bins = n_profile_bins
        self.edge_range_nm = edge_range_nm
        self.histogram_range = histogram_range
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and record the features and channels to expect.

        The features are fixed by definition; nothing is learned from the data
        except its number of channels.

        Parameters
        ----------
        X : ParticleSet or array-like
            Particles, or anything :func:`sklipo.as_particle_set` accepts.
        y : None
            Ignored.

        Returns
        -------
        self : ParticleFeatures
            The fitted transformer.
        """
        features = self._check_features()
        check_range(self.edge_range_nm, "edge_range_nm")
        check_range(self.histogram_range, "histogram_range")
        X = as_particle_set(X)
        self._pixel_sizes(X, features)
        self.features_ = features
        self.n_channels_ = X.n_channels
        return self

    def transform(self, X):
        """Compute the features of each particle.

        Parameters
        ----------
        X : ParticleSet or array-like
            Particles with the number of channels seen in `fit`.

        Returns
        -------
        features : ndarray of shape (n_particles, n_features)
            One row per particle, columns named by :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        X = as_particle_set(X)
        if X.n_channels != self.n_channels_:
            raise ValueError(
                f"X has {X.n_channels} channel(s), but ParticleFeatures was fitted on "
                f"{self.n_channels_}."
            )
        pixel_sizes = self._pixel_sizes(X, self.features_)
        params = {
            "n_profile_bins": self.n_profile_bins,
            "edge_range_nm": tuple(self.edge_range_nm),
            "histogram_range": tuple(self.histogram_range),
        }
        n_jobs = parallel_jobs(self.n_jobs)
        # With several jobs, smaller batches give each job several of them so
        # the load balances; each job gets its share of the threads.
        size = _BATCH_SIZE if n_jobs == 1 else max(1, min(_BATCH_SIZE, -(-len(X) // (4 * n_jobs))))
        batch_features = (
            _batch_features if n_jobs == 1 else WithThreads(_batch_features, worker_threads(n_jobs))
        )
        rows = Parallel(n_jobs=n_jobs, verbose=self.verbose)(
            delayed(batch_features)(
                X.images[start : start + size],
                X.masks[start : start + size],
                pixel_sizes[start : start + size],
                X.ids[start : start + size],
                start,
                self.features_,
                params,
            )
            for start in range(0, len(X), size)
        )
        return np.vstack(rows)

    def get_feature_names_out(self, input_features=None):
        """Name every output column.

        Parameters
        ----------
        input_features : None
            Ignored: particles have no input feature names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            For example ``area``, ``mu20``, ``radial_profile_07``, ``hist_12``;
            intensity features of multichannel particles end in ``_c0``,
            ``_c1``, ...
        """
        check_is_fitted(self)
        params = {"n_profile_bins": self.n_profile_bins}
        names = []
        for name in self.features_:
            feature = FEATURES[name]
            columns = feature.columns(params)
            if feature.per_channel and self.n_channels_ > 1:
                columns = [f"{col}_c{c}" for c in range(self.n_channels_) for col in columns]
            names.extend(columns)
        return np.asarray(names, dtype=object)

    def _check_features(self):
        """Return the requested feature names as a tuple, checked."""
        if isinstance(self.features, str):
            return tuple(FEATURES)
        features = tuple(self.features)
        unknown = [name for name in features if name not in FEATURES]
        if unknown or not features:
            raise ValueError(
                f"Unknown feature(s) {unknown}; choose from {sorted(FEATURES)} or 'all'."
                if unknown
                else "features must name at least one feature, or be 'all'."
            )
        repeated = sorted({name for name in features if features.count(name) > 1})
        if repeated:
            raise ValueError(f"features lists {repeated} more than once.")
        return features

    def _pixel_sizes(self, X, features):
        """Pixel size per particle; errors if a nm feature lacks one."""
        if self.pixel_size_nm is not None:
            return np.full(len(X), float(self.pixel_size_nm))
        pixel_sizes = X.pixel_size
        in_nm = [name for name in features if FEATURES[name].needs_pixel_size]
        missing = np.flatnonzero(~np.isfinite(pixel_sizes))
        if in_nm and missing.size:
            raise ValueError(
                f"The feature(s) {in_nm} are measured in nanometres and need a pixel "
                f"size, but {describe_particle(missing[0], X.ids[missing[0]])} has none "
                f"({missing.size} of {len(X)} particles lack one). Give the "
                "ParticleSet a pixel_size, set pixel_size_nm, or leave these "
                "features out."
            )
        return pixel_sizes


def _batch_features(images, masks, pixel_sizes, ids, offset, features, params):
    """Feature rows of a batch of particles starting at position ``offset``."""
    blocks = []
    for i, (image, mask, pixel_size, id_) in enumerate(zip(images, masks, pixel_sizes, ids)):
        where = describe_particle(offset + i, id_)
        reach = edge_reach(params["edge_range_nm"], pixel_size) if "edge_profile" in features else 0.0
        measure = _ParticleMeasure(image, mask, pixel_size, reach, where)
        try:
            blocks.append(np.concatenate([FEATURES[name].compute(measure, params) for name in features]))
        except ValueError as exc:
            raise ValueError(f"Could not compute the features of {where}: {exc}") from exc
    return np.vstack(blocks).astype(np.float64, copy=False)
