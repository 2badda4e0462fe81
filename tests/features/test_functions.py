"""Tests of the per-particle feature functions against known answers."""

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.measure import label, moments_central, moments_normalized, regionprops

from sklipo.features import (
    area,
    central_moments,
    circularity,
    diameter,
    edge_profile,
    intensity_histogram,
    length,
    max_width,
    normalized_moments,
    radial_profile,
    segmentation_variance,
    signal_to_noise,
)

RND_SEED = 0


def _ellipse(size, semi_rows, semi_cols, centre=None):
    rows, cols = np.mgrid[:size, :size]
    cy, cx = centre if centre is not None else ((size - 1) / 2, (size - 1) / 2)
    return ((rows - cy) / semi_rows) ** 2 + ((cols - cx) / semi_cols) ** 2 <= 1


DISC = _ellipse(101, 30, 30)
ELLIPSE = _ellipse(121, 20, 45)


def test_area_of_disc():
    """Check that a disc of radius r has area pi r^2 in nm^2 within 2 %."""
    assert area(DISC, 1.0) == pytest.approx(np.pi * 30**2, rel=0.02)


def test_circularity_of_disc_and_ellipse():
    """Check that a disc is about 1 and an elongated ellipse clearly less."""
    assert circularity(DISC) == pytest.approx(1.0, abs=0.03)
    # Ramanujan's perimeter of an ellipse with semi-axes 20 and 45.
    perimeter = np.pi * (3 * 65 - np.sqrt((3 * 20 + 45) * (20 + 3 * 45)))
    assert circularity(ELLIPSE) == pytest.approx(4 * np.pi**2 * 20 * 45 / perimeter**2, abs=0.03)


def test_diameter_and_length_of_disc():
    """Check that a disc's diameter is 2 r (plus the half-pixel outline)."""
    assert diameter(DISC) == pytest.approx(61.0, abs=0.5)
    assert length(DISC, 0.5) == pytest.approx(30.5, abs=0.25)


def test_diameter_of_ellipse_is_largest_axis():
    """Check that an ellipse's diameter is its major axis, not the minor."""
    assert diameter(ELLIPSE) == pytest.approx(91.0, abs=0.5)


def test_diameter_matches_regionprops_feret():
    """Check diameter against scikit-image's feret_diameter_max on random blobs."""
    rng = np.random.RandomState(RND_SEED)
    for _ in range(5):
        blobs = label(ndi.gaussian_filter(rng.normal(size=(64, 64)), 4) > 0)
        mask = blobs == np.bincount(blobs.ravel())[1:].argmax() + 1
        expected = regionprops(mask.astype(np.uint8))[0].feret_diameter_max
        # regionprops traces the convex-hull image, up to a pixel larger.
        assert expected - 1.0 <= diameter(mask) <= expected + 1e-9


def test_max_width_of_disc_and_ellipse():
    """Check max width: the diameter of a disc, the minor axis of an ellipse."""
    assert max_width(DISC, 1.0) == pytest.approx(60.0, rel=0.02)
    assert max_width(ELLIPSE, 1.0) == pytest.approx(40.0, rel=0.03)


def test_lengths_scale_with_pixel_size_areas_squared():
    """Check that lengths scale with the pixel size and areas with its square."""
    assert length(ELLIPSE, 2.5) == pytest.approx(2.5 * length(ELLIPSE, 1.0))
    assert max_width(ELLIPSE, 2.5) == pytest.approx(2.5 * max_width(ELLIPSE, 1.0))
    assert area(ELLIPSE, 2.5) == pytest.approx(2.5**2 * area(ELLIPSE, 1.0))


@pytest.mark.parametrize("mask", [DISC, ELLIPSE, _ellipse(60, 10, 25, centre=(20, 31))])
def test_moments_match_skimage(mask):
    """Check the moments against skimage's moments_central on the same mask."""
    mu = moments_central(mask.astype(float), order=3)
    nu = moments_normalized(mu, order=3)
    np.testing.assert_allclose(central_moments(mask), [mu[2, 0], mu[0, 2], mu[3, 0], mu[0, 3]])
    np.testing.assert_allclose(normalized_moments(mask), [nu[2, 0], nu[0, 2], nu[3, 0], nu[0, 3]])


def test_radial_profile_peaks_at_ring_radius():
    """Check that a bright ring of radius R peaks in the ring holding R."""
    rng = np.random.RandomState(RND_SEED)
    rows, cols = np.mgrid[:121, :121]
    distance = np.hypot(rows - 60, cols - 60)
    image = np.exp(-((distance - 30) ** 2) / 4) + rng.normal(0, 0.05, distance.shape)
    mask = distance <= 32
    profile = radial_profile(image, mask, n_bins=16)
    ring_width = 1.5 * np.sqrt(mask.sum() / np.pi) / 16
    assert profile.argmax() == int(30 / ring_width)


