import imageio.v3 as iio
import mrcfile
import numpy as np
import pytest
import tifffile
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklipo import ParticleSet
from sklipo.datasets import load_particles, save_particles

RNG = np.random.RandomState(0)


def _disc(height, width, radius):
    rows, cols = np.ogrid[:height, :width]
    return (rows - height / 2) ** 2 + (cols - width / 2) ** 2 <= radius**2


def _write_mask(path, mask):
    iio.imwrite(path, mask.astype(np.uint8) * 255)


@pytest.fixture
def class_folders(tmp_path):
    """Two class folders mixing PNG 8-bit, TIFF 16-bit, float TIFF and MRC."""
    root = tmp_path / "particles"
    (root / "unilamellar").mkdir(parents=True)
    (root / "multilamellar").mkdir()
    files = {
        "unilamellar/p2": RNG.randint(0, 256, (20, 24)).astype(np.uint8),
        "unilamellar/p1": RNG.randint(0, 65536, (30, 30)).astype(np.uint16),
        "multilamellar/m1": RNG.normal(size=(25, 21)).astype(np.float32),
        "multilamellar/m0": RNG.normal(size=(18, 18)).astype(np.float32),
    }
    writers = {"p2": ".png", "p1": ".tif", "m1": ".tiff", "m0": ".mrc"}
    for key, image in files.items():
        suffix = writers[key.split("/")[1]]
        if suffix == ".png":
            iio.imwrite(root / f"{key}{suffix}", image)
        elif suffix == ".mrc":
            with mrcfile.new(root / f"{key}{suffix}") as mrc:
                mrc.set_data(image)
                mrc.voxel_size = 12.0
        else:
            tifffile.imwrite(root / f"{key}{suffix}", image)
        _write_mask(root / f"{key}_mask.png", _disc(*image.shape, 6))
    (root / "unilamellar" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root, files


def test_load_particles_class_folders(class_folders):
    # Check the folder layout: sorted classes and files, ids, dtypes, masks,
    # pixel size from the MRC header only.
    root, files = class_folders
    with pytest.warns(UserWarning, match=r"left out 1 file.*notes\.txt"):
        bunch = load_particles(root)
    expected_ids = ["multilamellar/m0", "multilamellar/m1", "unilamellar/p1", "unilamellar/p2"]
    np.testing.assert_array_equal(bunch.data.ids, expected_ids)
    np.testing.assert_array_equal(bunch.target_names, ["multilamellar", "unilamellar"])
    np.testing.assert_array_equal(bunch.target, [0, 0, 1, 1])
    for particle, id_ in zip(bunch.data, expected_ids):
        assert particle.image.dtype == files[id_].dtype
        np.testing.assert_array_equal(particle.image, files[id_])
        np.testing.assert_array_equal(particle.mask, _disc(*files[id_].shape, 6))
    np.testing.assert_allclose(bunch.data.pixel_size, [1.2, np.nan, np.nan, np.nan])
    assert bunch.filenames[0].endswith("m0.mrc")
    assert bunch.mask_filenames[0].endswith("m0_mask.png")
    assert "multilamellar: 2" in bunch.DESCR


def test_load_particles_pixel_size_from_tiff_resolution(tmp_path):
    # Check that an ImageJ-calibrated TIFF gives its pixel size to the particle.
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    image = np.arange(100, dtype=np.uint16).reshape(10, 10)
    tifffile.imwrite(
        tmp_path / "a" / "x.tif", image, imagej=True, resolution=(1 / 0.6, 1 / 0.6),
        metadata={"unit": "nm"},
    )
    tifffile.imwrite(tmp_path / "b" / "y.tif", image)
    bunch = load_particles(tmp_path, mask_suffix=None)
    np.testing.assert_allclose(bunch.data.pixel_size, [0.6, np.nan])


def test_load_particles_return_X_y(class_folders):
    # Check that return_X_y gives the set and the targets of the Bunch.
    root, _ = class_folders
    with pytest.warns(UserWarning, match="notes.txt"):
        X, y = load_particles(root, return_X_y=True)
    assert isinstance(X, ParticleSet)
    np.testing.assert_array_equal(y, [0, 0, 1, 1])


def test_load_particles_without_masks(tmp_path):
    # Check that mask_suffix=None reads images alone with full masks.
    (tmp_path / "a").mkdir()
    iio.imwrite(tmp_path / "a" / "x.png", np.zeros((5, 7), np.uint8))
    X, _ = load_particles(tmp_path, mask_suffix=None, return_X_y=True)
    assert X.masks[0].all() and X.masks[0].shape == (5, 7)


def test_load_particles_pixel_size_argument_overrides_header(class_folders):
    # Check the precedence: the argument wins over the MRC header, with a warning.
    root, _ = class_folders
    with (
        pytest.warns(UserWarning, match=r"pixel_size=0\.5 overrides .* 1 particle"),
        pytest.warns(UserWarning, match="notes.txt"),
    ):
        X, _ = load_particles(root, pixel_size=0.5, return_X_y=True)
    np.testing.assert_array_equal(X.pixel_size, [0.5] * 4)


def _write_manifest(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_load_particles_manifest(tmp_path):
    # Check the manifest layout: row order, ids, relative paths, empty cells,
    # extra columns, a byte-order mark and header case.
    (tmp_path / "img").mkdir()
    a = RNG.randint(0, 256, (10, 12)).astype(np.uint8)
    b = RNG.randint(0, 65536, (14, 9)).astype(np.uint16)
    iio.imwrite(tmp_path / "img" / "a.png", a)
    tifffile.imwrite(tmp_path / "img" / "b.tif", b)
    _write_mask(tmp_path / "img" / "a_m.png", _disc(10, 12, 3))
    manifest = _write_manifest(
        tmp_path / "list.csv",
        "\ufeffImage,Mask,Label,pixel_size,id,comment\n"
        "img/b.tif,,zeta,0.75,,x\n"
        "img/a.png,img/a_m.png,alpha,,first,y\n",
    )
    bunch = load_particles(manifest)
    np.testing.assert_array_equal(bunch.data.ids, ["img/b", "first"])
    np.testing.assert_array_equal(bunch.target_names, ["alpha", "zeta"])
    np.testing.assert_array_equal(bunch.target, [1, 0])
    np.testing.assert_array_equal(bunch.data.images[0], b)
    assert bunch.data.masks[0].all()
    np.testing.assert_array_equal(bunch.data.masks[1], _disc(10, 12, 3))
    np.testing.assert_array_equal(bunch.data.pixel_size, [0.75, np.nan])
    assert bunch.mask_filenames[0] == ""


def test_load_particles_manifest_preferred_in_folder(class_folders):
    # Check that a manifest.csv inside the folder is read instead of the class folders.
    root, files = class_folders
    _write_manifest(root / "manifest.csv", "image,label\nunilamellar/p2.png,odd\n")
    X, y = load_particles(root, return_X_y=True)
    assert len(X) == 1
    np.testing.assert_array_equal(X.images[0], files["unilamellar/p2"])


def test_load_particles_manifest_overrides_header_with_warning(tmp_path):
    # Check that the manifest's pixel size beats a differing MRC header, with a warning.
    with mrcfile.new(tmp_path / "a.mrc") as mrc:
        mrc.set_data(np.ones((6, 6), np.float32))
        mrc.voxel_size = 10.0
    manifest = _write_manifest(tmp_path / "m.csv", "image,label,pixel_size\na.mrc,x,2.5\n")
    with pytest.warns(UserWarning, match="manifest's pixel_size overrides the file header"):
        X, _ = load_particles(manifest, return_X_y=True)
    np.testing.assert_array_equal(X.pixel_size, [2.5])


def test_load_particles_multichannel(tmp_path):
    # Check that (H, W, C) files give a set with channels last.
    (tmp_path / "c").mkdir()
    image = RNG.randint(0, 65536, (12, 10, 3)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "c" / "x.tif", image, photometric="minisblack",
                     planarconfig="contig")
    _write_mask(tmp_path / "c" / "x_mask.png", _disc(12, 10, 4))
    X, _ = load_particles(tmp_path, return_X_y=True)
    assert X.n_channels == 3
    np.testing.assert_array_equal(X.images[0], image)


def _mixed_set():
    images = [
        RNG.randint(0, 256, (20, 31)).astype(np.uint8),
        RNG.randint(0, 65536, (17, 17)).astype(np.uint16),
        RNG.normal(size=(25, 22)).astype(np.float32),
        RNG.normal(size=(9, 40)),
        RNG.randint(-300, 300, (12, 12)).astype(np.int16),
    ]
    masks = [RNG.rand(*im.shape) > 0.3 for im in images]
    ids = ["p/1", "p 2", "..", "x_mask", "ü"]
    # Particle 1 has no known pixel size.
    return ParticleSet.concatenate(
        [
            ParticleSet(images[:1], masks[:1], pixel_size=0.8, ids=ids[:1]),
            ParticleSet(images[1:2], masks[1:2], ids=ids[1:2]),
            ParticleSet(images[2:], masks[2:], pixel_size=[1 / 3, 0.8, 2.0], ids=ids[2:]),
        ]
    )


def _assert_same_particles(loaded, expected):
    assert len(loaded) == len(expected)
    for got, want in zip(loaded, expected):
        assert got.image.dtype == want.image.dtype
        np.testing.assert_array_equal(got.image, want.image)
        np.testing.assert_array_equal(got.mask, want.mask)
    np.testing.assert_array_equal(loaded.pixel_size, expected.pixel_size)
    np.testing.assert_array_equal(loaded.ids, expected.ids)


def test_save_particles_round_trip(tmp_path):
    # Check that load_particles(save_particles(...)) gives back every image,
    # mask, pixel size, id, label and the order, with awkward names.
    X = _mixed_set()
    labels = np.array(["uni/lamellar", "multi", "uni/lamellar", "?", "multi"])
    bunch = load_particles(save_particles(X, labels, tmp_path / "out"))
    _assert_same_particles(bunch.data, X)
    np.testing.assert_array_equal(bunch.target_names[bunch.target], labels)
    assert (tmp_path / "out" / "uni_lamellar").is_dir()


def test_save_particles_integer_labels_with_target_names(tmp_path):
    # Check that integer labels are saved under their names and that sorted
    # target_names give back the same integer targets.
    X = _mixed_set()
    y = np.array([2, 0, 1, 2, 0])
    names = ["empty", "full", "uncertain"]
    X2, y2 = load_particles(save_particles(X, y, tmp_path, target_names=names),
                            return_X_y=True)
    np.testing.assert_array_equal(y2, y)
    _assert_same_particles(X2, X)


def test_save_particles_multichannel_round_trip(tmp_path):
    # Check that multichannel sets, including 3 identical channels, survive.
    gray = RNG.randint(0, 256, (8, 9)).astype(np.uint8)
    images = [np.dstack([gray] * 3), RNG.rand(11, 7, 3).astype(np.float32)]
    X = ParticleSet(images, channel_axis=-1)
    X2, _ = load_particles(save_particles(X, [0, 1], tmp_path), return_X_y=True)
    assert X2.n_channels == 3
    _assert_same_particles(X2, X)


def test_save_particles_class_folders_readable_without_manifest(tmp_path):
    # Check that the class folders alone also load, in the same order per class.
    X = _mixed_set()
    save_particles(X, [0, 0, 0, 1, 1], tmp_path)
    (tmp_path / "manifest.csv").unlink()
    X2, y2 = load_particles(tmp_path, return_X_y=True)
    np.testing.assert_array_equal(y2, [0, 0, 0, 1, 1])
    for got, want in zip(X2, X):
        np.testing.assert_array_equal(got.image, want.image)


def test_save_particles_refuses_non_empty_folder(tmp_path):
    # Check that existing data is never overwritten silently, and that
    # overwrite=True replaces an earlier save but keeps unrelated files.
    X = _mixed_set()
    save_particles(X, [0, 0, 1, 1, 1], tmp_path)
    with pytest.raises(FileExistsError, match="is not empty.*overwrite=True"):
        save_particles(X[:2], [0, 1], tmp_path)
    (tmp_path / "README.txt").write_text("mine")
    save_particles(X[:2], ["b", "c"], tmp_path, overwrite=True)
    X2, y2 = load_particles(tmp_path, return_X_y=True)
    _assert_same_particles(X2, X[:2])
    assert (tmp_path / "README.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.txt", "b", "c", "manifest.csv"]


def test_save_particles_into_file_raises(tmp_path):
    # Check that a file in place of the folder is refused.
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="it is a file"):
        save_particles(_mixed_set(), np.zeros(5, int), tmp_path / "f")


@pytest.mark.parametrize(
    "y, target_names, match",
    [
        ([0, 1], None, r"one label per particle \(5\)"),
        ([0, 1, 2, 3, 0], ["a", "b", "c"], r"y\[3\] is 3.*valid labels: 0 to 2"),
        (["a"] * 5, ["a"], "target_names maps integer labels"),
        (["a/b", "a_b", "a/b", "a/b", "a/b"], None, "both become the folder name 'a_b'"),
        ([0, 0, 1, 1, 1], ["x", "x"], "distinct names"),
    ],
)
def test_save_particles_bad_labels_raise(tmp_path, y, target_names, match):
    # Check the errors for labels that cannot be saved.
    with pytest.raises(ValueError, match=match):
        save_particles(_mixed_set(), y, tmp_path, target_names=target_names)


def test_load_particles_saved_folder_cross_validates(tmp_path):
    # Check that a set written by save_particles and read back feeds a
    # scikit-learn pipeline under cross_validate and beats chance on data
    # where the classes differ in brightness.
    from sklipo.preprocessing import CropParticle, Flatten, Resize

    rng = np.random.RandomState(0)
    images, y = [], []
    for i in range(40):
        label = i % 2
        size = rng.randint(18, 30)
        image = rng.normal(100 + 60 * label, 10, (size, size)).clip(0, 255)
        images.append(image.astype(np.uint8))
        y.append(label)
    X = ParticleSet(images, [_disc(*im.shape, 7) for im in images], pixel_size=1.0)
    X2, y2 = load_particles(save_particles(X, y, tmp_path, target_names=["dark", "light"]),
                            return_X_y=True)
    pipe = Pipeline([("crop", CropParticle("masked")), ("resize", Resize(16)),
                     ("flatten", Flatten()), ("scale", StandardScaler()),
                     ("clf", LogisticRegression())])
    scores = cross_validate(pipe, X2, y2, cv=StratifiedKFold(4))
    assert scores["test_score"].mean() > 0.9


# --- bad input: each error names the file ---------------------------------


def _one_class(tmp_path, image, mask=None, name="x.tif", planar=False):
    folder = tmp_path / "cls"
    folder.mkdir(exist_ok=True)
    options = {"photometric": "minisblack", "planarconfig": "contig"} if planar else {}
    tifffile.imwrite(folder / name, image, **options)
    stem = name.rsplit(".", 1)[0]
    _write_mask(folder / f"{stem}_mask.png",
                np.ones(image.shape[:2], bool) if mask is None else mask)
    return folder


def test_load_particles_missing_mask_raises(tmp_path):
    folder = _one_class(tmp_path, np.ones((5, 5), np.uint8))
    (folder / "x_mask.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"x\.tif' has no mask: expected .*x_mask"):
        load_particles(tmp_path)


def test_load_particles_mask_without_image_raises(tmp_path):
    folder = _one_class(tmp_path, np.ones((5, 5), np.uint8))
    _write_mask(folder / "y_mask.png", np.ones((5, 5), bool))
    with pytest.raises(FileNotFoundError, match=r"y_mask\.png' has no image"):
        load_particles(tmp_path)


def test_load_particles_missing_image_in_manifest_raises(tmp_path):
    manifest = _write_manifest(tmp_path / "m.csv", "image,label\n\nnope.png,a\n")
    with pytest.raises(FileNotFoundError, match=r"nope\.png.*m\.csv', line 3"):
        load_particles(manifest)


def test_load_particles_corrupt_image_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8))
    (tmp_path / "cls" / "x.tif").write_bytes(b"II*\x00broken")
    with pytest.raises(ValueError, match=r"Cannot read the image file .*x\.tif"):
        load_particles(tmp_path)


