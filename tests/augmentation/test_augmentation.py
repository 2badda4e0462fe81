"""Tests of the batch augmentation."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from sklipo.augmentation import Augmentation

NONE = dict(rotation=0, shear=0, shift=0, zoom=(1.0, 1.0), horizontal_flip=False, vertical_flip=False)


def _batch(n=6, shape=(20, 28), seed=0):
    return torch.rand(n, 2, *shape, generator=torch.Generator().manual_seed(seed))


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_augmentation_all_off_is_identity():
    X = _batch()
    torch.testing.assert_close(Augmentation(**NONE)(X), X, atol=1e-5, rtol=0)


def test_augmentation_flips_mirror_images():
    """Check that a flip-only augmentation returns each image or its mirror."""
    X = _batch(n=16)
    out = Augmentation(**{**NONE, "horizontal_flip": True})(X, generator=_gen())
    flipped = [torch.allclose(o, x.flip(-1), atol=1e-5) for o, x in zip(out, X)]
    kept = [torch.allclose(o, x, atol=1e-5) for o, x in zip(out, X)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert any(flipped) and any(kept)


def test_augmentation_rotation_by_90_degrees_is_exact():
    """Check the geometry: a 90 degree turn of a square image is rot90."""
    X = _batch(n=32, shape=(16, 16))
    augment = Augmentation(**{**NONE, "rotation": 90})
    augment._draw_matrices = _fixed_angle(augment, 90.0)
    out = augment(X)
    torch.testing.assert_close(out, torch.rot90(X, k=1, dims=(2, 3)), atol=1e-4, rtol=0)


def _fixed_angle(augment, degrees):
    draw = augment._draw_matrices

    def fixed(n, generator):
        linear, shifts = draw(n, generator)
        angle = torch.tensor(np.deg2rad(degrees), dtype=torch.float64)
        cos, sin = torch.cos(angle), torch.sin(angle)
        rotation = torch.stack([torch.stack([cos, -sin]), torch.stack([sin, cos])])
        return rotation.expand(n, 2, 2), shifts

    return fixed


def test_augmentation_same_seed_same_batch():
    X = _batch()
    augment = Augmentation()
    a = augment(X, generator=_gen(3))
    b = augment(X, generator=_gen(3))
    c = augment(X, generator=_gen(4))
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    assert not torch.allclose(a, c)


def test_augmentation_draws_per_image():
    """Check that identical images in a batch get different transformations."""
    X = _batch(n=1).expand(8, -1, -1, -1).contiguous()
    out = Augmentation()(X, generator=_gen())
    assert not any(torch.allclose(out[0], out[i]) for i in range(1, 8))


def test_augmentation_shift_moves_content():
    X = torch.zeros(50, 1, 20, 20)
    X[:, :, 8:12, 8:12] = 1.0
    out = Augmentation(**{**NONE, "shift": 0.2}, fill="zeros")(X, generator=_gen())
    centres = [torch.nonzero(o[0] > 0.5).float().mean(0) for o in out]
    offsets = torch.stack(centres) - 9.5
    assert offsets.abs().max() <= 0.2 * 20 + 1
    assert offsets.abs().max() > 1


def test_augmentation_zoom_below_one_enlarges():
    X = torch.zeros(4, 1, 21, 21)
    X[:, :, 8:13, 8:13] = 1.0
    out = Augmentation(**{**NONE, "zoom": (0.5, 0.5)}, interpolation="nearest")(X)
    assert (out > 0.5).sum(dim=(1, 2, 3)).float().mean() > 2 * 25


def test_augmentation_padded_images_turn_about_their_own_centre():
    """Check that with `sizes`, each image flips within its own box."""
    image = torch.rand(1, 10, 8, generator=_gen())
    canvas = torch.zeros(16, 1, 24, 30)
    canvas[:, :, :10, :8] = image
    augment = Augmentation(**{**NONE, "horizontal_flip": True, "vertical_flip": True})
    out = augment(canvas, sizes=torch.tensor([[10, 8]] * 16), generator=_gen())
    boxes = out[:, 0, :10, :8]
    versions = [image[0], image[0].flip(0), image[0].flip(1), image[0].flip(0, 1)]
    for box in boxes:
        assert any(torch.allclose(box, v, atol=1e-5) for v in versions)


def test_augmentation_runs_under_clone_and_defaults_match_study():
    augment = clone(Augmentation())
    assert augment.rotation == 180.0 and augment.shear == 0.2 and augment.shift == 0.1
    assert augment.zoom == (0.8, 1.0) and augment.horizontal_flip and augment.vertical_flip


@pytest.mark.parametrize(
    "params, match",
    [
        ({"rotation": -5}, "`rotation` must be a non-negative number"),
        ({"shift": "a"}, "`shift` must be a non-negative number"),
        ({"zoom": (1.0, 0.8)}, "`zoom` must be a \\(low, high\\) pair"),
        ({"zoom": 0.9}, "`zoom` must be a \\(low, high\\) pair"),
        ({"horizontal_flip": 1}, "`horizontal_flip` must be True or False"),
        ({"interpolation": "spline"}, "`interpolation` must be one of"),
        ({"fill": "nearest"}, "`fill` must be one of"),
    ],
)
def test_augmentation_bad_params_raise(params, match):
    with pytest.raises(ValueError, match=match):
        Augmentation(**params)(_batch())


@pytest.mark.parametrize("X", [np.zeros((2, 1, 8, 8)), torch.zeros(2, 8, 8), torch.zeros(2, 1, 8, 8, dtype=torch.int64)])
def test_augmentation_bad_input_raises(X):
    with pytest.raises(ValueError, match="floating-point torch.Tensor of shape"):
        Augmentation()(X)
