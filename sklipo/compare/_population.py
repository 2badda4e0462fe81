"""Population numbers of a test fold: calibration error and class-share error under prior shift."""

# License: BSD 3 clause

import numpy as np

from sklipo.metrics import expected_calibration_error
from sklipo.quantification import solve_adjusted

__all__ = []

#: The per-fold population numbers compare records, with their display names.
POPULATION_SCORES = {
    "ece": "ECE",
    "cc_error": "share error (CC)",
    "acc_error": "share error (ACC)",
}

# Shifted test samples drawn per half of a test fold.
_N_DRAWS = 10


def calibration_error(estimator, X, y, labels):
    """Expected calibration error of `estimator` on `X`, or NaN without ``predict_proba``."""
    if not hasattr(estimator, "predict_proba"):
        return np.nan
    proba = estimator.predict_proba(X)
    classes = np.asarray(getattr(estimator, "classes_", labels))
    # a class missing from the training fold has no column: probability 0
    full = np.zeros((len(y), len(labels)))
    columns = np.searchsorted(labels, classes) if len(classes) < len(labels) else slice(None)
    full[:, columns] = proba
    return expected_calibration_error(y, full, labels=labels)


def shifted_share_errors(y, y_pred, labels, *, seed=0):
    """Mean absolute class-share error of classify-and-count and adjusted count, prior-shifted.

    The test fold is split into two stratified halves. One half gives the
    misclassification rates ``P(predicted j | true i)``; from the other,
    :data:`_N_DRAWS` samples are drawn (by class, with replacement) whose
    class shares are uniform on the simplex, and each sample's shares are
    estimated by counting the predictions (CC) and by correcting that count
    with the rates (ACC, least squares on the simplex). Then the halves swap.

    Rates from the other half of the test fold, rather than from internal
    cross-validation of the training fold as
    :class:`~sklipo.quantification.PrevalenceEstimator` does, cost no extra
    fit (a network per fold and model would) and are still out of sample.

    Parameters
    ----------
    y, y_pred : ndarray of shape (n,)
        True and predicted labels of the test fold.
    labels : ndarray of shape (n_classes,)
        The classes.
    seed : int, default=0
        Seeds the halves and the samples: the same for every model, so the
        errors are paired.

    Returns
    -------
    cc_error, acc_error : float
        Mean absolute error over samples and classes.
    """
    rng = np.random.default_rng(seed)
    k = len(labels)
    true = np.searchsorted(labels, y)
    pred = np.searchsorted(labels, y_pred)
    members = [rng.permutation(np.flatnonzero(true == c)) for c in range(k)]
    halves = [np.concatenate([m[start::2] for m in members]) for start in (0, 1)]
    errors = {"cc": [], "acc": []}
    for rates_half, sample_half in (halves, halves[::-1]):
        rates = np.eye(k)  # a class absent from this half: taken as always right
        for c in range(k):
            of_c = pred[rates_half][true[rates_half] == c]
            if len(of_c):
                rates[c] = np.bincount(of_c, minlength=k) / len(of_c)
        by_class = [sample_half[true[sample_half] == c] for c in range(k)]
        present = [c for c in range(k) if len(by_class[c])]
        if not present:
            continue
        for _ in range(_N_DRAWS):
            shares = np.zeros(k)
            shares[present] = rng.dirichlet(np.ones(len(present)))
            counts = rng.multinomial(len(sample_half), shares)
            drawn = np.concatenate(
                [rng.choice(by_class[c], counts[c]) for c in present if counts[c]]
            )
            realised = counts / counts.sum()
            counted = np.bincount(pred[drawn], minlength=k) / len(drawn)
            errors["cc"].append(np.abs(counted - realised).mean())
            errors["acc"].append(np.abs(solve_adjusted(rates, counted) - realised).mean())
    if not errors["cc"]:
        return np.nan, np.nan
    return float(np.mean(errors["cc"])), float(np.mean(errors["acc"]))