def test_load_particles_corrupt_mask_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8))
    (tmp_path / "cls" / "x_mask.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"Cannot read the image file .*x_mask\.png"):
        load_particles(tmp_path)


def test_load_particles_mask_shape_mismatch_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8), mask=np.ones((5, 6), bool))
    with pytest.raises(ValueError, match=r"x\.tif' with mask .*x_mask\.png'.*shape \(5, 6\)"):
        load_particles(tmp_path)


def test_load_particles_empty_mask_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8), mask=np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match=r"x_mask\.png'.*mask .* is empty"):
        load_particles(tmp_path)


def test_load_particles_nan_pixels_raise(tmp_path):
    image = np.ones((5, 5), np.float32)
    image[2, 2] = np.nan
    _one_class(tmp_path, image)
    with pytest.raises(ValueError, match=r"x\.tif'.*NaN or infinite"):
        load_particles(tmp_path)


def test_load_particles_empty_class_folder_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8))
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("")
    with pytest.raises(ValueError, match=r"class folder .*empty' holds no images"):
        load_particles(tmp_path)


def test_load_particles_no_class_folders_raises(tmp_path):
    with pytest.raises(ValueError, match="Found no class folders"):
        load_particles(tmp_path)


def test_load_particles_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere"):
        load_particles(tmp_path / "nowhere")


