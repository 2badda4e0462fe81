"""Tests of the corrected resampled t-test."""

import numpy as np
import pytest
from scipy import stats

from sklipo.compare._paired import paired_fold_test


def test_paired_fold_test_matches_formula():
    """Check t and p against the Nadeau-Bengio formula written out."""
    a = np.array([0.80, 0.82, 0.79, 0.85, 0.81])
    b = np.array([0.78, 0.80, 0.80, 0.80, 0.79])
    result = paired_fold_test(a, b, test_fraction=0.25)
    d = a - b
    t = d.mean() / np.sqrt((1 / 5 + 0.25) * d.var(ddof=1))
    assert result.t == pytest.approx(t)
    assert result.p_value == pytest.approx(2 * stats.t.sf(abs(t), 4))
    assert (result.wins, result.losses, result.n_folds) == (4, 1, 5)


def test_paired_fold_test_is_more_cautious_than_plain_t_test():
    """Check that the correction gives a larger p-value than ttest_rel."""
    rng = np.random.RandomState(0)
    a = rng.rand(10) + 0.05
    b = rng.rand(10)
    corrected = paired_fold_test(a, b, test_fraction=1 / 9)
    assert corrected.p_value > stats.ttest_rel(a, b).pvalue


def test_paired_fold_test_skips_failed_folds_and_degenerate_cases():
    """Check that NaN folds are left out and constant differences give NaN p."""
    result = paired_fold_test([0.9, np.nan, 0.8], [0.5, 0.5, 0.4], test_fraction=0.5)
    assert result.n_folds == 2 and np.isnan(result.p_value)
    assert result.mean_difference == pytest.approx(0.4)
