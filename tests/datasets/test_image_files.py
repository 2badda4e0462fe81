import imageio.v3 as iio
import mrcfile
import numpy as np
import pytest
import tifffile

from sklipo.datasets._image_files import (
    read_image,
    read_mask,
    write_image,
    write_image_file,
    write_mask,
)

RNG = np.random.RandomState(0)
GRAY8 = RNG.randint(0, 256, size=(13, 17)).astype(np.uint8)
GRAY16 = RNG.randint(0, 65536, size=(13, 17)).astype(np.uint16)
FLOAT32 = RNG.normal(size=(13, 17)).astype(np.float32)


@pytest.mark.parametrize(
    "name, image, writer",
    [
        ("a.png", GRAY8, iio.imwrite),
        ("a.png", GRAY16, iio.imwrite),
        ("a.tif", GRAY16, tifffile.imwrite),
        ("a.tiff", FLOAT32, tifffile.imwrite),
        ("a.TIF", GRAY8.astype(np.int8), tifffile.imwrite),
    ],
)
def test_read_image_keeps_dtype_and_values(tmp_path, name, image, writer):
    # Check that 8/16-bit PNG and integer/float TIFF come back bit for bit.
    writer(tmp_path / name, image)
    read, pixel_size = read_image(tmp_path / name)
    assert read.dtype == image.dtype
    np.testing.assert_array_equal(read, image)
    assert np.isnan(pixel_size)


def test_read_image_mrc_pixel_size_from_header(tmp_path):
    # Check that the MRC voxel size (in ångström) becomes nm per pixel.
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(FLOAT32)
        mrc.voxel_size = 7.5
    image, pixel_size = read_image(tmp_path / "a.mrc")
    np.testing.assert_array_equal(image, FLOAT32)
    assert image.dtype.isnative
    assert pixel_size == pytest.approx(0.75)


def test_read_image_mrc_unset_voxel_size_is_unknown(tmp_path):
    # Check that a zero voxel size (the MRC default) gives an unknown pixel size.
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(GRAY16.astype(np.int16))
    image, pixel_size = read_image(tmp_path / "a.mrc")
    assert image.dtype == np.int16
    assert np.isnan(pixel_size)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"resolution": (1 / 0.8, 1 / 0.8), "resolutionunit": "NONE", "imagej": True,
          "metadata": {"unit": "nm"}}, 0.8),
        ({"resolution": (1 / 0.0025, 1 / 0.0025), "resolutionunit": "NONE", "imagej": True,
          "metadata": {"unit": "\\u00B5m"}}, 2.5),
        ({"resolution": (1e4, 1e4), "resolutionunit": "MICROMETER"}, 0.1),
        ({"resolution": (5e6, 5e6), "resolutionunit": "CENTIMETER"}, 2.0),
        ({"resolution": (2.54e7 / 1.5, 2.54e7 / 1.5), "resolutionunit": "INCH"}, 1.5),
    ],
    ids=["imagej-nm", "imagej-escaped-micron", "micrometer", "centimeter", "inch"],
)
def test_read_image_tiff_pixel_size_from_resolution(tmp_path, kwargs, expected):
    # Check that calibrated TIFF resolution tags become nm per pixel.
    tifffile.imwrite(tmp_path / "a.tif", GRAY16, **kwargs)
    image, pixel_size = read_image(tmp_path / "a.tif")
    np.testing.assert_array_equal(image, GRAY16)
    assert pixel_size == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # tifffile's default: resolution 1/1 with unit "none"
        {"resolution": (72, 72), "resolutionunit": "INCH"},  # a screen setting
        {"resolution": (2.0, 2.0), "resolutionunit": "NONE"},  # no unit anywhere
    ],
    ids=["default", "72dpi", "unitless"],
)
def test_read_image_tiff_uncalibrated_resolution_is_unknown(tmp_path, kwargs):
    # Check that resolutions without a physical unit or at print/screen dpi read as NaN.
    tifffile.imwrite(tmp_path / "a.tif", GRAY16, **kwargs)
    assert np.isnan(read_image(tmp_path / "a.tif")[1])


def test_read_image_tiff_non_square_pixels_raises(tmp_path):
    # Check that different x and y resolutions are refused, naming the file.
    tifffile.imwrite(tmp_path / "a.tif", GRAY16, resolution=(1e4, 2e4), resolutionunit="MICROMETER")
    with pytest.raises(ValueError, match=r"a\.tif.*non-square pixels"):
        read_image(tmp_path / "a.tif")


