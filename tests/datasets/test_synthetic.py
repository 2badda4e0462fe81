"""Tests for the synthetic liposome data set, make_liposomes."""

# License: BSD 3 clause

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from sklipo import ParticleSet
from sklipo.datasets import LIPOSOME_CLASSES, make_liposomes
from sklipo.datasets._liposome_parameters import _allocate, _check_weights

TARGET_NAMES = {
    "lamellarity": ["unilamellar", "multilamellar", "uncertain"],
    "encapsulation": ["full", "uncertain", "empty"],
}


def _radial_profile(X, n_bins=16, reach=1.5):
    """Mean standardised intensity in rings around the centre, plus log area.

    Rings are measured in units of the particle's equivalent radius, out to
    `reach` radii; intensities are standardised by the pixels outside the mask.
    """
    rows = []
    for image, mask, pixel_size, _ in X:
        image = image.astype(float)
        outside = image[~mask]
        z = (image - np.median(outside)) / outside.std()
        radius = np.sqrt(mask.sum() / np.pi)
        yy, xx = np.indices(mask.shape)
        r = np.hypot(yy - (mask.shape[0] - 1) / 2, xx - (mask.shape[1] - 1) / 2)
        ring = np.minimum((r / radius * n_bins / reach).astype(int), n_bins).ravel()
        profile = np.bincount(ring, z.ravel(), n_bins + 1) / np.bincount(ring, None, n_bins + 1)
        rows.append(np.r_[profile[:n_bins], np.log(mask.sum() * pixel_size**2)])
    return np.array(rows)


@pytest.fixture(scope="module")
def balanced():
    """A balanced set of 150 particles for each problem."""
    return {
        problem: make_liposomes(problem, 150, weights=[1, 1, 1], random_state=0)
        for problem in TARGET_NAMES
    }


@pytest.mark.parametrize("problem", list(TARGET_NAMES))
def test_make_liposomes_returns_bunch(balanced, problem):
    # Check the bunch's fields, types and class names.
    data = balanced[problem]
    assert isinstance(data, Bunch)
    assert set(data) == {"data", "target", "target_names", "DESCR"}
    assert isinstance(data.data, ParticleSet)
    assert len(data.data) == 150
    assert data.target.shape == (150,)
    assert np.issubdtype(data.target.dtype, np.integer)
    assert data.target_names.tolist() == TARGET_NAMES[problem]
    assert np.bincount(data.target).tolist() == [50, 50, 50]
    assert "Synthetic TEM liposomes" in data.DESCR


def test_make_liposomes_return_X_y():
    # Check that return_X_y gives the bunch's data and target.
    data = make_liposomes("encapsulation", 12, random_state=3)
    X, y = make_liposomes("encapsulation", 12, random_state=3, return_X_y=True)
    assert isinstance(X, ParticleSet)
    np.testing.assert_array_equal(y, data.target)
    np.testing.assert_array_equal(X.ids, data.data.ids)
    for a, b in zip(X.images, data.data.images):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("problem", list(TARGET_NAMES))
def test_make_liposomes_images_and_masks(balanced, problem):
    # Check pixel type and range, mask shape, and image sizes like real cut-outs.
    data = balanced[problem]
    X = data.data
    assert X.n_channels == 1
    for image, mask in zip(X.images, X.masks):
        assert image.dtype == np.float32 and image.ndim == 2
        assert 0.0 <= image.min() and image.max() <= 1.0
        assert mask.dtype == bool and mask.shape == image.shape
    sizes = X.sizes
    assert sizes.min() >= 110 and sizes.max() <= 350
    assert len(np.unique(sizes[:, 0])) > 20  # sizes vary


@pytest.mark.parametrize("surrounding", [50, 12, 0])
def test_make_liposomes_surrounding(surrounding):
    # Check that the mask's bounding box lies `surrounding` px from every edge.
    X, _ = make_liposomes(
        "lamellarity", 20, surrounding=surrounding, random_state=1, return_X_y=True
    )
    for mask in X.masks:
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        assert rows[0] == surrounding and cols[0] == surrounding
        assert rows[-1] == mask.shape[0] - 1 - surrounding
        assert cols[-1] == mask.shape[1] - 1 - surrounding


