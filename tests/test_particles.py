import pickle

import joblib
import numpy as np
import pytest
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklipo import Particle, ParticleSet, as_particle_set

RND_SEED = 0


def _particles(n=12, channels=None, seed=RND_SEED):
    rng = np.random.RandomState(seed)
    images, masks = [], []
    for _ in range(n):
        h, w = rng.randint(10, 30, size=2)
        shape = (h, w) if channels is None else (h, w, channels)
        images.append(rng.rand(*shape).astype(np.float32))
        mask = np.zeros((h, w), bool)
        mask[2:-2, 2:-2] = True
        masks.append(mask)
    return ParticleSet(
        images,
        masks,
        pixel_size=rng.uniform(0.5, 1.5, n),
        ids=[f"p{i}" for i in range(n)],
        channel_axis=None if channels is None else -1,
    )


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Checks that every particle arrives with its own mask, pixel size and id."""

    def __init__(self, reference=None):
        self.reference = reference

    def fit(self, X, y):
        self._check(X)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self._check(X)
        return np.full(len(X), self.classes_[0])

    def _check(self, X):
        assert isinstance(X, ParticleSet)
        for particle in X:
            i = int(particle.id[1:])
            ref = self.reference[i]
            # clone() deep-copies `reference`, so compare values, not identity.
            np.testing.assert_array_equal(particle.image, ref.image)
            np.testing.assert_array_equal(particle.mask, ref.mask)
            assert particle.pixel_size == ref.pixel_size


class _Identity(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_particle_set_indexing_keeps_fields_together():
    """Check that integer, slice, boolean and array indexing keep particles whole."""
    X = _particles()
    assert X.shape == (12,) and len(X) == 12
    first = X[0]
    assert isinstance(first, Particle)
    assert first.id == "p0" and first.image.shape[:2] == first.mask.shape
    sub = X[np.array([3, 1])]
    assert list(sub.ids) == ["p3", "p1"]
    assert sub.images[0] is X.images[3]
    np.testing.assert_array_equal(sub.pixel_size, X.pixel_size[[3, 1]])
    assert list(X[2:4].ids) == ["p2", "p3"]
    assert list(X[X.pixel_size > 1].ids) == list(X.ids[X.pixel_size > 1])
    assert list(X[[5], ...].ids) == ["p5"]
    assert len(X[np.array([], dtype=int)]) == 0


def test_particle_set_subsets_share_pixel_buffers():
    """Check that subsets copy references, not pixels."""
    X = _particles()
    sub = X[np.repeat(np.arange(len(X)), 10)]
    assert len(sub) == 120
    assert all(np.shares_memory(a, X.images[i // 10]) for i, a in enumerate(sub.images))


@pytest.mark.parametrize("cv_wrapper", ["cross_validate", "grid_search"])
@pytest.mark.parametrize("pipeline_cls", [Pipeline, ImbPipeline])
def test_particle_set_travels_through_model_selection(cv_wrapper, pipeline_cls):
    """Check that masks, pixel sizes and ids stay with their images in every split."""
    X = _particles(20)
    y = np.array([0, 1] * 10)
    pipe = pipeline_cls([("noop", _Identity()), ("clf", _RecordingClassifier(reference=X))])
    cv = StratifiedKFold(4, shuffle=True, random_state=RND_SEED)
    if cv_wrapper == "cross_validate":
        result = cross_validate(pipe, X, y, cv=cv, error_score="raise")
        assert len(result["test_score"]) == 4
    else:
        search = GridSearchCV(pipe, {"noop": [_Identity(), "passthrough"]}, cv=cv, error_score="raise")
        search.fit(X, y)
        assert isinstance(clone(search.best_estimator_), pipeline_cls)


def test_particle_set_pickles_with_joblib(tmp_path):
    """Check that a set survives pickle and joblib round trips unchanged."""
    X = _particles(channels=2)
    joblib.dump(X, tmp_path / "x.joblib")
    for Y in (pickle.loads(pickle.dumps(X)), joblib.load(tmp_path / "x.joblib")):
        assert Y.n_channels == 2
        for a, b in zip(X, Y):
            np.testing.assert_array_equal(a.image, b.image)
            np.testing.assert_array_equal(a.mask, b.mask)
            assert (a.pixel_size, a.id) == (b.pixel_size, b.id)


def test_particle_set_channel_axis_moves_channels_last():
    """Check that channel_axis follows scikit-image's per-image convention."""
    rng = np.random.RandomState(RND_SEED)
    first = rng.rand(3, 20, 24)
    X = ParticleSet([first, rng.rand(3, 30, 30)], channel_axis=0)
    assert X.n_channels == 3
    assert X.images[0].shape == (20, 24, 3)
    np.testing.assert_array_equal(X.images[0][..., 1], first[1])
    assert X.masks[0].shape == (20, 24) and X.masks[0].all()