def test_edge_profile_has_membrane_at_zero_in_nm():
    """Check that bins outside the outline read background, inside the particle."""
    rng = np.random.RandomState(RND_SEED)
    mask = _ellipse(121, 40, 40)
    image = np.where(mask, 5.0, 0.0) + rng.normal(0, 1.0, mask.shape)
    profile = edge_profile(image, mask, 1.0, n_bins=8, distance_range=(-8.0, 24.0))
    # Bins of 4 nm: the first two lie outside the outline, the others inside.
    np.testing.assert_allclose(profile[:2], 0.0, atol=0.3)
    np.testing.assert_allclose(profile[2:], 5.0, atol=0.3)


def test_edge_profile_aligns_across_magnifications():
    """Check that the same particle at half the pixel size gives the same profile."""
    rows, cols = np.mgrid[:200, :200]
    distance = np.hypot(rows - 99.5, cols - 99.5)
    fine_mask = distance <= 80
    # An inner membrane 22.5 px = 11.25 nm deep: the middle of bin 6.
    fine = np.exp(-((distance - 57.5) ** 2) / 20)
    coarse_mask = fine_mask.reshape(100, 2, 100, 2).mean(axis=(1, 3)) >= 0.5
    coarse = fine.reshape(100, 2, 100, 2).mean(axis=(1, 3))
    p_fine = edge_profile(fine, fine_mask, 0.5, n_bins=10, distance_range=(-5.0, 20.0))
    p_coarse = edge_profile(coarse, coarse_mask, 1.0, n_bins=10, distance_range=(-5.0, 20.0))
    assert p_fine.argmax() == p_coarse.argmax() == 6  # bins of 2.5 nm from -5 nm


@pytest.mark.parametrize("dtype, scale", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0)])
def test_histogram_independent_of_bit_depth(dtype, scale):
    """Check that one scene in 8-bit, 16-bit and float gives one histogram."""
    rng = np.random.RandomState(RND_SEED)
    scene = np.clip(0.4 + 0.05 * rng.normal(size=(80, 80)) + 0.15 * DISC[10:90, 10:90], 0, 1)
    reference = intensity_histogram(np.round(scene * 255) / 255, DISC[10:90, 10:90])
    image = np.round(scene * 255).astype(np.float64) / 255 * scale
    hist = intensity_histogram(image.astype(dtype), DISC[10:90, 10:90])
    np.testing.assert_allclose(hist, reference, atol=1e-3)
    assert hist.shape == (32,)
    assert hist.sum() == pytest.approx(1.0)


def test_uniform_image_features():
    """Check a uniform image: one histogram bin, zero variance, zero SNR, flat profiles."""
    image = np.full((60, 60), 7, dtype=np.uint8)
    mask = _ellipse(60, 20, 20)
    hist = intensity_histogram(image, mask)
    assert hist[16] == 1.0 and hist.sum() == 1.0  # bin 16 holds [0, 0.25) std
    assert segmentation_variance(image, mask) == 0.0
    assert signal_to_noise(image, mask) == 0.0
    np.testing.assert_array_equal(radial_profile(image, mask), 0.0)
    np.testing.assert_array_equal(edge_profile(image, mask, 1.0), 0.0)


def test_signal_to_noise_higher_for_sharp_membrane():
    """Check that a clean membrane scores higher than the same one buried in noise."""
    rng = np.random.RandomState(RND_SEED)
    mask = _ellipse(101, 35, 35)
    rows, cols = np.mgrid[:101, :101]
    membrane = np.exp(-((np.hypot(rows - 50, cols - 50) - 34) ** 2) / 2)
    background = rng.normal(0, 0.05, mask.shape)
    clean = signal_to_noise(membrane + background, mask)
    noisy = signal_to_noise(membrane + 20 * background, mask)
    assert clean > 10 * noisy > 0


def test_segmentation_variance_in_background_units():
    """Check that interior noise twice the background's gives variance about 4."""
    rng = np.random.RandomState(RND_SEED)
    mask = _ellipse(101, 35, 35)
    image = rng.normal(0, 1.0, mask.shape) * np.where(mask, 2.0, 1.0)
    assert segmentation_variance(image, mask) == pytest.approx(4.0, rel=0.1)


