import numpy as np
import pytest

from sklipo import ParticleSet
from sklipo.preprocessing import IntensityNormalizer

RND_SEED = 0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float64])
def test_intensity_per_image_standard(dtype):
    """Check that each image gets zero mean and unit spread whatever its bit depth."""
    rng = np.random.RandomState(RND_SEED)
    high = 200 if dtype == np.uint8 else 60000
    images = [(rng.rand(20, 25) * high * s).astype(dtype) for s in (0.2, 1.0)]
    out = IntensityNormalizer().fit_transform(ParticleSet(images))
    for image in out.images:
        assert image.dtype == np.float32
        assert abs(image.mean()) < 1e-4 and abs(image.std() - 1) < 1e-4


def test_intensity_quantile_is_robust_to_outliers():
    """Check that a hot pixel does not squash the quantile-normalised range."""
    image = np.linspace(0, 1000, 400).reshape(20, 20)
    image[0, 0] = 1e6
    out = IntensityNormalizer("quantile", quantile_range=(1, 99)).fit_transform(image[None])
    assert np.median(out) == pytest.approx(0.5, abs=0.02)
    minmax = IntensityNormalizer("minmax").fit_transform(image[None])
    assert np.median(minmax) < 0.01


def test_intensity_dataset_scope_keeps_relative_brightness():
    """Check that fitted statistics keep one image brighter than another."""
    X = np.stack([np.full((8, 8), 100.0), np.full((8, 8), 300.0)])
    normalizer = IntensityNormalizer("standard", per_image=False).fit(X)
    np.testing.assert_allclose(normalizer.center_, [200.0])
    np.testing.assert_allclose(normalizer.scale_, [100.0])
    out = normalizer.transform(X)
    np.testing.assert_allclose(out[:, 0, 0], [-1.0, 1.0])
    per_image = IntensityNormalizer("standard").fit_transform(X)
    np.testing.assert_allclose(per_image, 0.0)  # constant images map to 0, not NaN


def test_intensity_per_channel_statistics():
    """Check that channels are normalised separately and the layout is kept."""
    rng = np.random.RandomState(RND_SEED)
    X = rng.rand(4, 2, 10, 10) * np.array([1.0, 1000.0])[None, :, None, None]
    out = IntensityNormalizer("minmax", per_image=False).fit_transform(X)
    assert out.shape == X.shape
    for c in range(2):
        assert out[:, c].min() == pytest.approx(0) and out[:, c].max() == pytest.approx(1)


def test_intensity_keeps_particle_fields():
    """Check that a particle set keeps masks, pixel sizes and ids."""
    mask = np.zeros((6, 6), bool)
    mask[1:4, 1:4] = True
    X = ParticleSet([np.arange(36.0).reshape(6, 6)], [mask], pixel_size=0.7, ids=["x"])
    out = IntensityNormalizer().fit_transform(X)
    assert out.masks[0] is X.masks[0] and out.ids[0] == "x" and out.pixel_size[0] == 0.7


def test_intensity_dataset_scope_requires_fit_and_channels():
    """Check the unfitted error and the channel-count check."""
    with pytest.raises(Exception, match="not fitted"):
        IntensityNormalizer(per_image=False).transform(np.zeros((1, 4, 4)))
    normalizer = IntensityNormalizer(per_image=False).fit(np.zeros((2, 1, 4, 4)))
    with pytest.raises(ValueError, match="fitted on 1-channel particles but got 3-channel"):
        normalizer.transform(np.zeros((2, 3, 4, 4)))


@pytest.mark.parametrize("quantile_range", [(50, 10), (-1, 99), (0, 101)])
def test_intensity_bad_quantile_range(quantile_range):
    """Check that an impossible quantile range is refused."""
    with pytest.raises(ValueError, match="0 <= low < high <= 100"):
        IntensityNormalizer("quantile", quantile_range=quantile_range).fit(np.zeros((1, 4, 4)))
