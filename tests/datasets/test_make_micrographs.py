import numpy as np
import pytest

from sklipo.datasets import (
    FLUORESCENCE_CLASSES,
    LIPOSOME_CLASSES,
    load_annotated_micrographs,
    make_micrographs,
    write_yolo,
)

RND_SEED = 0


@pytest.mark.parametrize(
    "kwargs, image_shape, names",
    [
        ({"modality": "fluorescence"}, (128, 160, 2), FLUORESCENCE_CLASSES),
        ({"modality": "fluorescence", "n_channels": 3}, (128, 160, 3), FLUORESCENCE_CLASSES),
        ({"modality": "tem"}, (128, 160), LIPOSOME_CLASSES["lamellarity"]),
        ({"modality": "tem", "problem": "encapsulation"}, (128, 160),
         LIPOSOME_CLASSES["encapsulation"]),
    ],
)
def test_make_micrographs_shapes_and_truth(kwargs, image_shape, names):
    # Check shapes, classes, and that boxes are the bounding boxes of the
    # true masks and the YOLO rows describe the same boxes.
    data = make_micrographs(n_micrographs=2, shape=(128, 160), n_particles=(3, 5),
                            random_state=RND_SEED, **kwargs)
    assert data.target_names.tolist() == list(names)
    for image, rows, boxes, targets, labels in zip(
        data.images, data.labels, data.boxes, data.targets, data.label_images
    ):
        assert image.shape == image_shape and image.dtype == np.uint8
        assert 1 <= len(boxes) <= 5 and labels.shape == (128, 160)
        np.testing.assert_array_equal(rows[:, 0], targets)
        for i, (top, left, bottom, right) in enumerate(boxes):
            found = np.argwhere(labels == i + 1)
            np.testing.assert_array_equal(found.min(axis=0), [top, left])
            np.testing.assert_array_equal(found.max(axis=0) + 1, [bottom, right])
        height, width = labels.shape
        np.testing.assert_allclose(rows[:, 1], (boxes[:, 1] + boxes[:, 3]) / 2 / width)
        np.testing.assert_allclose(rows[:, 4], (boxes[:, 2] - boxes[:, 0]) / height)


def test_make_micrographs_seeded_and_contrast():
    # Check reproducibility, and that TEM particles are darker and
    # fluorescence particles brighter than their background.
    a = make_micrographs("fluorescence", 1, n_particles=6, random_state=3)
    b = make_micrographs("fluorescence", 1, n_particles=6, random_state=3)
    np.testing.assert_array_equal(a.images[0], b.images[0])
    inside = a.label_images[0] > 0
    assert a.images[0][..., 0][inside].mean() > a.images[0][..., 0][~inside].mean() + 10
    tem = make_micrographs("tem", 1, n_particles=6, problem="encapsulation",
                           weights=[1, 0, 0], random_state=3)
    inside = tem.label_images[0] > 0
    assert tem.images[0][inside].mean() < tem.images[0][~inside].mean() - 10


def test_make_micrographs_clusters_touch():
    # Check that clustering=1 places particles touching one another.
    data = make_micrographs("fluorescence", 1, n_particles=8, clustering=1.0,
                            random_state=RND_SEED)
    labels = data.label_images[0]
    # Touching: some particle's pixel has a 4-neighbour of another particle.
    right = (labels[:, :-1] > 0) & (labels[:, 1:] > 0) & (labels[:, :-1] != labels[:, 1:])
    down = (labels[:-1] > 0) & (labels[1:] > 0) & (labels[:-1] != labels[1:])
    assert right.any() or down.any()


def test_make_micrographs_jpeg_and_jitter():
    clean = make_micrographs("fluorescence", 1, n_particles=4, random_state=1)
    jpeg = make_micrographs("fluorescence", 1, n_particles=4, jpeg_quality=50, random_state=1)
    difference = np.abs(clean.images[0].astype(int) - jpeg.images[0])
    assert 0 < difference.mean() < 10
    jittered = make_micrographs("fluorescence", 1, n_particles=4, box_jitter=0.1,
                                random_state=1)
    assert not np.array_equal(jittered.boxes[0], clean.boxes[0])


@pytest.mark.parametrize(
    "kwargs, match",
    [({"shape": (32, 300)}, "at least \\(64, 64\\)"), ({"n_particles": (5, 2)}, "low <= high"),
     ({"dtype": "uint16", "jpeg_quality": 80}, "needs dtype='uint8'"),
     ({"dtype": "int8"}, "dtype must be one of"), ({"weights": [1, -1, 1]}, "non-negative")],
)
def test_make_micrographs_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_micrographs(n_micrographs=1, **kwargs)


@pytest.mark.parametrize(
    "modality, image_format",
    [("fluorescence", "jpg"), ("fluorescence", "png"), ("fluorescence", "tif"),
     ("tem", "mrc"), ("tem", "bmp")],
)
def test_write_yolo_round_trip(tmp_path, modality, image_format):
    # Check that write_yolo writes what load_annotated_micrographs reads back:
    # every box, its class, and masks close to the truth.
    data = make_micrographs(modality, 2, shape=(160, 192), n_particles=4,
                            random_state=RND_SEED)
    folder = write_yolo(tmp_path / "set", data.images, data.labels, data.target_names,
                        image_format=image_format, pixel_size=data.pixel_size)
    assert sorted(p.name for p in (folder / "labels").iterdir()) == [
        "micrograph-000.txt", "micrograph-001.txt"]
    bunch = load_annotated_micrographs(folder / "images", folder / "labels",
                                       folder / "classes.txt", surrounding=0, strict=True)
    np.testing.assert_array_equal(bunch.target, np.concatenate(data.targets))
    np.testing.assert_array_equal(bunch.boxes, np.concatenate(data.boxes))
    ious = []
    for k, (m, i) in enumerate((m, i) for m, b in enumerate(data.boxes) for i in range(len(b))):
        top, left, bottom, right = data.boxes[m][i]
        truth = data.label_images[m][top:bottom, left:right] == i + 1
        mask = bunch.data.masks[k]
        ious.append((mask & truth).sum() / (mask | truth).sum())
    assert np.median(ious) > 0.8
    if image_format in ("tif", "mrc"):
        np.testing.assert_allclose(bunch.data.pixel_size, data.pixel_size)
    if modality == "fluorescence":
        # 2 channels in a colour format come back as RGB with an empty blue.
        assert bunch.data.n_channels == (3 if image_format in ("jpg", "png") else 2)


def test_write_yolo_refuses_non_empty_folder(tmp_path):
    data = make_micrographs("tem", 1, shape=(96, 96), n_particles=1, random_state=0)
    write_yolo(tmp_path, data.images, data.labels, data.target_names)
    with pytest.raises(FileExistsError, match="not empty"):
        write_yolo(tmp_path, data.images, data.labels, data.target_names)
    write_yolo(tmp_path, data.images, data.labels, data.target_names, overwrite=True)
    with pytest.raises(ValueError, match="1 images but 2 label arrays"):
        write_yolo(tmp_path / "x", data.images, data.labels * 2, data.target_names)