def test_multichannel_intensity_features_per_channel():
    """Check that each channel of an (H, W, C) image gives its grayscale result."""
    rng = np.random.RandomState(RND_SEED)
    channels = rng.normal(size=(2, 101, 101)) + np.array([1.0, 3.0])[:, None, None] * DISC
    image = np.moveaxis(channels, 0, -1)
    for function in (radial_profile, intensity_histogram, signal_to_noise, segmentation_variance):
        result = function(image, DISC)
        for c in range(2):
            np.testing.assert_allclose(result[c], function(channels[c], DISC))


def test_one_pixel_particle():
    """Check a one-pixel particle: defined, finite values."""
    mask = np.zeros((9, 9), bool)
    mask[4, 4] = True
    image = np.random.RandomState(RND_SEED).normal(size=mask.shape)
    assert area(mask, 2.0) == 4.0
    assert circularity(mask) == 1.0
    assert diameter(mask) == 1.0
    assert max_width(mask, 1.0) == 2.0
    np.testing.assert_array_equal(central_moments(mask), 0.0)
    for function in (radial_profile, intensity_histogram, signal_to_noise, segmentation_variance):
        assert np.isfinite(function(image, mask)).all()
    assert np.isfinite(edge_profile(image, mask, 1.0)).all()


def test_mask_touching_border():
    """Check that a particle cut by the image edge is measured as seen, finitely."""
    mask = _ellipse(60, 25, 25, centre=(10, 30))  # cut at the top edge
    image = np.random.RandomState(RND_SEED).normal(size=mask.shape) + 3 * mask
    assert area(mask, 1.0) == mask.sum()
    assert diameter(mask) <= 51.0
    for values in (
        edge_profile(image, mask, 1.0),
        radial_profile(image, mask),
        intensity_histogram(image, mask),
        [signal_to_noise(image, mask), segmentation_variance(image, mask), circularity(mask)],
    ):
        assert np.isfinite(values).all()


def test_mask_covering_whole_image():
    """Check that a full mask (no background) still gives finite features."""
    image = np.random.RandomState(RND_SEED).normal(size=(30, 40))
    mask = np.ones((30, 40), bool)
    assert max_width(mask, 1.0) == pytest.approx(30.0)
    assert np.isfinite(edge_profile(image, mask, 1.0)).all()
    assert intensity_histogram(image, mask).sum() == pytest.approx(1.0)


def test_empty_mask_raises():
    """Check that an empty mask is refused with a clear message."""
    with pytest.raises(ValueError, match="mask of the particle is empty"):
        circularity(np.zeros((10, 10), bool))


@pytest.mark.parametrize("function", [area, length, max_width])
@pytest.mark.parametrize("pixel_size", [np.nan, 0.0, -1.0])
def test_nm_features_need_pixel_size(function, pixel_size):
    """Check that nm features refuse a missing or non-positive pixel size."""
    with pytest.raises(ValueError, match=f"{function.__name__} is measured in nanometres"):
        function(DISC, pixel_size)


def test_edge_profile_range_beyond_particle_raises():
    """Check that a range no pixel falls into is refused."""
    mask = _ellipse(20, 5, 5)
    with pytest.raises(ValueError, match="No pixel of the particle lies within"):
        edge_profile(mask.astype(float), mask, 1.0, distance_range=(50.0, 60.0))


def test_edge_profile_widens_a_range_narrower_than_8_pixels():
    """Check that coarse pixels (fluorescence, 100 nm) get the range over 8 pixels."""
    rng = np.random.RandomState(RND_SEED)
    mask = _ellipse(41, 12, 12)
    image = np.where(mask, 5.0, 0.0) + rng.normal(0, 1.0, mask.shape)
    # (-10, 30) nm is 0.4 px at 100 nm: widened to (-2, 6) px, bins of 0.5 px
    profile = edge_profile(image, mask, 100.0, n_bins=16)
    np.testing.assert_allclose(profile[:3], 0.0, atol=0.6)  # background, in its sd
    np.testing.assert_allclose(profile[5:], 5.0, atol=0.6)
    # at 1 nm the range spans 40 px and is kept
    kept = edge_profile(image, mask, 1.0, n_bins=8, distance_range=(-8.0, 24.0))
    assert np.all(np.isfinite(kept)) and kept[0] < 1 < 4 < kept[3]


def test_mask_shape_mismatch_raises():
    """Check that a mask of another size than the image is refused."""
    with pytest.raises(ValueError, match=r"mask of the particle has shape \(9, 9\)"):
        radial_profile(np.zeros((10, 10)), np.ones((9, 9), bool))
