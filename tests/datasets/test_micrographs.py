import imageio.v3 as iio
import mrcfile
import numpy as np
import pytest
import tifffile

from sklipo.datasets import load_annotated_micrographs
from sklipo.datasets._box_masks import _inscribed_ellipse

HEIGHT, WIDTH = 240, 320
# (cy, cx, radius, kind) of the particles drawn on the test micrograph.
PARTICLES = [
    (60, 80, 20, "dark disc"),
    (150, 200, 25, "bright disc"),
    (120, 60, 22, "dark ring"),
    (20, 300, 15, "dark disc"),  # near the top-right corner: clipped cut-out
]


def _draw(seed=0, noise=8.0):
    """A noisy micrograph with discs and rings; returns it and the true discs."""
    rng = np.random.RandomState(seed)
    image = np.full((HEIGHT, WIDTH), 120.0)
    rows, cols = np.ogrid[:HEIGHT, :WIDTH]
    truths = []
    for cy, cx, r, kind in PARTICLES:
        # Pixel centres at +0.5: a disc centred on a pixel corner fills its box evenly.
        distance = np.hypot(rows + 0.5 - cy, cols + 0.5 - cx)
        disc = distance <= r
        if kind == "dark ring":
            image[disc & (distance > r - 4)] -= 70
        else:
            image[disc] += 70 if kind == "bright disc" else -70
        truths.append(disc)
    image += rng.normal(0, noise, image.shape)
    return image.clip(0, 255), truths


def _yolo_rows(margin=2):
    """YOLO rows boxing each drawn particle with `margin` pixels of slack."""
    rows = []
    for k, (cy, cx, r, _) in enumerate(PARTICLES):
        side = 2 * (r + margin)
        rows.append([k % 2, cx / WIDTH, cy / HEIGHT, side / WIDTH, side / HEIGHT])
    return np.array(rows)


def _write_yolo(path, rows):
    path.write_text("".join(" ".join(f"{v:.10g}" for v in row) + "\n" for row in rows))
    return path


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


@pytest.fixture
def dataset(tmp_path):
    """A micrograph folder (8-bit PNG and MRC) with a YOLO label folder."""
    image, truths = _draw()
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    iio.imwrite(tmp_path / "images" / "a.png", image.astype(np.uint8))
    with mrcfile.new(tmp_path / "images" / "b.mrc") as mrc:
        mrc.set_data(image.astype(np.float32))
        mrc.voxel_size = 8.0
    for stem in ("a", "b"):
        _write_yolo(tmp_path / "labels" / f"{stem}.txt", _yolo_rows())
    return tmp_path, image, truths


def test_load_annotated_micrographs_cutouts(dataset):
    # Check shapes (box + 2 * surrounding unless clipped), pixels, ids,
    # targets, files, boxes and pixel sizes.
    root, image, _ = dataset
    bunch = load_annotated_micrographs(root / "images", root / "labels", ["uni", "multi"],
                                       surrounding=10)
    X = bunch.data
    assert len(X) == 2 * len(PARTICLES)
    np.testing.assert_array_equal(X.ids[:4], ["a-0", "a-1", "a-2", "a-3"])
    np.testing.assert_array_equal(X.ids[4:], ["b-0", "b-1", "b-2", "b-3"])
    np.testing.assert_array_equal(bunch.target, [0, 1, 0, 1] * 2)
    np.testing.assert_array_equal(bunch.target_names, ["uni", "multi"])
    assert bunch.filenames[0].endswith("a.png") and bunch.filenames[-1].endswith("b.mrc")
    for k, (cy, cx, r, _) in enumerate(PARTICLES[:3]):
        side = 2 * (r + 2)
        assert X.images[k].shape == (side + 20, side + 20)
        np.testing.assert_array_equal(bunch.boxes[k], [cy - r - 2, cx - r - 2,
                                                      cy + r + 2, cx + r + 2])
        top, left = cy - r - 2 - 10, cx - r - 2 - 10
        np.testing.assert_array_equal(
            X.images[k + 4], image.astype(np.float32)[top:top + side + 20, left:left + side + 20]
        )
    # The corner particle's cut-out is clipped at the top and right edges.
    top, left, bottom, right = bunch.boxes[3]
    assert (top, right) == (3, 317)
    assert X.images[3].shape == (bottom + 10, WIDTH - (left - 10))
    assert X.images[0].dtype == np.uint8 and X.images[4].dtype == np.float32
    np.testing.assert_array_equal(X.pixel_size, [np.nan] * 4 + [0.8] * 4)


