"""Tests for find_particles and ParticleFinder."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold

from sklipo.datasets import make_micrographs
from sklipo.detection import ParticleFinder, find_particles
from sklipo.metrics import detection_f1_score

RNG_SEED = 0


def _discs(shape=(160, 200), centres=((50, 50), (50, 84), (115, 140)), radius=16,
           polarity="dark", seed=RNG_SEED):
    rng = np.random.RandomState(seed)
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    image = rng.normal(0.0, 8.0, shape) + 120
    boxes = []
    for cy, cx in centres:
        image[(rows - cy) ** 2 + (cols - cx) ** 2 <= radius**2] += -60 if polarity == "dark" else 60
        boxes.append([cy - radius, cx - radius, cy + radius + 1, cx + radius + 1])
    return image, np.array(boxes)


@pytest.mark.parametrize("polarity", ["dark", "bright"])
def test_find_particles_splits_touching_discs_either_polarity(polarity):
    """Check that touching discs are split and the polarity is recognised."""
    image, boxes = _discs(polarity=polarity)
    found = find_particles(image, diameter_range=(20, 50))
    assert found.polarity.tolist() == [polarity]
    assert len(found.boxes) == 3
    assert detection_f1_score(boxes, found.boxes, iou_threshold=0.7) == 1.0
    assert np.all(np.diff(found.scores) <= 0)


def test_find_particles_nm_units_match_pixels():
    """Check that a diameter range in nm with a pixel size equals the same range in px."""
    image, _ = _discs()
    in_px = find_particles(image, diameter_range=(20, 50))
    in_nm = find_particles(image, diameter_range=(40, 100), pixel_size=2.0)
    np.testing.assert_array_equal(in_px.boxes, in_nm.boxes)


def test_find_particles_channel_selection():
    """Check that a particle seen in one channel only is found there, not in the other."""
    image, boxes = _discs(polarity="bright")
    noise = np.random.RandomState(1).normal(120, 8, image.shape)
    both = np.dstack([noise, image])
    assert len(find_particles(both, diameter_range=(20, 50)).boxes) == 3
    assert len(find_particles(both, diameter_range=(20, 50), channel=1).boxes) == 3
    with pytest.warns(UserWarning, match="No particles found"):
        assert len(find_particles(both, diameter_range=(20, 50), channel=0).boxes) == 0


@pytest.mark.parametrize("modality", ["tem", "fluorescence"])
def test_find_particles_beats_trivial_baseline_on_micrographs(modality):
    """Check detection F1 on synthetic micrographs with touching clusters."""
    data = make_micrographs(modality, 2, shape=(256, 256), n_particles=(8, 12),
                            clustering=0.5, random_state=RNG_SEED)
    sides = np.concatenate([np.sqrt(np.prod(b[:, 2:] - b[:, :2], axis=1)) for b in data.boxes])
    found = [find_particles(image, diameter_range=(0.8 * sides.min(), 1.2 * sides.max())).boxes
             for image in data.images]
    # A trivial detector (one box per true particle, shifted by half its size)
    # scores 0; ours must find most particles with tight boxes.
    assert detection_f1_score(data.boxes, found) >= 0.75


def test_find_particles_empty_and_constant_warn():
    """Check that constant micrographs give no boxes and a warning naming them."""
    with pytest.warns(UserWarning, match="No particles found in the micrograph a.png.*constant"):
        found = find_particles(np.full((64, 64), 7, dtype=np.uint8), name="a.png")
    assert found.boxes.shape == (0, 4)
    assert found.scores.shape == (0,)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((4, 64, 64, 3)), "must be a 2-D image"),
        (np.zeros(10), "must be a 2-D image"),
        (np.zeros((64, 64, 40)), "channels must come last"),
        (np.full((64, 64), np.nan), "NaN or infinite"),
        (np.zeros((6, 6)), "smaller than the smallest particle"),
    ],
)
def test_find_particles_bad_micrograph_names_it(image, message):
    """Check that malformed micrographs raise a clear error naming them."""
    with pytest.raises(ValueError, match=message) as info:
        find_particles(image, name="grid-7.tif")
    assert "grid-7.tif" in str(info.value)


def test_find_particles_bad_parameters():
    """Check the errors of diameter_range, channel and polarity."""
    image, _ = _discs()
    with pytest.raises(ValueError, match="0 < smallest <= largest"):
        find_particles(image, diameter_range=(50, 20))
    with pytest.raises(ValueError, match="smaller than 2 px.*units"):
        find_particles(image, diameter_range=(1, 3))
    with pytest.raises(ValueError, match="channel=3 does not exist"):
        find_particles(image, channel=3)
    with pytest.raises(ValueError, match="one of 'dark'/'bright' per channel"):
        find_particles(image, polarity=["dark", "bright"])
    with pytest.raises(TypeError, match="integer or floating-point"):
        find_particles(np.full((32, 32), "a"))


def _fluorescence(n=4, seed=RNG_SEED):
    return make_micrographs("fluorescence", n, shape=(192, 192), n_particles=(6, 9),
                            clustering=0.5, random_state=seed)


def test_particle_finder_learns_range_and_polarity():
    """Check that fit learns the diameter range (px, with margin) and polarity."""
    data = _fluorescence()
    finder = ParticleFinder(size_margin=0.2).fit(data.images, data.boxes)
    sides = np.concatenate([np.sqrt(np.prod(b[:, 2:] - b[:, :2], axis=1)) for b in data.boxes])
    np.testing.assert_allclose(finder.diameter_range_, (0.8 * sides.min(), 1.2 * sides.max()))
    assert finder.polarity_.tolist() == ["bright", "bright"]
    assert finder.n_channels_ == 2
    assert finder.score(data.images, data.boxes) >= 0.85
    predicted = finder.predict(data.images)
    assert len(predicted) == len(data.images)
    assert all(b.shape[1] == 4 for b in predicted)


def test_particle_finder_grid_search_over_micrographs():
    """Check that GridSearchCV tunes the finder with a cv splitting whole micrographs."""
    data = _fluorescence(n=4)
    groups = [0, 0, 1, 1]
    search = GridSearchCV(
        ParticleFinder(), {"threshold": [4.0, 40.0]}, cv=GroupKFold(2), error_score="raise"
    ).fit(data.images, data.boxes, groups=groups)
    assert search.best_params_ == {"threshold": 4.0}
    assert search.cv_results_["mean_test_score"][0] > search.cv_results_["mean_test_score"][1]
    search = GridSearchCV(ParticleFinder(), {"sigma": [None, 2.0]}, cv=KFold(2),
                          error_score="raise").fit(data.images, data.boxes)
    assert search.best_score_ >= 0.8
    assert clone(search.best_estimator_).get_params()["threshold"] == 4.0


def test_particle_finder_errors():
    """Check the finder's input errors and its unfitted state."""
    data = _fluorescence(n=2)
    with pytest.raises(ValueError, match="2 micrographs but 1 box arrays"):
        ParticleFinder().fit(data.images, data.boxes[:1])
    with pytest.raises(ValueError, match="Wrap it in a list"):
        ParticleFinder().fit(data.images[0][..., 0], None)
    with pytest.raises(ValueError, match="no particle"):
        ParticleFinder().fit(data.images, [np.zeros((0, 4))] * 2)
    finder = ParticleFinder().fit(data.images, data.boxes)
    with pytest.raises(ValueError, match="1 channel.*fitted on micrographs with 2"):
        finder.find(data.images[0][..., 0], name="gray.png")
    with pytest.raises(Exception, match="not fitted"):
        ParticleFinder().predict(data.images)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # A constant micrograph scores without a warning.
        assert finder.score([np.zeros_like(data.images[0])], [np.zeros((0, 4))]) == 0.0
