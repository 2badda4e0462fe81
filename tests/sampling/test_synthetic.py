import numpy as np
import pytest
from imblearn.pipeline import Pipeline
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import StratifiedKFold, cross_validate

from sklipo import ParticleSet
from sklipo.datasets import make_liposomes
from sklipo.preprocessing import Flatten, IntensityNormalizer, Resize
from sklipo.sampling import SyntheticOverSampler

RND_SEED = 0


@pytest.fixture(scope="module")
def small_uint16():
    """20 variable-size 16-bit particles, classes 12/5/3, at 3 nm/px."""
    return make_liposomes(
        "lamellarity", 20, weights=[12, 5, 3], dtype="uint16", pixel_size=3.0,
        random_state=1, return_X_y=True,
    )


def test_sos_matches_size_range_and_type(small_uint16):
    """Check that synthetic particles take the size, range and type of their class."""
    X, y = small_uint16
    sampler = SyntheticOverSampler(random_state=RND_SEED)
    X_res, y_res = sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [12, 12, 12]
    assert sampler.class_map_ == {1: "multilamellar", 2: "uncertain"}
    assert all(X_res.images[i] is X.images[i] for i in range(20))
    low = min(im.min() for im in X.images)
    high = max(im.max() for im in X.images)
    for k in range(20, len(X_res)):
        image, label = X_res.images[k], y_res[k]
        assert image.dtype == np.uint16
        assert tuple(X_res.sizes[k]) in {tuple(s) for s in X.sizes[y == label]}
        assert X_res.masks[k].shape == image.shape and X_res.masks[k].any()
        # Percentile matching leaves only the extreme tails outside the data's range.
        assert np.mean((image < low) | (image > high)) < 0.05
    assert X_res.ids[-1].startswith("synthetic-uncertain-")
    np.testing.assert_array_equal(X_res.pixel_size, 3.0)


def test_sos_on_image_stack(resized):
    """Check that a fixed-size stack gets synthetic images of its size and type."""
    X, y = resized
    X_res, y_res = SyntheticOverSampler(
        sampling_strategy={2: 12}, random_state=RND_SEED
    ).fit_resample(X, y)
    assert X_res.shape == (64, 1, 12, 12) and X_res.dtype == X.dtype
    np.testing.assert_array_equal(y_res[60:], 2)
    assert X_res[60:].min() >= X.min() - 0.5 and X_res[60:].max() <= X.max() + 0.5


def test_sos_class_map(small_uint16):
    """Check that class_map names the generator class for string labels."""
    X, y = small_uint16
    labels = np.array(["uni", "multi", "unsure"])[y]
    sampler = SyntheticOverSampler(
        class_map={"multi": "multilamellar", "unsure": "uncertain"}, random_state=RND_SEED
    )
    _, y_res = sampler.fit_resample(X, labels)
    assert sorted(np.unique(y_res, return_counts=True)[1]) == [12, 12, 12]
    assert sampler.class_map_ == {"multi": "multilamellar", "unsure": "uncertain"}


def test_sos_is_reproducible(small_uint16):
    """Check that the same seed gives the same synthetic particles."""
    X, y = small_uint16
    runs = [SyntheticOverSampler(random_state=s).fit_resample(X, y)[0] for s in (2, 2, 3)]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0].images, runs[1].images))
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0].images[20:], runs[2].images[20:]))


def test_sos_runs_in_cross_validate(small_uint16):
    """Check that the sampler runs as an imblearn pipeline step."""
    X, y = small_uint16
    pipe = Pipeline(
        [("sampler", SyntheticOverSampler(random_state=RND_SEED)), ("resize", Resize(8)),
         ("scale", IntensityNormalizer()), ("flatten", Flatten()), ("clf", RidgeClassifier())]
    )
    scores = cross_validate(pipe, X, y, cv=StratifiedKFold(3), error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


@pytest.mark.parametrize(
    "params, labels, match",
    [
        ({}, ["uni", "multi", "unsure"], "'multi' is neither a lamellarity class name"),
        ({"class_map": {"multi": "multilamellar"}}, ["uni", "multi", "unsure"],
         "class_map has no entry for class 'unsure'"),
        ({"class_map": {1: "full", 2: "uncertain"}}, [0, 1, 2], "'full', which is not a lamellarity class"),
        ({"sampling_strategy": {7: 30}}, [0, 1, 2], r"The \{7\} target class is/are not present"),
        ({"problem": "size"}, [0, 1, 2], "'problem' parameter of SyntheticOverSampler"),
    ],
)
def test_sos_bad_input_raises(small_uint16, params, labels, match):
    """Check that unmapped or unknown classes and bad parameters are reported."""
    X, y = small_uint16
    with pytest.raises(ValueError, match=match):
        SyntheticOverSampler(**params).fit_resample(X, np.array(labels)[y])


def test_sos_multichannel_raises():
    """Check that multichannel particles are refused: the generator draws grayscale."""
    X = ParticleSet([np.ones((6, 6, 2))] * 3, channel_axis=-1)
    with pytest.raises(ValueError, match="draws grayscale liposomes.*2 channels"):
        SyntheticOverSampler().fit_resample(X, [0, 0, 1])
