"""Tests of ParticleFeatures: columns, multichannel, errors, parallelism, contracts."""

import pickle

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_set_params,
)

from sklipo import ParticleSet
from sklipo.features import ParticleFeatures, edge_profile, intensity_histogram, radial_profile

RND_SEED = 0


def _particles(n=6, n_channels=1, pixel_size=1.5, seed=RND_SEED):
    """Discs and ellipses of varying size on noisy backgrounds, 8-bit."""
    rng = np.random.RandomState(seed)
    images, masks = [], []
    for i in range(n):
        size = 40 + 4 * i
        rows, cols = np.mgrid[:size, :size]
        mask = ((rows - size / 2) / (8 + i)) ** 2 + ((cols - size / 2) / (8 + 2 * (i % 3))) ** 2 <= 1
        shape = (size, size) if n_channels == 1 else (size, size, n_channels)
        image = 60 + 10 * rng.normal(size=shape)
        image += (80 * mask)[..., np.newaxis] if n_channels > 1 else 80 * mask
        images.append(np.clip(image, 0, 255).astype(np.uint8))
        masks.append(mask)
    return ParticleSet(
        images, masks, pixel_size=pixel_size, channel_axis=-1 if n_channels > 1 else None
    )


X = _particles()


def test_particle_features_names_every_column():
    """Check that every column is named and names follow the documented pattern."""
    pf = ParticleFeatures().fit(X)
    Xt = pf.transform(X)
    names = pf.get_feature_names_out()
    assert Xt.shape == (len(X), len(names)) == (len(X), 79)
    assert len(set(names)) == len(names)
    for name in ("area", "mu20", "nu03", "radial_profile_07", "edge_profile_15", "hist_12", "hist_31"):
        assert name in names
    assert np.isfinite(Xt).all()


def test_particle_features_match_functions():
    """Check that the transformer's columns equal the plain functions' results."""
    pf = ParticleFeatures(["radial_profile", "histogram", "edge_profile"]).fit(X)
    Xt = pf.transform(X)
    image, mask, pixel_size, _ = X[3]
    expected = np.concatenate(
        [radial_profile(image, mask), intensity_histogram(image, mask), edge_profile(image, mask, pixel_size)]
    )
    np.testing.assert_allclose(Xt[3], expected)


def test_particle_features_subset_in_given_order():
    """Check that a feature list selects and orders the columns."""
    pf = ParticleFeatures(["diameter", "area"]).fit(X)
    np.testing.assert_array_equal(pf.get_feature_names_out(), ["diameter", "area"])
    full = ParticleFeatures().fit(X)
    all_columns = dict(zip(full.get_feature_names_out(), full.transform(X).T))
    np.testing.assert_allclose(pf.transform(X), np.column_stack([all_columns["diameter"], all_columns["area"]]))


def test_particle_features_profile_bins():
    """Check that n_profile_bins sets both profiles' lengths and names."""
    pf = ParticleFeatures(["edge_profile", "radial_profile"], n_profile_bins=24).fit(X)
    assert pf.transform(X).shape == (len(X), 48)
    assert pf.get_feature_names_out()[-1] == "radial_profile_23"


def test_particle_features_multichannel():
    """Check that intensity features come per channel, shape features once."""
    X2 = _particles(n_channels=2)
    pf = ParticleFeatures(["area", "histogram", "signal_to_noise"]).fit(X2)
    names = pf.get_feature_names_out()
    assert list(names[:3]) == ["area", "hist_00_c0", "hist_01_c0"]
    assert "hist_31_c1" in names and names[-1] == "signal_to_noise_c1"
    Xt = pf.transform(X2)
    assert Xt.shape == (len(X2), 1 + 2 * 32 + 2)
    image, mask, _, _ = X2[2]
    np.testing.assert_allclose(Xt[2, 33:65], intensity_histogram(image[..., 1], mask))


def test_particle_features_pandas_output():
    """Check set_output(transform='pandas') gives named columns."""
    pd = pytest.importorskip("pandas")
    pf = ParticleFeatures(["area", "histogram"]).set_output(transform="pandas")
    frame = pf.fit_transform(X)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(pf.get_feature_names_out())
    assert frame.shape == (len(X), 33)


def test_particle_features_accepts_arrays():
    """Check that a plain (n, H, W) stack works with features needing no pixel size."""
    stack = np.random.RandomState(RND_SEED).rand(4, 30, 30)
    Xt = ParticleFeatures(["circularity", "histogram", "radial_profile"]).fit_transform(stack)
    assert Xt.shape == (4, 1 + 32 + 16) and np.isfinite(Xt).all()


def test_particle_features_missing_pixel_size_names_features():
    """Check that nm features without a pixel size raise naming those features."""
    X_unknown = _particles(pixel_size=None)
    with pytest.raises(ValueError, match=r"\['area', 'max_width', 'length', 'edge_profile'\].*particle 0"):
        ParticleFeatures().fit(X_unknown)
    # Features in pixels need none, and pixel_size_nm supplies one.
    ParticleFeatures(["diameter", "histogram"]).fit_transform(X_unknown)
    Xt = ParticleFeatures(["area"], pixel_size_nm=2.0).fit_transform(X_unknown)
    np.testing.assert_allclose(Xt[:, 0], 4 * np.array([m.sum() for m in X.masks]))