def test_particle_set_unknown_pixel_sizes():
    """Check that NaN marks single unknown pixel sizes."""
    X = ParticleSet([np.zeros((4, 4))] * 3, pixel_size=[0.5, np.nan, 0.5])
    assert not X.has_pixel_size and X[[0, 2]].has_pixel_size
    assert repr(X).endswith("0.5 nm/px)")


def test_particle_set_defaults_and_repr():
    """Check default ids, unknown pixel sizes and the summary."""
    X = ParticleSet(np.zeros((3, 8, 8), dtype=np.uint16))
    assert list(X.ids) == ["0", "1", "2"]
    assert np.isnan(X.pixel_size).all() and not X.has_pixel_size
    assert X.images[0].dtype == np.uint16
    assert repr(X) == "ParticleSet(3 particles, 8x8 px, 1 channel, pixel size unknown)"


def test_particle_set_stack_and_concatenate():
    """Check stacking equal sizes, refusing unequal ones, and joining sets."""
    X = ParticleSet(np.arange(2 * 4 * 5).reshape(2, 4, 5))
    np.testing.assert_array_equal(X.stack(), np.arange(40).reshape(2, 4, 5))
    joined = ParticleSet.concatenate([X, _particles(3)])
    assert len(joined) == 5 and list(joined.ids) == ["0", "1", "p0", "p1", "p2"]
    with pytest.raises(ValueError, match="particle 0 is .* particle 2 is .*Resize"):
        joined.stack()
    with pytest.raises(ValueError, match="different numbers of channels"):
        ParticleSet.concatenate([X, _particles(2, channels=2)])


def test_particle_set_replace_swaps_fields_and_shares_the_rest():
    """Check that replace changes only what it is given and copies no pixels."""
    X = _particles(4)
    images = [im[1:, 1:] for im in X.images]
    masks = [m[1:, 1:] for m in X.masks]
    new = X.replace(images=images, masks=masks, pixel_size=2.0, ids=list("abcd"))
    assert new is not X and all(a is b for a, b in zip(new.images, images))
    np.testing.assert_array_equal(new.pixel_size, 2.0)
    assert list(new.ids) == list("abcd")
    renamed = X.replace(ids=list("wxyz"))
    assert renamed.images is X.images and renamed.masks is X.masks
    assert renamed.pixel_size is X.pixel_size and list(X.ids) == [f"p{i}" for i in range(4)]
    assert X.replace(images=[np.dstack([im, im]) for im in X.images]).n_channels == 2
    assert len(X[[]].replace(ids=[])) == 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"images": [np.zeros((4, 4))]}, r"one image and one mask per particle \(2\); got 1 images"),
        ({"masks": [np.ones((4, 4), bool)] * 3}, "got 2 images and 3 masks"),
        ({"masks": [np.ones((4, 4), bool), np.ones((5, 4), bool)]}, r"mask of particle 1 \(id 'b'\) has shape \(5, 4\)"),
        ({"images": [np.zeros((4, 4)), np.zeros((4, 4, 2))]}, r"same number of channels; found \[1, 2\]"),
        ({"pixel_size": [1.0, -1.0]}, "particle 1 has -1.0"),
        ({"ids": ["a"]}, "one identifier per particle"),
    ],
)
def test_particle_set_replace_bad_input(kwargs, match):
    """Check that replace refuses fields that do not fit the set."""
    X = ParticleSet([np.zeros((4, 4)), np.zeros((4, 4))], ids=["a", "b"])
    with pytest.raises(ValueError, match=match):
        X.replace(**kwargs)