def test_read_image_mrc_stack_raises(tmp_path):
    # Check that an MRC holding several images is refused, naming the file.
    with mrcfile.new(tmp_path / "stack.mrcs") as mrc:
        mrc.set_data(np.zeros((3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"stack\.mrcs.*stack of 3 images"):
        read_image(tmp_path / "stack.mrcs")


def test_read_image_multichannel_tiff_channel_last(tmp_path):
    # Check that channels stored as samples or as pages both come out last.
    image = RNG.randint(0, 65536, size=(13, 17, 5)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "samples.tif", image, photometric="minisblack",
                     planarconfig="contig")
    tifffile.imwrite(tmp_path / "pages.tif", np.moveaxis(image, -1, 0),
                     photometric="minisblack")
    for name in ("samples.tif", "pages.tif"):
        read, _ = read_image(tmp_path / name)
        np.testing.assert_array_equal(read, image)


def test_read_image_rgb_png_identical_channels_is_gray(tmp_path):
    # Check that "auto" folds a gray image saved as RGBA (matplotlib's imsave)
    # back to one channel, and False keeps the channels.
    rgba = np.dstack([GRAY8, GRAY8, GRAY8, np.full_like(GRAY8, 255)])
    iio.imwrite(tmp_path / "a.png", rgba)
    gray, _ = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(gray, GRAY8)
    kept, _ = read_image(tmp_path / "a.png", as_gray=False)
    np.testing.assert_array_equal(kept, rgba)


def test_read_image_colour_png(tmp_path):
    # Check that real colour stays colour under "auto" and becomes
    # luminance under as_gray=True.
    rgb = RNG.randint(0, 256, size=(13, 17, 3)).astype(np.uint8)
    iio.imwrite(tmp_path / "a.png", rgb)
    auto, _ = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(auto, rgb)
    gray, _ = read_image(tmp_path / "a.png", as_gray=True)
    assert gray.shape == (13, 17)
    assert gray.dtype.kind == "f"


def test_read_image_gray_with_transparency_raises_as_gray(tmp_path):
    # Check that a transparent PNG cannot silently lose its alpha.
    la = np.dstack([GRAY8, np.zeros_like(GRAY8)])
    iio.imwrite(tmp_path / "a.png", la)
    assert read_image(tmp_path / "a.png")[0].shape == (13, 17, 2)
    with pytest.raises(ValueError, match=r"a\.png.*alpha channel is not fully opaque"):
        read_image(tmp_path / "a.png", as_gray=True)


def test_read_image_multichannel_tiff_as_gray_raises(tmp_path):
    # Check that as_gray=True refuses channels it cannot turn into luminance.
    tifffile.imwrite(tmp_path / "a.tif", RNG.rand(8, 8, 2).astype(np.float32),
                     photometric="minisblack", planarconfig="contig")
    with pytest.raises(ValueError, match=r"a\.tif.*2 channels"):
        read_image(tmp_path / "a.tif", as_gray=True)


@pytest.mark.parametrize("name", ["bad.png", "bad.tif", "bad.mrc"])
def test_read_image_corrupt_file_names_it(tmp_path, name):
    # Check that an unreadable file gives a ValueError naming it.
    (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\nnot really an image" * 3)
    with pytest.raises(ValueError, match=f"Cannot read the image file .*{name}"):
        read_image(tmp_path / name)


def test_read_image_missing_and_unsupported(tmp_path):
    # Check the errors for a missing file and an unsupported extension.
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "a.gif").write_bytes(b"")
    with pytest.raises(ValueError, match=r"unsupported file type '\.gif'"):
        read_image(tmp_path / "a.gif")
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"a\.jpg': the file is empty"):
        read_image(tmp_path / "a.jpg")


def test_read_mask_any_channel_nonzero(tmp_path):
    # Check that a colour mask marks pixels where any colour is set, ignoring alpha.
    mask = np.zeros((6, 7, 4), np.uint8)
    mask[..., 3] = 255
    mask[1:3, 2:5, 1] = 200
    iio.imwrite(tmp_path / "m.png", mask)
    expected = np.zeros((6, 7), bool)
    expected[1:3, 2:5] = True
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png"), expected)


@pytest.mark.parametrize(
    "image",
    [GRAY8, GRAY16, FLOAT32, FLOAT32.astype(np.float64), GRAY8.astype(np.int16),
     RNG.randint(0, 256, size=(5, 6, 3)).astype(np.uint8),
     RNG.rand(5, 6, 2).astype(np.float32)],
)
def test_write_image_round_trip(tmp_path, image):
    # Check lossless writing: PNG only for 2-D uint8, TIFF for everything else.
    path = write_image(tmp_path / "a", image)
    assert path.suffix == (".png" if image.ndim == 2 and image.dtype == np.uint8 else ".tif")
    read, _ = read_image(path)
    assert read.dtype == image.dtype
    np.testing.assert_array_equal(read, image)


def test_write_mask_round_trip(tmp_path):
    # Check that masks come back as the same booleans.
    mask = RNG.rand(9, 4) > 0.5
    np.testing.assert_array_equal(read_mask(write_mask(tmp_path / "m", mask)), mask)


@pytest.mark.parametrize(
    "voxel_size, match",
    [((-2.0, -2.0, 1.0), "negative voxel size"), ((2.0, 3.0, 1.0), "non-square pixels")],
)
def test_read_image_mrc_bad_voxel_size_raises(tmp_path, voxel_size, match):
    # Check that a header pixel size sklipo cannot use is refused, naming the file.
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(FLOAT32)
        mrc.voxel_size = voxel_size
    with pytest.raises(ValueError, match=rf"a\.mrc.*{match}"):
        read_image(tmp_path / "a.mrc")


# --- every format a lab has ---------------------------------------------------

SMOOTH = np.add.outer(np.arange(24) * 8, np.arange(32) * 4).astype(np.uint8)  # JPEG-friendly


def _write_pil(path, array, **kwargs):
    from PIL import Image

    Image.fromarray(array).save(path, **kwargs)


def _write_palette_png(path, array):
    from PIL import Image

    Image.fromarray(array).convert("P").save(path)


def _write_mrc(path, array, voxel_size=0.0):
    with mrcfile.new(path, overwrite=True) as mrc:
        mrc.set_data(array)
        mrc.voxel_size = voxel_size


RGB = np.dstack([SMOOTH, SMOOTH // 2, 255 - SMOOTH])
EVERY_FORMAT = {
    # name: (writer, expected image, exact?, expected pixel size in nm)
    "gray.jpg": (lambda p: _write_pil(p, SMOOTH, quality=95), SMOOTH, False, np.nan),
    "rgb.jpeg": (lambda p: _write_pil(p, RGB, quality=95), RGB, False, np.nan),
    "gray-as-rgb.jpg": (lambda p: _write_pil(p, np.dstack([SMOOTH] * 3), quality=90),
                        SMOOTH, False, np.nan),
    "gray.bmp": (lambda p: _write_pil(p, GRAY8), GRAY8, True, np.nan),
    "rgb.bmp": (lambda p: _write_pil(p, RGB), RGB, True, np.nan),
    "gray8.png": (lambda p: iio.imwrite(p, GRAY8), GRAY8, True, np.nan),
    "gray16.png": (lambda p: iio.imwrite(p, GRAY16), GRAY16, True, np.nan),
    "palette.png": (lambda p: _write_palette_png(p, GRAY8), GRAY8, True, np.nan),
    "rgba-opaque.png": (lambda p: iio.imwrite(p, np.dstack([RGB, np.full_like(SMOOTH, 255)])),
                        RGB, True, np.nan),
    "pages.tif": (lambda p: tifffile.imwrite(p, np.stack([GRAY16[:, :15], GRAY16[:, 2:]])),
                  np.dstack([GRAY16[:, :15], GRAY16[:, 2:]]), True, np.nan),
    "float.tiff": (lambda p: tifffile.imwrite(p, FLOAT32), FLOAT32, True, np.nan),
    "16bit.tif": (lambda p: tifffile.imwrite(p, GRAY16, resolution=(1e4, 1e4),
                                             resolutionunit="MICROMETER"), GRAY16, True, 0.1),
    "channels.ome.tif": (
        lambda p: tifffile.imwrite(
            p, np.stack([GRAY16, GRAY16 // 2, GRAY16 // 3]), ome=True,
            metadata={"axes": "CYX", "PhysicalSizeX": 0.065, "PhysicalSizeY": 0.065}),
        np.dstack([GRAY16, GRAY16 // 2, GRAY16 // 3]), True, 65.0),
    "imagej-channels.tif": (
        lambda p: tifffile.imwrite(p, np.stack([GRAY16, GRAY16 // 2]), imagej=True,
                                   metadata={"axes": "CYX"}),
        np.dstack([GRAY16, GRAY16 // 2]), True, np.nan),
    "a.mrc": (lambda p: _write_mrc(p, FLOAT32, 12.0), FLOAT32, True, 1.2),
    "one.mrcs": (lambda p: _write_mrc(p, FLOAT32[None], 5.0), FLOAT32, True, 0.5),
    "int16.map": (lambda p: _write_mrc(p, GRAY8.astype(np.int16)), GRAY8.astype(np.int16),
                  True, np.nan),
}


@pytest.mark.parametrize("name", sorted(EVERY_FORMAT))
def test_read_image_every_format(tmp_path, name):
    # Check that a file of each format, written by the library that writes it,
    # reads back with its pixels, channels (last) and pixel size.
    writer, expected, exact, pixel_size = EVERY_FORMAT[name]
    writer(tmp_path / name)
    image, read_size = read_image(tmp_path / name)
    assert image.shape == expected.shape
    assert image.dtype == expected.dtype
    if exact:
        np.testing.assert_array_equal(image, expected)
    else:  # JPEG: lossy, but close on a smooth image
        assert np.abs(image.astype(float) - expected).mean() < 6
    np.testing.assert_allclose(read_size, pixel_size, rtol=1e-6)


def test_read_image_ome_units_and_non_square(tmp_path):
    # Check OME units other than the default micrometre, and non-square pixels.
    tifffile.imwrite(tmp_path / "nm.ome.tif", GRAY16, ome=True,
                     metadata={"PhysicalSizeX": 1.5, "PhysicalSizeXUnit": "nm",
                               "PhysicalSizeY": 1.5, "PhysicalSizeYUnit": "nm"})
    assert read_image(tmp_path / "nm.ome.tif")[1] == pytest.approx(1.5)
    tifffile.imwrite(tmp_path / "ns.ome.tif", GRAY16, ome=True,
                     metadata={"PhysicalSizeX": 0.1, "PhysicalSizeY": 0.2})
    with pytest.raises(ValueError, match=r"ns\.ome\.tif.*non-square pixels"):
        read_image(tmp_path / "ns.ome.tif")


def test_read_image_tiff_z_stack_raises(tmp_path):
    # Check that a z-stack (not channels) is refused, naming the file and axes.
    tifffile.imwrite(tmp_path / "z.tif", np.zeros((3, 8, 8), np.uint16), imagej=True,
                     metadata={"axes": "ZYX"})
    with pytest.raises(ValueError, match=r"z\.tif.*stack of 3 images \(axes 'ZYX'\)"):
        read_image(tmp_path / "z.tif")


def test_read_image_alpha_split_off(tmp_path):
    # Check that return_alpha hands a transparent background back separately.
    alpha = np.zeros_like(GRAY8)
    alpha[3:9, 4:12] = 255
    iio.imwrite(tmp_path / "cut.png", np.dstack([GRAY8, GRAY8, GRAY8, alpha]))
    image, pixel_size, read_alpha = read_image(tmp_path / "cut.png", return_alpha=True)
    np.testing.assert_array_equal(image, GRAY8)
    np.testing.assert_array_equal(read_alpha, alpha)
    iio.imwrite(tmp_path / "opaque.png", np.dstack([GRAY8, np.full_like(GRAY8, 255)]))
    image, _, read_alpha = read_image(tmp_path / "opaque.png", return_alpha=True)
    assert read_alpha is None and image.shape == GRAY8.shape


@pytest.mark.parametrize("name", ["t.png", "t.jpg", "t.tif", "t.mrc", "t.bmp"])
def test_read_image_truncated_file_names_it(tmp_path, name):
    # Check that a file cut short in transfer gives a ValueError naming it.
    path = tmp_path / name
    if name.endswith(".mrc"):
        _write_mrc(path, FLOAT32)
    elif name.endswith(".tif"):
        tifffile.imwrite(path, GRAY16)
    else:
        _write_pil(path, GRAY8)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=rf"Cannot read the image file .*{name}"):
        read_image(path)


def test_read_mask_jpeg_ignores_compression_noise(tmp_path):
    # Check that a mask saved as JPEG is thresholded at half range, not at zero.
    mask = np.zeros((32, 32), bool)
    mask[8:24, 10:22] = True
    _write_pil(tmp_path / "m.jpg", mask.astype(np.uint8) * 255, quality=70)
    read = read_mask(tmp_path / "m.jpg")
    assert (read != mask).sum() <= 4


@pytest.mark.parametrize(
    "name, image",
    [("a.png", GRAY16), ("a.jpg", RGB), ("a.bmp", GRAY8), ("a.tif", RGB),
     ("a.tif", np.dstack([GRAY16] * 2)), ("a.mrc", FLOAT32)],
)
def test_write_image_file_round_trip(tmp_path, name, image):
    # Check that write_image_file writes what read_image reads back.
    path = write_image_file(tmp_path / name, image, pixel_size=0.5)
    read, pixel_size = read_image(path, as_gray=False)
    assert read.shape == image.shape
    if name.endswith(".jpg"):
        assert np.abs(read.astype(float) - image).mean() < 6
    else:
        np.testing.assert_array_equal(read, image)
    if name.endswith((".tif", ".mrc")):
        assert pixel_size == pytest.approx(0.5)


@pytest.mark.parametrize(
    "name, image", [("a.jpg", GRAY16), ("a.png", np.dstack([GRAY8] * 2)), ("a.mrc", RGB),
                    ("a.xyz", GRAY8)],
)
def test_write_image_file_refuses_what_format_cannot_hold(tmp_path, name, image):
    with pytest.raises(ValueError, match=rf"Cannot write '.*{name}'"):
        write_image_file(tmp_path / name, image)
