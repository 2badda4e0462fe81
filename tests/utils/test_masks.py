import numpy as np
import pytest
from scipy.ndimage import find_objects

from sklipo.utils import bounding_box

RND_SEED = 0


def test_bounding_box_matches_find_objects():
    """Check the box against scipy.ndimage.find_objects on random masks."""
    rng = np.random.RandomState(RND_SEED)
    for _ in range(20):
        mask = rng.rand(int(rng.randint(1, 30)), int(rng.randint(1, 30))) > 0.97
        if not mask.any():
            continue
        assert bounding_box(mask) == find_objects(mask.astype(np.uint8))[0]


def test_bounding_box_margin_is_clipped_at_the_border():
    """Check that the margin grows the box but never past the image."""
    mask = np.zeros((10, 12), bool)
    mask[1:4, 6:9] = True
    assert bounding_box(mask, margin=2) == (slice(0, 6), slice(4, 11))
    assert bounding_box(mask, margin=20) == (slice(0, 10), slice(0, 12))
    assert all(isinstance(s.start, int) for s in bounding_box(mask))


def test_bounding_box_empty_mask_raises():
    with pytest.raises(ValueError, match="mask is empty"):
        bounding_box(np.zeros((4, 4), bool))
