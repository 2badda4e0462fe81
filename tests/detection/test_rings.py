"""Tests for the ring-matched filter of find_particles and the centre check."""

import warnings

import numpy as np
import pytest

from sklipo.detection import ParticleFinder, find_particles
from sklipo.detection._rings import centre_ratios
from sklipo.metrics import detection_scores

RNG_SEED = 0


def _rings(shape=(200, 260), rings=(((60, 60), 20, 1.0), ((140, 180), 24, 1.0)),
           blobs=(), noise=1.0, seed=RNG_SEED):
    """Dark membrane rings (centre, radius, depth in noise units) and filled blobs."""
    rng = np.random.RandomState(seed)
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    image = 100.0 + rng.normal(0.0, noise, shape)
    boxes = []
    for (cy, cx), radius, depth in rings:
        d = np.hypot(rows - cy, cols - cx) - radius
        image -= depth * np.exp(-0.5 * (d / 1.5) ** 2)
        boxes.append([cy - radius - 2, cx - radius - 2, cy + radius + 3, cx + radius + 3])
    for (cy, cx), radius, depth in blobs:
        d = np.hypot(rows - cy, cols - cx) - radius
        image -= depth * np.clip(-d / 2.0, 0.0, 1.0)
    return image, np.array(boxes)


def _found(image, diameter_range=(30, 60), **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No particles found"
        return find_particles(image, diameter_range=diameter_range, **kwargs)


def test_rings_find_faint_rings_thresholding_misses():
    """Check that rings fainter than the threshold in every pixel are found by the filter."""
    # After smoothing, the membranes stand out by about 3.5 noise units:
    # thresholding at 4 finds nothing, the average along each circle does.
    image, boxes = _rings(rings=(((60, 60), 20, 0.9), ((140, 180), 24, 0.9)), noise=1.0)
    assert len(_found(image, rings=False).boxes) == 0
    found = _found(image)
    scores = detection_scores(boxes, found.boxes, iou_threshold=0.5)
    assert scores.f1 == 1.0
    assert np.all(found.scores > 0)


def test_rings_split_touching_open_rings():
    """Check that two touching rings, one open, come out as two particles."""
    image, boxes = _rings(rings=(((90, 80), 25, 8.0), ((90, 131), 25, 8.0)), noise=1.0)
    # Fade a stretch of the second membrane so thresholding cannot close it.
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    fade = (np.abs(np.arctan2(rows - 90, cols - 131)) < 0.6) & (
        np.abs(np.hypot(rows - 90, cols - 131) - 25) < 5
    )
    image[fade] = 100.0 + np.random.RandomState(1).normal(0.0, 1.0, fade.sum())
    # Thresholding leaves the open ring's lumen unfilled: one particle only.
    assert len(_found(image, rings=False).boxes) == 1
    found = _found(image)
    assert detection_scores(boxes, found.boxes, iou_threshold=0.5).f1 == 1.0


def test_centre_ratios_tell_rings_from_filled_blobs():
    """Check that a ring's centre ratio is about 0 and a filled blob's about 1."""
    image, boxes = _rings(blobs=(((60, 180), 18, 6.0),), noise=0.1)
    aligned = 100.0 - image
    blob = [[60 - 20, 180 - 20, 60 + 21, 180 + 21]]
    ratios = centre_ratios(aligned, np.concatenate([boxes, blob]))
    assert np.all(np.abs(ratios[:2]) < 0.1)
    assert ratios[2] > 0.9
    assert np.isnan(centre_ratios(aligned, np.array([[0, 0, 2, 2]])))[0]


def test_max_centre_drops_blobs_keeps_rings():
    """Check that max_centre drops a filled blob and keeps the rings."""
    image, boxes = _rings(rings=(((60, 60), 20, 8.0), ((140, 180), 24, 8.0)),
                          blobs=(((60, 190), 18, 10.0),))
    assert len(_found(image).boxes) == 3
    found = _found(image, max_centre=0.5)
    assert detection_scores(boxes, found.boxes, iou_threshold=0.5).f1 == 1.0


def test_particle_finder_learns_max_centre():
    """Check that fit learns the fullest annotated centre plus the margin, or None."""
    image, boxes = _rings(rings=(((60, 60), 20, 8.0), ((140, 180), 24, 8.0)),
                          blobs=(((60, 190), 18, 10.0),))
    finder = ParticleFinder(centre_margin=0.1).fit([image], [boxes])
    assert 0.0 < finder.max_centre_ < 0.3
    assert detection_scores(boxes, finder.predict([image])[0]).f1 == 1.0
    assert ParticleFinder(centre_margin=None).fit([image], [boxes]).max_centre_ is None
    assert ParticleFinder().fit([image]).max_centre_ is None


def test_particle_finder_uses_given_range_as_is():
    """Check that a given diameter range is the size check itself, not widened again.

    A range recorded from training boxes (the model card) must search
    exactly the sizes the fitted finder searched.
    """
    image, boxes = _rings(rings=(((60, 60), 19, 8.0), ((140, 180), 25, 8.0)))
    learned = ParticleFinder(size_margin=0.1).fit([image], [boxes[1:]])
    given = ParticleFinder(diameter_range=learned.diameter_range_).fit([image])
    assert given.diameter_range_ == pytest.approx(learned.diameter_range_)
    for finder in (learned, given):
        found = finder.find(image)
        # The smaller ring lies below the range: found by neither.
        assert detection_scores(boxes[1:], found.boxes).f1 == 1.0
        assert np.all(found.diameters >= finder.diameter_range_[0])
    # find_particles takes a range as a guess and widens it: both rings.
    guessed = _found(image, diameter_range=learned.diameter_range_)
    assert detection_scores(boxes, guessed.boxes).f1 == 1.0