@pytest.mark.parametrize("problem", list(TARGET_NAMES))
def test_make_liposomes_mask_is_centred_particle(balanced, problem):
    # Check that the mask is one filled, roughly round particle in the centre.
    data = balanced[problem]
    for mask in data.data.masks:
        yy, xx = np.nonzero(mask)
        centre = (np.array(mask.shape) - 1) / 2
        assert np.abs([yy.mean() - centre[0], xx.mean() - centre[1]]).max() < 2.0
        # Filled: the centre pixel belongs to the particle, and the mask covers
        # most of its bounding box (an ellipse covers pi / 4 of it).
        assert mask[mask.shape[0] // 2, mask.shape[1] // 2]
        box = (yy.max() - yy.min() + 1) * (xx.max() - xx.min() + 1)
        assert 0.7 < mask.sum() / box < 0.85


def test_make_liposomes_sizes_by_class():
    # Check class size distributions: multilamellar liposomes are larger.
    X, y = make_liposomes("lamellarity", 150, weights=[1, 1, 1], random_state=0,
                          return_X_y=True)
    diameter = np.array([2 * np.sqrt(m.sum() / np.pi) for m in X.masks]) * X.pixel_size
    medians = [np.median(diameter[y == k]) for k in range(3)]
    assert 70 < medians[0] < 100
    assert 110 < medians[1] < 145
    assert medians[1] > 1.3 * medians[0]
    # The distributions overlap.
    assert diameter[y == 1].min() < medians[0] < diameter[y == 0].max()


def test_make_liposomes_pixel_size():
    # Check that particles are drawn in nm: halving the pixel size quadruples areas.
    X2, _ = make_liposomes("encapsulation", 20, random_state=0, return_X_y=True)
    X1, _ = make_liposomes("encapsulation", 20, pixel_size=1.0, random_state=0,
                           return_X_y=True)
    np.testing.assert_array_equal(X2.pixel_size, 2.0)
    np.testing.assert_array_equal(X1.pixel_size, 1.0)
    area1 = np.array([m.sum() for m in X1.masks])
    area2 = np.array([m.sum() for m in X2.masks])
    assert 3.6 < np.mean(area1 / area2) < 4.4


@pytest.mark.parametrize(
    "dtype, top", [("uint8", 255), (np.uint16, 65535), ("float64", 1.0)]
)
def test_make_liposomes_dtype(dtype, top):
    # Check that other pixel types hold the same images over their full range.
    X, _ = make_liposomes("lamellarity", 8, dtype=dtype, random_state=2,
                          return_X_y=True)
    reference, _ = make_liposomes("lamellarity", 8, random_state=2, return_X_y=True)
    for image, expected in zip(X.images, reference.images):
        assert image.dtype == np.dtype(dtype)
        np.testing.assert_allclose(image, expected.astype(float) * top, atol=0.51)


def test_make_liposomes_default_proportions():
    # Check that the study's class counts come out exactly at its sample sizes.
    lam = _check_weights(None, (12368, 1717, 84))
    enc = _check_weights(None, (24255, 502, 161))
    assert _allocate(lam, 14169).tolist() == [12368, 1717, 84]
    assert _allocate(enc, 24918).tolist() == [24255, 502, 161]
    np.testing.assert_allclose(lam, [0.8729, 0.1212, 0.0059], atol=5e-5)
    np.testing.assert_allclose(enc, [0.9734, 0.0201, 0.0065], atol=5e-5)
    _, y = make_liposomes("lamellarity", 200, random_state=0, return_X_y=True)
    assert np.bincount(y).tolist() == [175, 24, 1]


@pytest.mark.parametrize(
    "n_samples, weights, expected",
    [
        (3, None, [1, 1, 1]),  # every class at least once
        (2, None, [2, 0, 0]),  # too few samples for that
        (10, None, [8, 1, 1]),
        (30, [1, 1, 1], [10, 10, 10]),
        (10, [1, 1, 1], [4, 3, 3]),  # equal remainders: earlier class first
        (10, [0.5, 0.3], [5, 3, 2]),  # the last class takes the rest
        (10, [0.5, 0.5], [5, 5, 0]),
        (10, [0, 1, 1], [0, 5, 5]),  # a zero weight gives no samples
        (20, [12368, 1717, 84], [17, 2, 1]),  # counts work as weights
    ],
)
def test_make_liposomes_class_counts(n_samples, weights, expected):
    # Check the largest remainder allocation and the one-per-class rule.
    _, y = make_liposomes("lamellarity", n_samples, weights=weights, random_state=0,
                          return_X_y=True)
    assert np.bincount(y, minlength=3).tolist() == expected


def test_make_liposomes_shuffle():
    # Check that shuffle=False groups samples by class and shuffle=True mixes them.
    _, y = make_liposomes("encapsulation", 30, weights=[1, 1, 1], shuffle=False,
                          random_state=0, return_X_y=True)
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 10))
    _, y = make_liposomes("encapsulation", 30, weights=[1, 1, 1], random_state=0,
                          return_X_y=True)
    assert (np.diff(y) != 0).sum() > 2


def test_make_liposomes_ids():
    # Check the ids: problem name and zero-padded position.
    X, _ = make_liposomes("lamellarity", 3, random_state=0, return_X_y=True)
    assert X.ids.tolist() == ["lamellarity-00000", "lamellarity-00001", "lamellarity-00002"]