def test_particle_set_refuses_array_conversion():
    """Check that NumPy conversion fails with advice instead of a ragged array."""
    with pytest.raises(TypeError, match="Resize"):
        np.asarray(_particles())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"images": []}, ValueError, "at least one particle"),
        ({"images": [np.zeros((4, 4))], "masks": [np.ones((4, 5))]}, ValueError, r"mask of particle 0 has shape \(4, 5\).*\(4, 4\)"),
        ({"images": [np.zeros((4, 4)), np.zeros((4, 4))], "masks": [np.ones((4, 4)), np.zeros((4, 4))]}, ValueError, "mask of particle 1 is empty"),
        ({"images": [np.zeros((4, 4)), np.array([[np.nan, 0], [0, 0]])]}, ValueError, "particle 1 has NaN or infinite"),
        ({"images": [np.full((4, 4), np.inf)]}, ValueError, "particle 0 has NaN or infinite"),
        ({"images": [np.zeros((4, 4, 3))]}, ValueError, "3-D with shape .* no channel_axis"),
        ({"images": [np.zeros(4)]}, ValueError, "must be 2-D"),
        ({"images": [np.zeros((4, 4), dtype=bool)]}, TypeError, "dtype bool"),
        ({"images": [np.zeros((4, 4))], "pixel_size": 0.0}, ValueError, "positive and finite.*particle 0"),
        ({"images": [np.zeros((4, 4))] * 2, "pixel_size": [1.0, -2.0]}, ValueError, "particle 1 has -2.0"),
        ({"images": [np.zeros((4, 4))] * 2, "pixel_size": [np.nan, np.inf]}, ValueError, "particle 1 has inf"),
        ({"images": [np.zeros((4, 4))] * 2, "pixel_size": [1.0]}, ValueError, "one value per particle"),
        ({"images": [np.zeros((4, 4))], "masks": []}, ValueError, "1 images but 0 masks"),
        ({"images": [np.zeros((4, 4))] * 2, "ids": ["a"]}, ValueError, "one identifier per particle"),
        ({"images": [np.zeros((4, 4)), np.zeros((4, 4, 2))], "channel_axis": -1}, ValueError, "particle 0 has shape"),
        ({"images": [np.zeros((4, 4, 1)), np.zeros((4, 4, 2))], "channel_axis": -1}, ValueError, r"same number of channels; found \[1, 2\]"),
    ],
)
def test_particle_set_bad_input(kwargs, error, match):
    """Check that bad input raises an error naming the sample and the problem."""
    images = kwargs.pop("images")
    with pytest.raises(error, match=match):
        ParticleSet(images, **kwargs)


def test_particle_set_errors_name_ids():
    """Check that errors name a particle by its id when ids are given."""
    with pytest.raises(ValueError, match=r"particle 1 \(id 'b.png'\)"):
        ParticleSet([np.zeros((3, 3)), np.zeros((3, 3))], [np.ones((3, 3)), np.zeros((3, 3))], ids=["a.png", "b.png"])


@pytest.mark.parametrize("key", [(1, 2), np.array([0.5]), np.zeros(3, dtype=bool)])
def test_particle_set_bad_index(key):
    """Check that indexes of the wrong kind raise IndexError."""
    with pytest.raises(IndexError):
        _particles(4)[key]


def test_as_particle_set_converts_stacks():
    """Check that image stacks become sets with full masks."""
    gray = as_particle_set(np.zeros((5, 8, 9)))
    assert len(gray) == 5 and gray.n_channels == 1 and gray.masks[0].all()
    color = as_particle_set(np.zeros((5, 3, 8, 9)))
    assert color.n_channels == 3 and color.images[0].shape == (8, 9, 3)
    assert as_particle_set([np.zeros((4, 4)), np.zeros((6, 6))]).sizes.tolist() == [[4, 4], [6, 6]]
    X = _particles()
    assert as_particle_set(X) is X


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.zeros((5, 8)), ValueError, r"got an array of shape \(5, 8\)"),
        ("images", TypeError, "got str"),
        (_particles()[np.array([], dtype=int)], ValueError, "0 particles"),
    ],
)
def test_as_particle_set_bad_input(X, error, match):
    """Check that unsupported input names what was expected."""
    with pytest.raises(error, match=match):
        as_particle_set(X)


@pytest.mark.parametrize("channels", [None, 1, 3])
def test_as_particle_set_round_trips_its_stack(channels):
    """Check that as_particle_set(X.stack()) gives back the images exactly."""
    rng = np.random.RandomState(RND_SEED)
    shape = (6, 9, 11) if channels is None else (6, 9, 11, channels)
    images = rng.rand(*shape).astype(np.float32)
    X = ParticleSet(list(images), channel_axis=None if channels is None else -1)
    stack = X.stack()
    assert stack.shape == ((6, 9, 11) if channels is None else (6, channels, 9, 11))
    back = as_particle_set(stack)
    assert back.n_channels == X.n_channels
    for before, after in zip(X.images, back.images):
        assert after.dtype == before.dtype
        np.testing.assert_array_equal(after, before)
    # a stack carries no masks: a set from a stack (whole-image masks) keeps them
    for before, after in zip(X.masks, back.masks):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(back.stack(), stack)


def test_as_particle_set_refuses_a_channels_last_stack():
    """Check that (n, H, W, 3) is refused with the remedy, not read as 3-pixel-wide images."""
    stack = np.zeros((5, 16, 16, 3))
    with pytest.raises(ValueError, match=r"looks channels-last.*np\.moveaxis\(X, -1, 1\)"):
        as_particle_set(stack)
    X = as_particle_set(np.moveaxis(stack, -1, 1))
    assert X.n_channels == 3 and X.images[0].shape == (16, 16, 3)
