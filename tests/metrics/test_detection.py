"""Tests for the detection metrics."""

import numpy as np
import pytest

from sklipo.metrics import box_iou, detection_f1_score, detection_scores, match_boxes


def test_box_iou_values_and_shape():
    """Check IoU against hand-computed values, disjoint and empty boxes."""
    iou = box_iou([[0, 0, 10, 10], [0, 0, 0, 0]], [[0, 0, 10, 10], [0, 5, 10, 15], [20, 20, 25, 25]])
    np.testing.assert_allclose(iou, [[1.0, 50 / 150, 0.0], [0.0, 0.0, 0.0]])
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_match_boxes_hungarian_beats_greedy():
    """Check that Hungarian matching finds more matches than greedy where greedy errs."""
    truth = [[0, 0, 10, 10], [0, 4, 10, 14]]
    found = [[0, 2, 10, 12], [0, 6, 10, 16]]
    # Greedy takes the best pair (found 0, truth 0 or 1 at 0.67) first.
    t, p, _ = match_boxes(truth, found, iou_threshold=0.5)
    assert len(t) == 2
    t, p, _ = match_boxes(truth, found, iou_threshold=0.5, matching="greedy",
                          pred_scores=[0.9, 0.1])
    assert len(t) >= 1


def test_detection_scores_counts_over_micrographs():
    """Check precision, recall and F1 are pooled over micrographs."""
    truth = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), np.zeros((0, 4))]
    found = [np.array([[0, 0, 10, 10]]), np.array([[5, 5, 9, 9]])]
    scores = detection_scores(truth, found)
    assert (scores.true_positives, scores.n_true, scores.n_pred) == (1, 2, 2)
    assert scores.precision == scores.recall == scores.f1 == 0.5
    assert scores.mean_iou == 1.0
    assert detection_f1_score(truth[0], found[0]) == pytest.approx(2 / 3)


def test_detection_scores_threshold_and_zero_division():
    """Check the IoU threshold decides a match, and empty inputs give zero_division."""
    assert detection_f1_score([[0, 0, 10, 10]], [[0, 0, 10, 14]], iou_threshold=0.7) == 1.0
    assert detection_f1_score([[0, 0, 10, 10]], [[0, 0, 10, 15]], iou_threshold=0.7) == 0.0
    assert detection_f1_score(np.zeros((0, 4)), np.zeros((0, 4))) == 0.0
    assert detection_f1_score(np.zeros((0, 4)), np.zeros((0, 4)), zero_division=1.0) == 1.0


@pytest.mark.parametrize(
    "truth, found, message",
    [
        ([[0, 0, 10]], [[0, 0, 1, 1]], r"true_boxes\[0\] must be an array of shape \(k, 4\)"),
        ([[0, 0, 10, 10]], [[5, 0, 1, 1]], "bottom < top"),
        ([np.zeros((1, 4))], [np.zeros((1, 4))] * 2, "1 micrographs but predicted boxes for 2"),
    ],
)
def test_detection_scores_errors(truth, found, message):
    """Check malformed boxes raise errors naming them."""
    with pytest.raises(ValueError, match=message):
        detection_scores(truth, found)
