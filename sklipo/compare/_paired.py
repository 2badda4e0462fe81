"""Paired test of two models' scores over the same cross-validation folds."""

# License: BSD 3 clause

import numpy as np
from scipy import stats
from sklearn.utils import Bunch

__all__ = ["paired_fold_test"]


def paired_fold_test(scores_a, scores_b, *, test_fraction):
    """Corrected resampled t-test of two models scored on the same folds.

    The folds of a cross-validation share training samples, so their scores
    are correlated and a plain paired t-test is too confident. Nadeau and
    Bengio's correction inflates the variance of the mean difference by
    ``1/k + n_test/n_train`` instead of ``1/k`` (k folds).

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (n_folds,)
        The two models' scores, fold by fold; folds where either is NaN
        (failed) are left out.
    test_fraction : float
        ``n_test / n_train`` of the folds (1/(k-1) for k-fold).

    Returns
    -------
    result : Bunch
        ``mean_difference`` (mean of a - b), ``std_difference``, ``t``,
        ``p_value`` (two-sided; NaN with fewer than 2 folds or identical
        differences), ``wins`` (folds where a > b), ``losses`` and
        ``n_folds`` (folds compared).

    References
    ----------
    C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
    Machine Learning 52, pp. 239-281, 2003.
    """
    a = np.asarray(scores_a, dtype=float)
    b = np.asarray(scores_b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    diff = a[keep] - b[keep]
    k = diff.size
    mean = float(diff.mean()) if k else np.nan
    std = float(diff.std(ddof=1)) if k > 1 else np.nan
    t = p = np.nan
    if k > 1 and std > 0:
        t = mean / np.sqrt((1 / k + test_fraction) * std**2)
        p = float(2 * stats.t.sf(abs(t), df=k - 1))
    return Bunch(
        mean_difference=mean,
        std_difference=std,
        t=float(t),
        p_value=p,
        wins=int(np.sum(diff > 0)),
        losses=int(np.sum(diff < 0)),
        n_folds=int(k),
    )
