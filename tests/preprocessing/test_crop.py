import numpy as np
import pytest

from sklipo import ParticleSet
from sklipo.preprocessing import CropParticle

# A 12x14 cut-out: background 10, particle 2 at rows 3..6, columns 4..8.
IMAGE = np.full((12, 14), 10, dtype=np.uint16)
IMAGE[3:7, 4:9] = 2
MASK = IMAGE == 2


def _particle_set():
    return ParticleSet([IMAGE, IMAGE.T.copy()], [MASK, MASK.T.copy()], pixel_size=[0.5, 2.0], ids=["a", "b"])


def test_crop_surrounding_returns_input():
    """Check that the surrounding mode leaves particles as they are."""
    X = _particle_set()
    assert CropParticle("surrounding").fit_transform(X) is X


@pytest.mark.parametrize("margin, shape", [(0, (4, 5)), (1, (6, 7)), (5, (12, 14))])
def test_crop_cropped_takes_mask_bounding_box(margin, shape):
    """Check that cropping keeps the mask's box plus a margin, clipped at the border."""
    Xt = CropParticle("cropped", margin=margin).fit_transform(_particle_set())
    assert Xt.images[0].shape == shape
    assert Xt.images[1].shape == shape[::-1]
    assert Xt.masks[0].shape == shape and Xt.masks[0].sum() == MASK.sum()
    assert list(Xt.ids) == ["a", "b"] and list(Xt.pixel_size) == [0.5, 2.0]
    assert np.shares_memory(Xt.images[0], IMAGE)


def test_crop_masked_fills_background():
    """Check that masked mode sets pixels outside the mask to the background median."""
    image = IMAGE.copy()
    image[0, 0] = 60000  # one hot pixel must not move the median
    ring = np.zeros_like(MASK)
    ring[3:7, 4:9] = True
    ring[4:6, 5:8] = False  # a hollow particle: its inside is outside the mask
    X = ParticleSet([image], [ring])
    out = CropParticle("masked", margin=1).fit_transform(X).images[0]
    assert out.dtype == np.uint16
    assert out.shape == (6, 7)
    np.testing.assert_array_equal(out[1:-1, 1:-1][ring[3:7, 4:9]], 2)
    assert (out[~np.pad(ring[3:7, 4:9], 1)] == 10).all()


def test_crop_masked_fill_value_and_channels():
    """Check a numeric fill and that multichannel particles are masked per channel."""
    image = np.stack([IMAGE, IMAGE * 3], axis=-1).astype(np.float32)
    X = ParticleSet([image], [MASK], channel_axis=-1)
    out = CropParticle("masked", margin=1, fill=-1.0).fit_transform(X).images[0]
    assert out.shape == (6, 7, 2)
    np.testing.assert_array_equal(out[1:-1, 1:-1], [[[2, 6]] * 5] * 4)
    assert (out[0] == -1).all()
    background = CropParticle("masked", margin=1).fit_transform(X).images[0]
    np.testing.assert_array_equal(background[0, 0], [10, 30])


def test_crop_masked_integer_fill_is_rounded_and_clipped():
    """Check that a float fill is rounded into an integer image's range."""
    X = ParticleSet([IMAGE.astype(np.uint8)], [MASK])
    out = CropParticle("masked", margin=1, fill=-7.6).fit_transform(X).images[0]
    assert out.dtype == np.uint8 and out[0, 0] == 0


def test_crop_accepts_image_stack():
    """Check that a plain stack is cropped as whole-image particles."""
    out = CropParticle("cropped").fit_transform(np.ones((3, 9, 9)))
    assert isinstance(out, ParticleSet) and out.sizes.tolist() == [[9, 9]] * 3


@pytest.mark.parametrize(
    "params, match",
    [
        ({"mode": "crop"}, "'mode' parameter of CropParticle must be a str among"),
        ({"margin": -1}, "'margin' parameter of CropParticle must be an int"),
        ({"fill": "mean"}, "'fill' parameter of CropParticle"),
    ],
)
def test_crop_bad_params(params, match):
    """Check that invalid parameters raise at fit with the parameter's name."""
    with pytest.raises(ValueError, match=match):
        CropParticle(**params).fit(_particle_set())