def test_load_particles_channel_count_mismatch_raises(tmp_path):
    _one_class(tmp_path, np.ones((5, 5), np.uint8))
    _one_class(tmp_path, np.ones((5, 5, 2), np.uint8), name="y.tif", planar=True)
    with pytest.raises(ValueError, match=r"y\.tif' has 2 channel\(s\) but .*x\.tif' has 1"):
        load_particles(tmp_path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("path,label\na.png,x\n", r"lacks the column\(s\) \['image'\]"),
        ("image,label\na.png,\n", r"line 2: the 'label' cell is empty"),
        ("image,label,pixel_size\na.png,x,0\n", r"line 2: pixel_size must be positive"),
        ("image,label,pixel_size\na.png,x,-1.5\n", r"line 2: pixel_size must be positive"),
        ("image,label,pixel_size\na.png,x,nm\n", r"line 2: pixel_size must be a number"),
        ("image,label\n", "lists no particles"),
    ],
)
def test_load_particles_bad_manifest_raises(tmp_path, text, match):
    iio.imwrite(tmp_path / "a.png", np.ones((4, 4), np.uint8))
    manifest = _write_manifest(tmp_path / "m.csv", text)
    with pytest.raises(ValueError, match=match):
        load_particles(manifest)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pixel_size": 0}, "'pixel_size' parameter"),
        ({"pixel_size": -1.0}, "'pixel_size' parameter"),
        ({"mask_suffix": ""}, "mask_suffix must be a non-empty string"),
        ({"as_gray": "yes"}, "'as_gray' parameter"),
    ],
)
def test_load_particles_bad_arguments_raise(class_folders, kwargs, match):
    root, _ = class_folders
    with pytest.raises(ValueError, match=match):
        load_particles(root, **kwargs)


