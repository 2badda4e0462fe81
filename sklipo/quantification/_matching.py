"""Distribution matching on posteriors: DMy's histograms and KDEy's class densities.

Adjusted counts (ACC, PACC) match one number per class, the mean prediction.
These methods match the whole distribution of the classifier's posteriors:
each class's out-of-fold posteriors give a template distribution, and the
sample's posteriors are explained as a mixture of the templates. Where a
rare class is only partly separated (its posteriors overlap another class's
but are spread differently), the shape of the distribution tells more than
its mean.

Written with NumPy rather than taken from QuaPy (``DMy``, ``KDEyML``) for
the reason the adjusted counts are: QuaPy fits its densities once per
quantifier and solves one sample at a time with ``scipy.optimize``, while
the bootstrap intervals here need the class densities re-estimated for
hundreds of replicates. A KDE re-estimated on a bootstrap resample of a
class's points is the same kernel matrix with multinomial weights, so a
replicate costs one matrix product, and EM solves all replicates together.
"""

# License: BSD 3 clause

import numpy as np

from sklipo.quantification._solvers import em_prevalence

__all__ = []

# Most points that represent one class's posterior density in KDEy; larger
# classes are thinned by a fixed stride (deterministic, order-preserving).
# The density of 2,000 points at bandwidth 0.1 on the simplex is smooth
# already; more only costs time.
_MAX_KDE_POINTS = 2000
# Most kernel entries computed at once (about 32 MB of float64).
_KERNEL_BUDGET = 4_000_000


def posterior_histograms(proba, n_bins):
    """One-hot histogram bin of every posterior, for each class column.

    The features whose mean over a set of particles is DMy's histogram: for
    each class ``j``, the share of particles whose probability of ``j``
    falls in each of `n_bins` equal bins of [0, 1].

    Parameters
    ----------
    proba : ndarray of shape (..., n_samples, n_classes)
        Class probabilities (a leading batch axis is kept).
    n_bins : int
        Bins per class column.

    Returns
    -------
    features : ndarray of shape (..., n_samples, n_classes * n_bins)
        Column ``j * n_bins + b`` is 1 where the probability of class ``j``
        falls in bin ``b``.
    """
    proba = np.asarray(proba, dtype=float)
    bins = np.clip((proba * n_bins).astype(int), 0, n_bins - 1)
    one_hot = bins[..., None] == np.arange(n_bins)
    return one_hot.reshape(proba.shape[:-1] + (-1,)).astype(float)


def kde_points(proba, targets, n_classes):
    """The out-of-fold posteriors that represent each class's density.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Out-of-fold class probabilities of the training samples.
    targets : ndarray of shape (n_samples,)
        Their true class indices.
    n_classes : int
        Number of classes.

    Returns
    -------
    points : list of ndarray of shape (n_points, n_classes)
        Per class, its posteriors, thinned by a fixed stride to at most
        ``_MAX_KDE_POINTS``.
    """
    points = []
    for i in range(n_classes):
        rows = proba[targets == i]
        stride = -(-len(rows) // _MAX_KDE_POINTS)
        points.append(rows[::stride])
    return points


def kde_likelihoods(proba, points, bandwidth, weights=None):
    """Each particle's kernel density under each class.

    Gaussian kernels of width `bandwidth` around each class's points. The
    kernel's normalising constant is left out: it is the same for every
    class, and the mixture weights do not depend on it.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Posteriors of the sample.
    points : list of ndarray of shape (n_points, n_classes)
        Per class, the points of its density (:func:`kde_points`).
    bandwidth : float
        Standard deviation of the kernel.
    weights : list of ndarray of shape (n_replicates, n_points), default=None
        Per class, weights of its points summing to one per replicate (a
        bootstrap resample of them); None weighs them equally.

    Returns
    -------
    likelihoods : ndarray of shape (n_samples, n_classes) or (n_replicates, n_samples, n_classes)
        The densities, the replicates first where `weights` is given.
    """
    n = len(proba)
    shape = (n, len(points)) if weights is None else (len(weights[0]), n, len(points))
    likelihoods = np.empty(shape)
    for c, class_points in enumerate(points):
        step = max(1, _KERNEL_BUDGET // len(class_points))
        for start in range(0, n, step):
            block = proba[start:start + step]
            distance = (
                (block**2).sum(axis=1)[:, None]
                + (class_points**2).sum(axis=1)[None, :]
                - 2 * block @ class_points.T
            )
            kernel = np.exp(-np.maximum(distance, 0.0) / (2 * bandwidth**2))
            if weights is None:
                likelihoods[start:start + step, c] = kernel.mean(axis=1)
            else:
                likelihoods[:, start:start + step, c] = weights[c] @ kernel.T
    # A particle far from every class's points must not divide by zero.
    return np.maximum(likelihoods, np.finfo(float).tiny)


def kde_prevalence(likelihoods):
    """Maximum-likelihood mixture weights of the class densities (KDEy-ML).

    Maximises ``sum_i log(sum_c p_c f_c(x_i))`` over the simplex. The EM
    iteration for mixture weights is SLD's with the class densities in
    place of the posteriors and equal priors, so :func:`em_prevalence`
    solves it.

    Parameters
    ----------
    likelihoods : ndarray of shape (..., n_samples, n_classes)
        Class densities of each particle (:func:`kde_likelihoods`).

    Returns
    -------
    prevalence : ndarray of shape (..., n_classes)
        The estimated prevalences.
    """
    k = likelihoods.shape[-1]
    normalised = likelihoods / likelihoods.sum(axis=-1, keepdims=True)
    return em_prevalence(normalised, np.full(k, 1.0 / k))


def kde_bootstrap(proba, points, bandwidth, n_bootstrap, rng, *, repeats=1):
    """KDEy-ML estimates from bootstrap resamples of the sample and of each class.

    Each replicate resamples the sample's particles (the sampling error)
    and, with multinomial weights, each class's density points (the error
    of the estimated densities), then solves for the prevalence.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Posteriors of the sample.
    points : list of ndarray of shape (n_points, n_classes)
        Per class, the points of its density.
    bandwidth : float
        Standard deviation of the kernel.
    n_bootstrap : int
        Number of replicates.
    rng : RandomState
        Source of the resampling.
    repeats : int, default=1
        Consecutive rows of `proba` that belong to one particle (the
        predictions of several models); they are resampled together.

    Returns
    -------
    estimates : ndarray of shape (n_bootstrap, n_classes)
        One prevalence per replicate.
    """
    n, k = proba.shape
    per_chunk = max(1, _KERNEL_BUDGET // (n * k))
    estimates = []
    for start in range(0, n_bootstrap, per_chunk):
        size = min(per_chunk, n_bootstrap - start)
        weights = [
            rng.multinomial(len(p), np.full(len(p), 1.0 / len(p)), size=size) / len(p)
            for p in points
        ]
        likelihoods = kde_likelihoods(proba, points, bandwidth, weights)
        particles = rng.randint(0, n // repeats, size=(size, n // repeats, 1))
        rows = (particles * repeats + np.arange(repeats)).reshape(size, n)
        estimates.append(kde_prevalence(likelihoods[np.arange(size)[:, None], rows]))
    return np.concatenate(estimates)