def test_load_annotated_micrographs_masks_match_drawn_particles(dataset):
    # Check that dark discs, bright discs and dark rings (filled) are segmented
    # with IoU > 0.8 against the drawn disc, without fallback.
    root, _, truths = dataset
    bunch = load_annotated_micrographs(root / "images", root / "labels", ["uni", "multi"],
                                       surrounding=10)
    assert not bunch.mask_fallback.any()
    for k in range(2 * len(PARTICLES)):
        top, left, bottom, right = bunch.boxes[k]
        y0, x0 = max(top - 10, 0), max(left - 10, 0)
        truth = truths[k % len(PARTICLES)]
        height, width = bunch.data.masks[k].shape
        assert _iou(bunch.data.masks[k], truth[y0:y0 + height, x0:x0 + width]) > 0.8
        # Nothing of the mask lies outside the box.
        inside = np.zeros((height, width), bool)
        inside[top - y0:bottom - y0, left - x0:right - x0] = True
        assert not (bunch.data.masks[k] & ~inside).any()


@pytest.mark.parametrize("noise", [0.0, 8.0])
def test_load_annotated_micrographs_blank_box_falls_back(noise):
    # Check that a box holding no particle (flat or noise only) gets the
    # inscribed ellipse and is flagged.
    image = 120 + np.random.RandomState(3).normal(0, noise, (100, 100))
    boxes = np.array([[0, 0.5, 0.5, 0.4, 0.3]])
    bunch = load_annotated_micrographs([image], [boxes], ["a"], surrounding=5)
    assert bunch.mask_fallback.tolist() == [True]
    mask = bunch.data.masks[0]
    np.testing.assert_array_equal(mask[5:-5, 5:-5], _inscribed_ellipse(30, 40))
    assert mask.sum() == _inscribed_ellipse(30, 40).sum()


def test_load_annotated_micrographs_arrays_and_multichannel():
    # Check array input, ids for arrays, and that channels are kept.
    image, truths = _draw(seed=1)
    rgb = np.dstack([image, image * 0.5, image * 0.25]).astype(np.float32)
    X, y = load_annotated_micrographs([rgb], [_yolo_rows()], ["uni", "multi"],
                                      surrounding=0, return_X_y=True)
    assert X.n_channels == 3
    np.testing.assert_array_equal(X.ids, ["micrograph0-0", "micrograph0-1",
                                          "micrograph0-2", "micrograph0-3"])
    np.testing.assert_array_equal(y, [0, 1, 0, 1])
    cy, cx, r, _ = PARTICLES[0]
    box = truths[0][cy - r - 2:cy + r + 2, cx - r - 2:cx + r + 2]
    assert _iou(X.masks[0], box) > 0.8


def test_load_annotated_micrographs_confidence_column(tmp_path):
    # Check detector output with confidences: kept as given, NaN for hand-made
    # lines, weak boxes dropped by min_confidence with ids keeping the line index.
    iio.imwrite(tmp_path / "m.png", np.full((50, 60), 100, np.uint8))
    (tmp_path / "m.txt").write_text(
        "0 0.3 0.5 0.2 0.2 0.9\n1 0.7 0.5 0.2 0.2 0.2\n0 0.5 0.3 0.2 0.2\n"
    )
    bunch = load_annotated_micrographs(tmp_path / "m.png", tmp_path / "m.txt", ["a", "b"])
    np.testing.assert_allclose(bunch.confidence, [0.9, 0.2, np.nan])
    kept = load_annotated_micrographs(
        tmp_path / "m.png", tmp_path / "m.txt", ["a", "b"], min_confidence=0.5
    )
    np.testing.assert_array_equal(kept.data.ids, ["m-0", "m-2"])
    np.testing.assert_array_equal(kept.target, [0, 0])
    np.testing.assert_allclose(kept.confidence, [0.9, np.nan])
    rows = np.array([[0, 0.3, 0.5, 0.2, 0.2, 0.4], [0, 0.7, 0.5, 0.2, 0.2, 0.6]])
    X, y = load_annotated_micrographs(
        [np.zeros((50, 60))], [rows], ["a"], min_confidence=0.5, return_X_y=True
    )
    np.testing.assert_array_equal(X.ids, ["micrograph0-1"])


