import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate

from sklipo import ParticleSet
from sklipo.augmentation import Augmentation
from sklipo.preprocessing import Flatten, Resize
from sklipo.sampling import AugmentedOverSampler

RND_SEED = 0
# Left-right mirroring only: each copy is its source or the source mirrored.
MIRROR = Augmentation(
    rotation=0, shear=0, shift=0, zoom=(1.0, 1.0), horizontal_flip=True, vertical_flip=False
)


def test_aos_balances_with_transformed_copies(liposomes):
    """Check that copies balance the classes and differ from their sources."""
    X, y = liposomes
    sampler = AugmentedOverSampler(random_state=RND_SEED)
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, ParticleSet)
    assert np.bincount(y_res).tolist() == [36, 36, 36]
    src = sampler.source_indices_
    np.testing.assert_array_equal(src[:60], np.arange(60))
    np.testing.assert_array_equal(y_res, y[src])
    assert all(X_res.images[i] is X.images[i] for i in range(60))
    for k in range(60, len(X_res)):
        image, mask, source = X_res.images[k], X_res.masks[k], X.images[src[k]]
        assert image.shape == source.shape == mask.shape and image.dtype == source.dtype
        assert mask.any() and not np.array_equal(image, source)
        assert X_res.ids[k].startswith(X.ids[src[k]] + "#aug")
    np.testing.assert_array_equal(X_res.pixel_size, X.pixel_size[src])


def test_aos_moves_image_and_mask_together():
    """Check that each particle is mirrored about its own centre, mask included."""
    rng = np.random.default_rng(RND_SEED)
    images = [rng.integers(0, 255, (h, w), dtype=np.uint8) for h, w in [(9, 13), (20, 7), (5, 5)]]
    masks = [rng.random(im.shape) < 0.5 for im in images]
    X = ParticleSet(images, masks)
    y = np.array([0, 1, 1])
    sampler = AugmentedOverSampler(sampling_strategy={0: 40}, augment=MIRROR, random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    mirrored = 0
    for k in range(3, len(X_res)):
        source = sampler.source_indices_[k]
        image, mask = X_res.images[k], X_res.masks[k]
        if np.array_equal(image, images[source]):
            np.testing.assert_array_equal(mask, masks[source])
        else:
            np.testing.assert_array_equal(image, images[source][:, ::-1])
            np.testing.assert_array_equal(mask, masks[source][:, ::-1])
            mirrored += 1
    assert 0 < mirrored < 39


@pytest.mark.parametrize("shape", [(12, 10, 10), (12, 2, 10, 10)])
@pytest.mark.parametrize("dtype", [np.float32, np.uint16])
def test_aos_on_image_stacks(shape, dtype):
    """Check that fixed-size stacks keep their shape and pixel type."""
    rng = np.random.default_rng(RND_SEED)
    X = (rng.random(shape) * 1000).astype(dtype)
    y = np.array([0] * 9 + [1] * 3)
    X_res, y_res = AugmentedOverSampler(random_state=RND_SEED).fit_resample(X, y)
    assert X_res.shape == (18,) + shape[1:] and X_res.dtype == dtype
    np.testing.assert_array_equal(X_res[:12], X)
    assert np.bincount(y_res).tolist() == [9, 9]


def test_aos_multichannel_particles():
    """Check that multichannel particles keep their channels."""
    rng = np.random.default_rng(RND_SEED)
    X = ParticleSet([rng.random((8 + i, 9, 3)) for i in range(4)], channel_axis=-1)
    X_res, _ = AugmentedOverSampler(random_state=RND_SEED).fit_resample(X, [0, 0, 0, 1])
    assert X_res.n_channels == 3
    assert [im.shape for im in X_res.images[4:]] == [(11, 9, 3), (11, 9, 3)]


def test_aos_is_reproducible(liposomes):
    """Check that the same seed gives the same copies and another seed others."""
    X, y = liposomes
    runs = [AugmentedOverSampler(random_state=s).fit_resample(X, y)[0] for s in (3, 3, 4)]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0].images, runs[1].images))
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0].images, runs[2].images))


def test_aos_runs_in_cross_validate(liposomes):
    """Check that the sampler runs as an imblearn pipeline step on particle sets."""
    X, y = liposomes
    pipe = Pipeline(
        [("sampler", AugmentedOverSampler(random_state=RND_SEED)), ("resize", Resize(8)),
         ("flatten", Flatten()), ("clf", RidgeClassifier())]
    )
    scores = cross_validate(pipe, X, y, cv=StratifiedKFold(3), error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sampling_strategy": {5: 10}}, r"The \{5\} target class is/are not present"),
        ({"augment": "keras"}, "'augment' parameter of AugmentedOverSampler"),
    ],
)
def test_aos_bad_parameters_raise(resized, params, match):
    """Check that bad parameters are reported."""
    X, y = resized
    with pytest.raises(ValueError, match=match):
        AugmentedOverSampler(**params).fit_resample(X, y)


def test_aos_rejects_feature_matrix(resized):
    """Check that a 2-D matrix is refused with a pointer to imbalanced-learn."""
    X, y = resized
    with pytest.raises(ValueError, match="AugmentedOverSampler takes particles"):
        AugmentedOverSampler().fit_resample(X.reshape(len(X), -1), y)
