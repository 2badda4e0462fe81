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


def _write_mrcs(path, stack, voxel_size=None):
    import mrcfile

    with mrcfile.new(path) as mrc:
        mrc.set_data(stack)
        mrc.set_image_stack()
        if voxel_size is not None:
            mrc.voxel_size = voxel_size


STACK = RNG.normal(size=(4, 20, 24)).astype(np.float32)


def test_load_particles_mrcs_stack_with_mask_stack(tmp_path):
    # Check that a RELION-style particle stack loads as one particle per
    # frame, named "<file>:<frame>", with masks from the matching stack and
    # the header's pixel size.
    (tmp_path / "a").mkdir()
    masks = np.zeros(STACK.shape, dtype=np.int8)
    for frame in range(4):
        masks[frame, 2 + frame : 15, 3:20] = 1
    _write_mrcs(tmp_path / "a" / "stack.mrcs", STACK, voxel_size=12.0)
    _write_mrcs(tmp_path / "a" / "stack_mask.mrcs", masks)
    data = load_particles(tmp_path, strict=True)
    assert len(data.data) == 4
    assert data.data.ids.tolist() == [f"a/stack:{frame}" for frame in range(4)]
    assert data.filenames[3] == str(tmp_path / "a" / "stack.mrcs") + ":3"
    assert data.mask_filenames[3] == str(tmp_path / "a" / "stack_mask.mrcs") + ":3"
    for frame in range(4):
        np.testing.assert_array_equal(data.data.images[frame], STACK[frame])
        np.testing.assert_array_equal(data.data.masks[frame], masks[frame] > 0)
    np.testing.assert_allclose(data.data.pixel_size, 1.2)
    np.testing.assert_array_equal(data.target, 0)


def test_load_particles_multipage_tiff_of_cutouts(tmp_path):
    # Check that a multi-page TIFF of cut-outs of different sizes, and a page
    # sequence of equal ones, load one particle per page beside a single image.
    (tmp_path / "a").mkdir()
    pages = [GRAY8, GRAY8[:12, :10], GRAY8[3:, 2:]]
    with tifffile.TiffWriter(tmp_path / "a" / "cutouts.tif") as tif:
        for page in pages:
            tif.write(page)
    with tifffile.TiffWriter(tmp_path / "a" / "sequence.tif") as tif:
        for page in (GRAY8, 255 - GRAY8):
            tif.write(page, metadata=None)
    Image.fromarray(GRAY8).save(tmp_path / "a" / "single.png")
    data = load_particles(tmp_path, mask_suffix=None, strict=True)
    assert data.data.ids.tolist() == [
        "a/cutouts:0", "a/cutouts:1", "a/cutouts:2", "a/sequence:0", "a/sequence:1",
        "a/single",
    ]
    for image, page in zip(data.data.images, [*pages, GRAY8, 255 - GRAY8, GRAY8]):
        np.testing.assert_array_equal(image, page)


def test_load_particles_stack_mask_count_mismatch_raises(tmp_path):
    # Check that a stack whose mask file holds another number of frames is an
    # error naming both files.
    (tmp_path / "a").mkdir()
    _write_mrcs(tmp_path / "a" / "s.mrcs", STACK)
    _write_mrcs(tmp_path / "a" / "s_mask.mrcs", np.ones((3, 20, 24), np.int8))
    with pytest.raises(ValueError, match=r"s_mask\.mrcs' holds 3 mask\(s\).*s\.mrcs' holds 4"):
        load_particles(tmp_path)


def test_load_particles_manifest_lists_a_stack(tmp_path):
    # Check that a manifest row naming a stack gives one particle per frame,
    # with the row's label and id.
    _write_mrcs(tmp_path / "s.mrcs", STACK[:2])
    (tmp_path / "manifest.csv").write_text("image,label,id\ns.mrcs,full,batch1\n")
    data = load_particles(tmp_path)
    assert data.data.ids.tolist() == ["batch1:0", "batch1:1"]
    assert data.target_names[data.target].tolist() == ["full", "full"]


def test_load_annotated_micrographs_refuses_a_stack(tmp_path):
    # Check that a stack given as a micrograph is refused, naming the file and
    # what to do.
    from sklipo.datasets import load_annotated_micrographs

    _write_mrcs(tmp_path / "m.mrcs", STACK)
    (tmp_path / "m.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(ValueError, match=r"m\.mrcs' as one image.*stack of 4.*one plane per"):
        load_annotated_micrographs(tmp_path / "m.mrcs", tmp_path / "m.txt", ["a"])


def test_read_image_refuses_pages_of_different_shapes(tmp_path):
    # Check that a single image is not read silently from the first of
    # several pages of different shapes.
    from sklipo.datasets import read_image

    with tifffile.TiffWriter(tmp_path / "two.tif") as tif:
        tif.write(GRAY8)
        tif.write(GRAY8[:10])
    with pytest.raises(ValueError, match=r"two\.tif' as one image: the file holds 2 images"):
        read_image(tmp_path / "two.tif")