def test_load_annotated_micrographs_deterministic(dataset):
    # Check that two loads give identical masks.
    root, _, _ = dataset
    first = load_annotated_micrographs(root / "images", root / "labels", ["u", "m"])
    second = load_annotated_micrographs(root / "images", root / "labels", ["u", "m"])
    for a, b in zip(first.data.masks, second.data.masks):
        np.testing.assert_array_equal(a, b)


def test_load_annotated_micrographs_pixel_size_argument_overrides_header(dataset):
    # Check that pixel_size wins over the MRC header, with a warning.
    root, _, _ = dataset
    with pytest.warns(UserWarning, match=r"overrides the file header of 1 micrograph.*b\.mrc"):
        X, _ = load_annotated_micrographs(root / "images", root / "labels", ["u", "m"],
                                          pixel_size=0.5, return_X_y=True)
    np.testing.assert_array_equal(X.pixel_size, [0.5] * 8)


def test_load_annotated_micrographs_single_files_and_tiff(tmp_path):
    # Check one micrograph file with one label file, 16-bit TIFF, blank lines
    # and an empty label file for a second micrograph.
    image, _ = _draw()
    tifffile.imwrite(tmp_path / "m.tif", (image * 100).astype(np.uint16))
    text = "\n" + "".join(" ".join(map(str, row)) + "\n\n" for row in _yolo_rows())
    (tmp_path / "m.txt").write_text(text)
    X, y = load_annotated_micrographs(tmp_path / "m.tif", tmp_path / "m.txt", ["u", "m"],
                                      return_X_y=True)
    assert len(X) == 4 and X.images[0].dtype == np.uint16
    (tmp_path / "empty.txt").write_text("")
    X2, _ = load_annotated_micrographs([tmp_path / "m.tif", tmp_path / "m.tif"],
                                       [tmp_path / "m.txt", tmp_path / "empty.txt"],
                                       ["u", "m"], return_X_y=True)
    assert len(X2) == 4


def test_load_annotated_micrographs_verbose(dataset, capsys):
    root, _, _ = dataset
    load_annotated_micrographs(root / "images", root / "labels", ["u", "m"], verbose=1)
    assert "2/2" in capsys.readouterr().out


# --- bad input ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line, match",
    [
        ("0 0.5 0.5 0.1", r"line 2: expected 5 or 6 fields 'class cx cy w h \[confidence\]'"),
        ("0 0.5 0.5 0.1 0.1 0.9 1", r"line 2: expected 5 or 6 fields"),
        ("0 0.5 0.5 0.1 0.1 1.5", r"line 2: the confidence \(6th field\) must lie in \[0, 1\]"),
        ("a 0.5 0.5 0.1 0.1", r"line 2: expected numbers"),
        ("0 0.5 nan 0.1 0.1", r"line 2: box values must be finite"),
        ("2 0.5 0.5 0.1 0.1", r"line 2: class index 2 is not one of the 2 classes .*0 to 1"),
        ("-1 0.5 0.5 0.1 0.1", r"line 2: class index -1 .*valid: 0 to 1"),
        ("1.5 0.5 0.5 0.1 0.1", r"line 2: class index 1.5"),
        ("0 0.5 0.5 0 0.1", r"line 2: box width and height must be positive"),
        ("0 0.98 0.5 0.1 0.1", r"line 2: the box .* reaches outside the micrograph .*m\.png"),
        ("0 0.5 -0.01 0.1 0.1", r"line 2: the box .* reaches outside"),
        ("0 0.5 0.5 0.001 0.1", r"line 2: the box covers less than one pixel"),
    ],
)
def test_load_annotated_micrographs_bad_label_line_raises(tmp_path, line, match):
    # Check that each malformed label line is reported with file and line.
    iio.imwrite(tmp_path / "m.png", np.full((50, 60), 100, np.uint8))
    _write_yolo(tmp_path / "m.txt", [[0, 0.5, 0.5, 0.2, 0.2]])
    with open(tmp_path / "m.txt", "a") as file:
        file.write(line + "\n")
    with pytest.raises(ValueError, match=r"m\.txt', " + match):
        load_annotated_micrographs(tmp_path / "m.png", tmp_path / "m.txt", ["a", "b"])