def test_particle_features_pixel_size_override():
    """Check that pixel_size_nm overrides the set's pixel sizes."""
    own = ParticleFeatures(["length"]).fit_transform(X)
    override = ParticleFeatures(["length"], pixel_size_nm=3.0).fit_transform(X)
    np.testing.assert_allclose(override, own * 2.0)


def test_particle_features_empty_mask_raises_naming_particle():
    """Check that a mask emptied after construction raises naming the particle."""
    masks = list(X.masks)
    masks[4] = np.zeros_like(masks[4])
    X_bad = ParticleSet(list(X.images), list(X.masks), pixel_size=1.5, ids=list("abcdef"))
    X_bad = X_bad.replace(masks=masks)
    pf = ParticleFeatures().fit(X)
    with pytest.raises(ValueError, match=r"mask of particle 4 \(id 'e'\) is empty"):
        pf.transform(X_bad)


def test_particle_features_border_one_pixel_constant():
    """Check defined, finite features for a border particle, a one-pixel one, a flat image."""
    border = np.zeros((40, 40), bool)
    border[:10, 5:25] = True
    single = np.zeros((20, 20), bool)
    single[10, 10] = True
    rng = np.random.RandomState(RND_SEED)
    X_odd = ParticleSet(
        [rng.rand(40, 40), rng.rand(20, 20), np.full((30, 30), 9, np.uint16)],
        [border, single, np.pad(np.ones((10, 10), bool), 10)],
        pixel_size=1.0,
    )
    pf = ParticleFeatures().fit(X_odd)
    Xt = pf.transform(X_odd)
    assert np.isfinite(Xt).all()
    row = dict(zip(pf.get_feature_names_out(), Xt[1]))
    assert row["area"] == 1.0 and row["diameter"] == 1.0 and row["circularity"] == 1.0
    flat = dict(zip(pf.get_feature_names_out(), Xt[2]))
    assert flat["hist_16"] == 1.0 and flat["segmentation_variance"] == 0.0


@pytest.mark.parametrize(
    "params, message",
    [
        ({"features": ["area", "roundness"]}, r"Unknown feature\(s\) \['roundness'\]"),
        ({"features": []}, "at least one feature"),
        ({"features": ["area", "area"]}, r"lists \['area'\] more than once"),
        ({"features": "everything"}, "features"),
        ({"edge_range_nm": (30.0, -10.0)}, r"edge_range_nm must be a \(low, high\) pair"),
        ({"histogram_range": (0.0, np.inf)}, r"histogram_range must be a \(low, high\) pair"),
        ({"n_profile_bins": 1}, "n_profile_bins"),
        ({"pixel_size_nm": 0.0}, "pixel_size_nm"),
    ],
)
def test_particle_features_invalid_params(params, message):
    """Check that each bad parameter is refused at fit with a clear message."""
    with pytest.raises(ValueError, match=message):
        ParticleFeatures(**params).fit(X)


def test_particle_features_channel_mismatch_raises():
    """Check that transform refuses a set with other channels than fit saw."""
    pf = ParticleFeatures(["histogram"]).fit(X)
    with pytest.raises(ValueError, match=r"X has 2 channel\(s\), but ParticleFeatures was fitted on 1"):
        pf.transform(_particles(n_channels=2))


def test_particle_features_parallel_same_order():
    """Check that two jobs give the rows of one job, in order."""
    X_many = ParticleSet.concatenate([_particles(seed=s) for s in range(3)])
    serial = ParticleFeatures(n_jobs=1).fit_transform(X_many)
    # Threads exercise the same batching and ordering without process start-up.
    with parallel_config(backend="threading"):
        parallel = ParticleFeatures(n_jobs=2).fit_transform(X_many)
    np.testing.assert_array_equal(parallel, serial)


def test_particle_features_contract_on_particles():
    """Check clone, pickle, params, fit idempotence and per-sample independence."""
    pf = ParticleFeatures(["area", "histogram", "edge_profile"])
    check_no_attributes_set_in_init("ParticleFeatures", pf)
    check_get_params_invariance("ParticleFeatures", pf)
    check_set_params("ParticleFeatures", pf)
    params = pf.get_params()
    assert pf.fit(X) is pf
    assert pf.get_params() == params
    first = pf.transform(X)
    np.testing.assert_array_equal(pf.fit(X).transform(X), first)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(pf)).transform(X), first)
    assert not [key for key in vars(clone(pf)) if key.endswith("_")]
    order = np.random.RandomState(RND_SEED).permutation(len(X))
    np.testing.assert_array_equal(pf.transform(X[order]), first[order])
    np.testing.assert_array_equal(pf.transform(X[2:4]), first[2:4])


def test_particle_features_unfitted_raises():
    """Check that transform before fit raises NotFittedError."""
    with pytest.raises(NotFittedError):
        ParticleFeatures().transform(X)


# scikit-learn's check sweep for ParticleFeatures runs in tests/test_common.py.
