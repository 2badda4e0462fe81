"""Vectorised prevalence solvers: adjusted counts on the simplex, and SLD's EM.

Every function here works on a batch of problems at once (a leading axis of
bootstrap replicates), so confidence intervals cost a few array operations
instead of a Python loop over hundreds of replicates.
"""

# License: BSD 3 clause

from itertools import combinations

import numpy as np

__all__ = []

# Up to this many classes the adjusted-count problem is solved exactly by
# enumerating supports (2**k - 1 small linear systems); above it, by projected
# gradient.
_MAX_CLASSES_ENUMERATE = 8


def project_simplex(v):
    """Euclidean projection of each row of `v` onto the probability simplex.

    The sort-based algorithm of Held, Wolfe and Crowder (1974), as written by
    Duchi et al. (2008), vectorised over rows.

    Parameters
    ----------
    v : ndarray of shape (..., n_classes)
        Points to project.

    Returns
    -------
    projected : ndarray of shape (..., n_classes)
        The closest points with non-negative entries summing to one.
    """
    v = np.asarray(v, dtype=float)
    k = v.shape[-1]
    u = np.sort(v, axis=-1)[..., ::-1]
    cumulative = np.cumsum(u, axis=-1) - 1.0
    index = np.arange(1, k + 1)
    condition = u - cumulative / index > 0
    rho = k - 1 - np.argmax(condition[..., ::-1], axis=-1)
    theta = np.take_along_axis(cumulative, rho[..., None], axis=-1) / (rho[..., None] + 1)
    return np.maximum(v - theta, 0.0)


def solve_adjusted(rates, observed):
    """Prevalences that best explain the observed shares, on the simplex.

    Solves ``min ||rates.T @ p - observed||^2`` subject to ``p >= 0`` and
    ``sum(p) == 1`` for every problem of the batch, where ``rates[i, j]`` is
    the (hard or soft) share of true class ``i`` predicted as class ``j`` and
    ``observed[j]`` the share of the sample predicted as ``j``. The
    constrained solution is the least-squares one with the constraints, not
    the unconstrained solution clipped to [0, 1] and renormalised (which
    QuaPy's ACC and PACC do by default): with a rare class, the clipped
    answer moves mass between the frequent classes arbitrarily. The columns
    may be any features averaged over a sample, not only predicted classes:
    DMy passes histogram bins, ``n_classes * n_bins`` of them.

    Parameters
    ----------
    rates : ndarray of shape (n_classes, n_features) or (n_problems, n_classes, n_features)
        Rows true classes, columns predicted classes (``n_features ==
        n_classes``) or other features; row ``i`` is their mean over class
        ``i``.
    observed : ndarray of shape (n_features,) or (n_problems, n_features)
        Their mean over the sample.

    Returns
    -------
    prevalence : ndarray of shape (n_classes,) or (n_problems, n_classes)
        The estimated prevalences.
    """
    rates = np.asarray(rates, dtype=float)
    observed = np.asarray(observed, dtype=float)
    single = observed.ndim == 1
    observed = np.atleast_2d(observed)
    design = np.swapaxes(np.broadcast_to(rates, (len(observed),) + rates.shape[-2:]), 1, 2)
    k = design.shape[-1]
    if k <= _MAX_CLASSES_ENUMERATE:
        result = _solve_by_supports(design, observed)
    else:
        result = _solve_by_projected_gradient(design, observed)
    return result[0] if single else result