def test_load_particles_verbose_prints_progress(tmp_path, capsys, monkeypatch):
    # Check that verbose reports progress on long loads.
    monkeypatch.setattr("sklipo.datasets._load_particles._PROGRESS_EVERY", 2)
    save_particles(_mixed_set(), np.zeros(5, int), tmp_path)
    load_particles(tmp_path, verbose=1)
    assert "read 4/5 files, 4 particles" in capsys.readouterr().out


class _MeanInMask(TransformerMixin, BaseEstimator):
    """Mean intensity inside each mask: one fixed-size feature per particle."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.array([[image[mask].mean()] for image, mask, _, _ in X])


def test_load_particles_feeds_custom_transformer(tmp_path):
    # Check that a loaded set works in cross_validate without sklipo preprocessing.
    rng = np.random.RandomState(1)
    images = [rng.normal(50 + 100 * (i % 2), 5, (12 + i % 5, 14)).astype(np.float32)
              for i in range(20)]
    X, y = load_particles(save_particles(ParticleSet(images), np.arange(20) % 2, tmp_path),
                          return_X_y=True)
    pipe = Pipeline([("mean", _MeanInMask()), ("clf", LogisticRegression())])
    assert cross_validate(pipe, X, y, cv=4)["test_score"].mean() == 1.0


def test_save_particles_overwrite_keeps_hand_written_manifest_files(tmp_path):
    # Check that overwrite=True never deletes data a hand-written manifest
    # lists under names save_particles does not use.
    (tmp_path / "raw").mkdir()
    iio.imwrite(tmp_path / "raw" / "a.png", np.ones((4, 4), np.uint8))
    _write_manifest(tmp_path / "manifest.csv", "image,label\nraw/a.png,x\n")
    save_particles(_mixed_set(), np.zeros(5, int), tmp_path, overwrite=True)
    assert (tmp_path / "raw" / "a.png").is_file()
    assert len(load_particles(tmp_path).data) == 5


def test_load_particles_non_csv_file_raises(tmp_path):
    iio.imwrite(tmp_path / "a.png", np.ones((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"a\.png' is a file but not a \.csv manifest"):
        load_particles(tmp_path / "a.png")