def test_load_annotated_micrographs_box_at_frame_is_accepted():
    # Check that a box touching the frame (and overshooting it by a rounding
    # error) is accepted.
    image = np.zeros((50, 60))
    boxes = np.array([[0, 0.1, 0.1, 0.2 + 1e-9, 0.2], [0, 0.9, 0.9, 0.2, 0.2]])
    bunch = load_annotated_micrographs([image], [boxes], ["a"], surrounding=3)
    np.testing.assert_array_equal(bunch.boxes, [[0, 0, 10, 12], [40, 48, 50, 60]])


def test_load_annotated_micrographs_bad_array_labels_raise():
    with pytest.raises(ValueError, match=r"labels\[0\] must be an array of shape \(k, 5\) or"):
        load_annotated_micrographs([np.zeros((10, 10))], [np.zeros((2, 4))], ["a"])
    with pytest.raises(ValueError, match=r"labels\[0\], row 1: class index 3"):
        load_annotated_micrographs([np.zeros((10, 10))],
                                   [np.array([[0, .5, .5, .2, .2], [3, .5, .5, .2, .2]])], ["a"])


def test_load_annotated_micrographs_missing_label_file_warns(dataset):
    # Check that a micrograph without a label file is left out with a warning
    # naming it, and that strict=True makes it an error.
    root, _, _ = dataset
    (root / "labels" / "b.txt").unlink()
    with pytest.warns(UserWarning, match=r"left out 1 file.*b\.mrc' \(no label file 'b\.txt'"):
        X, _ = load_annotated_micrographs(root / "images", root / "labels", ["u", "m"],
                                          return_X_y=True)
    assert len(X) == len(PARTICLES)
    with pytest.raises(ValueError, match=r"left out 1 file.*b\.mrc"):
        load_annotated_micrographs(root / "images", root / "labels", ["u", "m"], strict=True)


