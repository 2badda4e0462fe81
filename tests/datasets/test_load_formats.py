"""load_particles: every image format, transparent cut-outs, and no silent skips."""

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from PIL import Image

from sklipo.datasets import load_particles

RNG = np.random.RandomState(0)
GRAY8 = RNG.randint(0, 256, size=(20, 24)).astype(np.uint8)


def _class_folders(root):
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    Image.fromarray(GRAY8).save(root / "a" / "p1.jpg", quality=95)
    Image.fromarray(GRAY8).save(root / "a" / "p2.bmp")
    tifffile.imwrite(root / "b" / "p3.ome.tif", GRAY8, ome=True,
                     metadata={"PhysicalSizeX": 0.002, "PhysicalSizeY": 0.002})
    return root


def test_load_particles_jpeg_bmp_ome_tiff(tmp_path):
    # Check that JPEG, BMP and OME-TIFF cut-outs load, with the OME pixel size.
    root = _class_folders(tmp_path / "p")
    data = load_particles(root, mask_suffix=None, strict=True)
    assert len(data.data) == 3
    np.testing.assert_array_equal(data.data.images[1], GRAY8)
    np.testing.assert_allclose(data.data.pixel_size, [np.nan, np.nan, 2.0])


def test_load_particles_transparent_background_is_mask(tmp_path):
    # Check that a cut-out with a transparent background gets its opaque
    # pixels as mask, and the alpha channel is dropped from the image.
    (tmp_path / "a").mkdir()
    alpha = np.zeros_like(GRAY8)
    alpha[4:16, 5:19] = 255
    rgba = np.dstack([GRAY8, GRAY8 // 2, GRAY8 // 3, alpha])
    iio.imwrite(tmp_path / "a" / "p.png", rgba)
    X, _ = load_particles(tmp_path, mask_suffix=None, return_X_y=True)
    assert X.n_channels == 3
    np.testing.assert_array_equal(X.masks[0], alpha > 0)
    np.testing.assert_array_equal(X.images[0], rgba[..., :3])


def test_load_particles_warns_once_about_what_it_leaves_out(tmp_path):
    # Check that files of other types, nested folders and files beside the
    # class folders are counted in one warning; strict=True raises.
    root = _class_folders(tmp_path / "p")
    (root / "a" / "notes.docx").write_bytes(b"x")
    (root / "a" / "more").mkdir()
    (root / "README.txt").write_text("x")
    (root / "a" / ".hidden.png").write_bytes(b"x")
    with pytest.warns(UserWarning, match=r"load_particles left out 3 file\(s\)") as record:
        load_particles(root, mask_suffix=None)
    assert len(record) == 1
    message = str(record[0].message)
    assert "notes.docx" in message and "more" in message and "README.txt" in message
    assert "hidden" not in message
    with pytest.raises(ValueError, match=r"left out 3 .*strict=False"):
        load_particles(root, mask_suffix=None, strict=True)


def test_load_particles_truncated_file_names_it(tmp_path):
    root = _class_folders(tmp_path / "p")
    data = (root / "a" / "p1.jpg").read_bytes()
    (root / "a" / "p1.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"Cannot read the image file .*p1\.jpg.*truncated"):
        load_particles(root, mask_suffix=None)
