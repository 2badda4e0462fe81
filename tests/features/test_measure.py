"""Tests of the background standardisation the intensity features share."""

import numpy as np
import pytest

from sklipo.features import standardize_intensity

RND_SEED = 0


def test_standardize_intensity_uses_background():
    """Check that the background gets mean 0 and standard deviation 1."""
    rng = np.random.RandomState(RND_SEED)
    image = rng.normal(100, 5, (50, 50))
    mask = np.zeros((50, 50), bool)
    mask[10:30, 10:30] = True
    image[mask] += 50
    z = standardize_intensity(image, mask)
    assert z[~mask].mean() == pytest.approx(0.0, abs=1e-9)
    assert z[~mask].std() == pytest.approx(1.0)
    assert z[mask].mean() == pytest.approx(10.0, abs=0.5)


def test_standardize_intensity_per_channel():
    """Check that channels are standardised separately."""
    rng = np.random.RandomState(RND_SEED)
    image = rng.normal(size=(40, 40, 2)) * [1.0, 30.0] + [0.0, 1000.0]
    mask = np.zeros((40, 40), bool)
    mask[5:15, 5:15] = True
    z = standardize_intensity(image, mask)
    np.testing.assert_allclose(z[~mask].std(axis=0), 1.0)


def test_standardize_intensity_constant_background_and_image():
    """Check the fallbacks: constant background uses the image; constant image gives 0."""
    mask = np.zeros((20, 20), bool)
    mask[5:10, 5:10] = True
    image = np.where(mask, 10.0, 0.0)
    z = standardize_intensity(image, mask)
    assert np.isfinite(z).all() and z[mask].max() == pytest.approx(10.0 / image.std())
    np.testing.assert_array_equal(standardize_intensity(np.full((20, 20), 3, np.uint8), mask), 0.0)