def test_load_annotated_micrographs_reports_every_skipped_entry(dataset):
    # Check that other file types, sub-folders and label files without a
    # micrograph are counted in one warning, and classes.txt and hidden files
    # are not.
    root, _, _ = dataset
    (root / "images" / "notes.docx").write_bytes(b"x")
    (root / "images" / "old").mkdir()
    (root / "images" / ".DS_Store").write_bytes(b"x")
    (root / "labels" / "c.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    (root / "labels" / "classes.txt").write_text("u\nm\n")
    with pytest.warns(UserWarning, match=r"left out 3 file\(s\) or folder\(s\)") as record:
        load_annotated_micrographs(root / "images", root / "labels", root / "labels" / "classes.txt")
    message = str(record[0].message)
    assert "notes.docx" in message and "old" in message and "c.txt" in message
    assert "classes.txt" not in message and "DS_Store" not in message
    with pytest.raises(ValueError, match="left out 3"):
        load_annotated_micrographs(root / "images", root / "labels", ["u", "m"], strict=True)


def test_load_annotated_micrographs_shared_stem_raises(dataset):
    root, _, _ = dataset
    iio.imwrite(root / "images" / "a.jpg", np.zeros((20, 20), np.uint8))
    with pytest.raises(ValueError, match=r"a\.jpg and a\.png share a file stem"):
        load_annotated_micrographs(root / "images", root / "labels", ["u", "m"])


def test_load_annotated_micrographs_polygon_line_hint(tmp_path):
    iio.imwrite(tmp_path / "m.png", np.full((50, 60), 100, np.uint8))
    (tmp_path / "m.txt").write_text("0 0.1 0.1 0.2 0.1 0.2 0.2 0.1 0.2\n")
    with pytest.raises(ValueError, match=r"m\.txt', line 1: .*got 9.*segmentation polygon"):
        load_annotated_micrographs(tmp_path / "m.png", tmp_path / "m.txt", ["a"])


def test_load_annotated_micrographs_jpeg_folder_and_quality(tmp_path):
    # Check that a folder of JPEG micrographs is read and each particle has a
    # quality record.
    image, _ = _draw()
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    iio.imwrite(tmp_path / "images" / "a.jpg", image.astype(np.uint8), quality=90)
    _write_yolo(tmp_path / "labels" / "a.txt", _yolo_rows())
    bunch = load_annotated_micrographs(tmp_path / "images", tmp_path / "labels", ["u", "m"])
    assert len(bunch.data) == len(PARTICLES)
    assert set(bunch.mask_quality) == {"area_ratio", "solidity", "touches_edge", "contrast",
                                       "fallback", "method"}
    assert not bunch.mask_quality.fallback.any()
    assert set(bunch.mask_quality.method) <= {"threshold", "rays"}
    # Boxes have 2 px of slack: a disc of radius r fills (r / (r + 2))**2 of the ellipse.
    assert (bunch.mask_quality.area_ratio > 0.75).all()
    assert (bunch.mask_quality.solidity > 0.9).all()


def test_load_annotated_micrographs_fallback_warning():
    # Check that more than 10 % fallbacks warn with the count and a remedy.
    image = 120 + np.random.RandomState(3).normal(0, 5, (100, 100))
    boxes = np.array([[0, 0.3, 0.3, 0.3, 0.3], [0, 0.7, 0.7, 0.3, 0.3]])
    with pytest.warns(UserWarning, match=r"fell back .* for 2 of 2 particles \(100%\).*polarity"):
        load_annotated_micrographs([image], [boxes], ["a"])


def test_load_annotated_micrographs_missing_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothere\.png"):
        load_annotated_micrographs([tmp_path / "nothere.png"], [np.zeros((0, 5))], ["a"])
    iio.imwrite(tmp_path / "m.png", np.zeros((5, 5), np.uint8))
    with pytest.raises(FileNotFoundError, match=r"Label file not found: .*gone\.txt"):
        load_annotated_micrographs([tmp_path / "m.png"], [tmp_path / "gone.txt"], ["a"])
    with pytest.raises(FileNotFoundError, match="No such micrograph folder"):
        load_annotated_micrographs(tmp_path / "nope", tmp_path, ["a"])


def test_load_annotated_micrographs_corrupt_micrograph_raises(tmp_path):
    (tmp_path / "m.mrc").write_bytes(b"broken")
    with pytest.raises(ValueError, match=r"Cannot read the image file .*m\.mrc"):
        load_annotated_micrographs([tmp_path / "m.mrc"], [np.zeros((0, 5))], ["a"])


def test_load_annotated_micrographs_nan_pixels_raise(tmp_path):
    image = np.ones((20, 20), np.float32)
    image[3, 4] = np.nan
    tifffile.imwrite(tmp_path / "m.tif", image)
    with pytest.raises(ValueError, match=r"m\.tif has NaN or infinite pixels"):
        load_annotated_micrographs([tmp_path / "m.tif"], [np.zeros((0, 5))], ["a"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": [np.zeros((0, 5))] * 2}, "Got 1 micrographs but 2 label sources"),
        ({"labels": [np.zeros((0, 5))]}, "list no boxes"),
        ({"class_names": []}, "class_names must be a non-empty list"),
        ({"class_names": ["a", "a"]}, "class_names must be distinct"),
        ({"area_range": (0.5, 0.2)}, "area_range must be two fractions"),
        ({"surrounding": -1}, "'surrounding' parameter"),
        ({"pixel_size": 0.0}, "'pixel_size' parameter"),
        ({"min_solidity": 1.5}, "'min_solidity' parameter"),
        ({"min_confidence": 1.5}, "'min_confidence' parameter"),
    ],
)
def test_load_annotated_micrographs_bad_arguments_raise(kwargs, match):
    arguments = {"images": [np.zeros((20, 20))], "labels": [np.array([[0, .5, .5, .2, .2]])],
                 "class_names": ["a"], **kwargs}
    with pytest.raises(ValueError, match=match):
        load_annotated_micrographs(**arguments)


def test_load_annotated_micrographs_channel_mismatch_raises():
    boxes = np.array([[0, .5, .5, .2, .2]])
    with pytest.raises(ValueError, match=r"images\[1\] has 3 channel\(s\) but images\[0\] has 1"):
        load_annotated_micrographs([np.zeros((20, 20)), np.zeros((20, 20, 3))],
                                   [boxes, boxes], ["a"])


def test_load_annotated_micrographs_array_labels_folder_raises(tmp_path):
    with pytest.raises(TypeError, match="need their labels as a list"):
        load_annotated_micrographs([np.zeros((20, 20))], tmp_path, ["a"])


def test_load_annotated_micrographs_bool_array_raises():
    with pytest.raises(TypeError, match=r"images\[0\] must hold integer or floating-point"):
        load_annotated_micrographs([np.zeros((20, 20), bool)],
                                   [np.array([[0, .5, .5, .2, .2]])], ["a"])
