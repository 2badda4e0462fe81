import numpy as np
import pytest
from skimage.transform import resize as sk_resize

from sklipo import ParticleSet
from sklipo.preprocessing import Resize

RND_SEED = 0


def test_resize_output_shape_and_dtype():
    """Check the (n, C, H, W) float32 output for mixed sizes and bit depths."""
    rng = np.random.RandomState(RND_SEED)
    images = [rng.randint(0, 65535, size=s).astype(np.uint16) for s in [(40, 40), (90, 70), (40, 40), (13, 17)]]
    out = Resize(28).fit_transform(ParticleSet(images))
    assert out.shape == (4, 1, 28, 28) and out.dtype == np.float32
    # Intensities are not rescaled: 16-bit values stay in their range.
    assert out.max() > 1000 and out.max() <= 65535
    assert Resize((20, 30)).fit_transform(ParticleSet(images)).shape == (4, 1, 20, 30)


def test_resize_same_size_batches_match_single_images():
    """Check that grouping by size gives each image the same result as resizing it alone."""
    rng = np.random.RandomState(RND_SEED)
    images = [rng.rand(*s) for s in [(40, 30), (60, 60), (40, 30)]]
    together = Resize(16).fit_transform(ParticleSet(images))
    for i, image in enumerate(images):
        alone = Resize(16).fit_transform(ParticleSet([image]))
        np.testing.assert_allclose(together[i], alone[0], rtol=1e-6)


def test_resize_matches_skimage_on_smooth_images():
    """Check agreement with skimage's anti-aliased resize on a smooth image."""
    yy, xx = np.mgrid[:96, :96] / 96.0
    image = np.sin(3 * xx) + np.cos(2 * yy)
    ours = Resize(24).fit_transform(image[None])[0, 0]
    reference = sk_resize(image, (24, 24), anti_aliasing=True)
    np.testing.assert_allclose(ours, reference, atol=0.02)


def test_resize_keep_aspect_pads_with_border_median():
    """Check that a wide image is padded (not stretched) with its border value."""
    image = np.full((10, 40), 5.0)
    image[3:7, 18:22] = 100.0  # a small particle in the middle
    padded = Resize(40, anti_aliasing=False).fit_transform(image[None])[0, 0]
    assert padded.shape == (40, 40)
    np.testing.assert_allclose(padded[:10], 5.0)  # padding rows take the border value
    np.testing.assert_allclose(padded[-10:], 5.0)
    # The particle keeps its square footprint: as tall as it is wide.
    rows, cols = np.nonzero(padded > 50)
    assert np.ptp(rows) == np.ptp(cols)
    stretched = Resize(40, keep_aspect=False, anti_aliasing=False).fit_transform(image[None])[0, 0]
    rows, cols = np.nonzero(stretched > 50)
    assert np.ptp(rows) > 2 * np.ptp(cols)


def test_resize_channels_first_output():
    """Check that multichannel particles come out channels first, channel by channel."""
    rng = np.random.RandomState(RND_SEED)
    image = rng.rand(32, 32, 2)
    image[..., 1] *= 100
    X = ParticleSet([image], channel_axis=-1)
    out = Resize(16).fit_transform(X)
    assert out.shape == (1, 2, 16, 16)
    assert out[0, 1].mean() > 20 * out[0, 0].mean()
    # A 4-D stack is read as (n, C, H, W) and keeps that layout.
    assert Resize(16).fit_transform(np.zeros((3, 2, 20, 20))).shape == (3, 2, 16, 16)


@pytest.mark.parametrize("size", [0, (28,), (28, 0), "28", 2.5])
def test_resize_bad_size(size):
    """Check that a malformed size is refused with the parameter's name."""
    with pytest.raises((ValueError, TypeError), match="'size' parameter of Resize"):
        Resize(size).fit(np.zeros((2, 8, 8)))


@pytest.mark.parametrize("keep_aspect", [True, False])
@pytest.mark.parametrize("anti_aliasing", [True, False])
@pytest.mark.parametrize("size", [28, (20, 36), 64])
def test_resize_matches_torch_interpolate(size, keep_aspect, anti_aliasing):
    """Check that the weights are torch's bilinear (and antialiased) interpolation."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.RandomState(RND_SEED)
    images = [rng.rand(*shape).astype(np.float32) for shape in [(40, 40), (90, 70), (13, 17), (10, 40)]]
    out = Resize(size, keep_aspect=keep_aspect, anti_aliasing=anti_aliasing).fit_transform(
        ParticleSet(images)
    )
    height, width = (size, size) if isinstance(size, int) else size
    for image, ours in zip(images, out):
        if keep_aspect:
            # Pad to the output's aspect ratio with the border's lower median.
            border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
            value = np.sort(border)[(border.size - 1) // 2]
            h, w = image.shape
            ph, pw = (round(w * height / width), w) if h / w < height / width else (h, round(h * width / height))
            top, left = (ph - h) // 2, (pw - w) // 2
            image = np.pad(image, ((top, ph - h - top), (left, pw - w - left)), constant_values=value)
        shrinking = image.shape[0] > height or image.shape[1] > width
        expected = F.interpolate(
            torch.from_numpy(image)[None, None],
            size=(height, width),
            mode="bilinear",
            align_corners=False,
            antialias=anti_aliasing and shrinking,
        )[0].numpy()
        np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)