def test_make_liposomes_reproducible():
    # Check that a seed fixes every array and that another seed changes them.
    X1, y1 = make_liposomes("lamellarity", 15, random_state=7, return_X_y=True)
    X2, y2 = make_liposomes("lamellarity", 15, random_state=7, return_X_y=True)
    X3, y3 = make_liposomes("lamellarity", 15, random_state=8, return_X_y=True)
    np.testing.assert_array_equal(y1, y2)
    for a, b, ma, mb in zip(X1.images, X2.images, X1.masks, X2.masks):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ma, mb)
    assert not all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(X1.images, X3.images)
    )
    rng = np.random.RandomState(7)
    X4, _ = make_liposomes("lamellarity", 15, random_state=rng, return_X_y=True)
    np.testing.assert_array_equal(X4.images[0], X1.images[0])


def test_make_liposomes_random_state_none_uses_global_rng():
    # Check that random_state=None draws from NumPy's global RNG without
    # reseeding it.
    after = []
    for seed in (0, 0, 1):
        np.random.seed(seed)
        make_liposomes("lamellarity", 3)
        after.append(np.random.rand())
    assert after[0] == after[1] != after[2]


def test_make_liposomes_encapsulation_interior_density(balanced):
    # Check that full liposomes are darker inside than uncertain, and uncertain
    # darker than empty ones.
    data = balanced["encapsulation"]
    interior = _radial_profile(data.data)[:, :6].mean(axis=1)  # r < 0.56 radii
    full, uncertain, empty = (interior[data.target == k].mean() for k in range(3))
    assert full < uncertain - 0.3
    assert uncertain < empty - 0.3


def test_make_liposomes_lamellarity_inner_rings(balanced):
    # Check that multilamellar liposomes are darker just inside the outer
    # membrane, where their inner membranes lie, relative to that membrane.
    data = balanced["lamellarity"]
    profile = _radial_profile(data.data)
    # 0.56 to 0.84 equivalent radii, against the outer membrane at about 0.9.
    inner = profile[:, 6:9].mean(axis=1) / profile[:, 9]
    uni, multi = (inner[data.target == k].mean() for k in range(2))
    assert multi > uni + 0.2


@pytest.mark.parametrize("problem", list(TARGET_NAMES))
def test_make_liposomes_learnable_not_trivial(balanced, problem):
    # Check that a linear model on a radial profile beats chance by far, yet
    # misses some particles: the classes overlap like expert labels do.
    data = balanced[problem]
    features = _radial_profile(data.data)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    score = cross_val_score(model, features, data.target, cv=cv,
                            scoring="balanced_accuracy").mean()
    dummy = cross_val_score(DummyClassifier(), features, data.target, cv=cv,
                            scoring="balanced_accuracy").mean()
    assert score > dummy + 0.15
    assert score < 0.95


@pytest.mark.parametrize(
    "params, match",
    [
        # Both valid names, in any order.
        ({"problem": "fullness"}, "(?=.*'lamellarity')(?=.*'encapsulation')"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_samples": 2.5}, "'n_samples' parameter"),
        ({"weights": [1, 1, 1, 1]}, r"weights must hold 3 class weights .* shape \(4,\)"),
        ({"weights": [[1, 1, 1]]}, r"weights must hold 3 .* shape \(1, 3\)"),
        ({"weights": [1, -1, 1]}, "finite and non-negative"),
        ({"weights": [1, np.nan, 1]}, "finite and non-negative"),
        ({"weights": [0.8, 0.5]}, "must not sum to more than 1; got sum 1.3"),
        ({"weights": [0, 0, 0]}, "positive sum"),
        ({"weights": ["a", "b", "c"]}, "weights must be numbers"),
        ({"surrounding": -1}, "'surrounding' parameter"),
        ({"pixel_size": 0.0}, "'pixel_size' parameter"),
        ({"pixel_size": 20.0}, "'pixel_size' parameter"),
        ({"dtype": "int32"}, "dtype must be one of .* got 'int32'"),
        ({"dtype": "pixels"}, "dtype must be one of"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_make_liposomes_bad_input(params, match):
    # Check that each bad input raises a ValueError naming the problem.
    kwargs = {"problem": "lamellarity", "n_samples": 5, **params}
    with pytest.raises(ValueError, match=match):
        make_liposomes(**kwargs)


@pytest.mark.parametrize("problem", sorted(LIPOSOME_CLASSES))
def test_liposome_classes_match_target_names(problem):
    # Check that the public class-name table is what make_liposomes returns, and read-only.
    data = make_liposomes(problem, 30, random_state=0)
    assert list(LIPOSOME_CLASSES[problem]) == data.target_names.tolist()
    with pytest.raises(TypeError):
        LIPOSOME_CLASSES[problem] = ("a", "b")