def _solve_by_supports(design, observed):
    """Exact solution: the best feasible equality-constrained fit over all supports.

    The minimiser of a convex quadratic on the simplex is, for its support
    S, the least-squares fit with ``sum(p_S) == 1`` and ``p`` zero off S; and
    every such fit that is non-negative is feasible. So the best feasible
    candidate over all supports is the minimiser.
    """
    n, k = design.shape[0], design.shape[2]
    best = np.full((n, k), np.nan)
    best_loss = np.full(n, np.inf)
    for size in range(1, k + 1):
        for support in combinations(range(k), size):
            support = list(support)
            d = design[:, :, support]
            # KKT system of min ||d x - q||^2 s.t. 1'x = 1; pinv copes with a
            # singular d (a class the classifier never predicts apart).
            kkt = np.zeros((n, size + 1, size + 1))
            kkt[:, :size, :size] = 2 * np.swapaxes(d, 1, 2) @ d
            kkt[:, :size, size] = 1.0
            kkt[:, size, :size] = 1.0
            rhs = np.concatenate(
                [2 * np.einsum("nkj,nk->nj", d, observed), np.ones((n, 1))], axis=1
            )
            x = np.einsum("nij,nj->ni", np.linalg.pinv(kkt), rhs)[:, :size]
            feasible = (x >= -1e-9).all(axis=1)
            loss = ((np.einsum("nkj,nj->nk", d, x) - observed) ** 2).sum(axis=1)
            better = feasible & (loss < best_loss - 1e-15)
            best_loss[better] = loss[better]
            candidate = np.zeros((n, k))
            candidate[:, support] = np.maximum(x, 0.0)
            best[better] = candidate[better]
    return best / best.sum(axis=1, keepdims=True)


def _solve_by_projected_gradient(design, observed, max_iter=5000, tol=1e-10):
    """Accelerated projected gradient (FISTA) for many classes."""
    n, k = design.shape[0], design.shape[2]
    lipschitz = 2 * np.linalg.norm(design, ord=2, axis=(1, 2)) ** 2
    step = 1.0 / np.maximum(lipschitz, 1e-12)
    p = np.full((n, k), 1.0 / k)
    z, t = p.copy(), 1.0
    for _ in range(max_iter):
        gradient = 2 * np.einsum(
            "nkj,nk->nj", design, np.einsum("nkj,nj->nk", design, z) - observed
        )
        p_next = project_simplex(z - step[:, None] * gradient)
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        z = p_next + (t - 1) / t_next * (p_next - p)
        converged = np.abs(p_next - p).max() < tol
        p, t = p_next, t_next
        if converged:
            break
    return p


def em_prevalence(posteriors, training_prevalence, *, max_iter=1000, tol=1e-6):
    """Saerens-Latinne-Decaestecker EM for the prevalence of each batch of posteriors.

    Re-weights the posteriors by the ratio of the current prevalence
    estimate to the training prevalence, renormalises them, and takes their
    mean as the next estimate, until it stops moving (Saerens et al., 2002).
    All problems of the batch iterate in lockstep.

    Parameters
    ----------
    posteriors : ndarray of shape (n_samples, n_classes) or (n_problems, n_samples, n_classes)
        Class probabilities under the training prevalence.
    training_prevalence : ndarray of shape (n_classes,)
        The prevalence the posteriors are calibrated to.
    max_iter : int, default=1000
        Most EM iterations.
    tol : float, default=1e-6
        Stop when no estimate moves by more than this.

    Returns
    -------
    prevalence : ndarray of shape (n_classes,) or (n_problems, n_classes)
        The estimated prevalences.
    """
    posteriors = np.asarray(posteriors, dtype=float)
    single = posteriors.ndim == 2
    if single:
        posteriors = posteriors[None]
    prior = np.clip(np.asarray(training_prevalence, dtype=float), 1e-12, None)
    ratio = posteriors / prior
    estimate = np.broadcast_to(prior, (len(posteriors), len(prior))).copy()
    # Iterate only the problems still moving: near an empty class EM creeps,
    # and a few slow bootstrap replicates must not cost the whole batch.
    active = np.arange(len(posteriors))
    for _ in range(max_iter):
        weighted = ratio[active] * estimate[active, None, :]
        weighted /= weighted.sum(axis=2, keepdims=True)
        updated = weighted.mean(axis=1)
        moving = np.abs(updated - estimate[active]).max(axis=1) >= tol
        estimate[active] = updated
        active = active[moving]
        if not len(active):
            break
    return estimate[0] if single else estimate
