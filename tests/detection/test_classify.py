"""Tests for cut_particles, classify_micrographs and draw_overlay."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier

from sklipo.datasets import load_annotated_micrographs, make_micrographs, write_yolo
from sklipo.detection import ParticleFinder, classify_micrographs, cut_particles, draw_overlay

DATA = make_micrographs("fluorescence", 3, shape=(160, 160), n_particles=(4, 6),
                        clustering=0.5, random_state=0)
CUTOUT = {"surrounding": 6, "sigma": 1.0}


class _SizeModel(DummyClassifier):
    """Classifies a particle by its cut-out height: tells whether cut-outs arrive."""

    def fit(self, X, y):
        super().fit(np.zeros((len(y), 1)), y)
        return self

    def predict(self, X):
        return np.array(["big" if im.shape[0] > 40 else "small" for im in X.images])

    def predict_proba(self, X):
        big = (self.predict(X) == "big").astype(float)
        return np.column_stack([big, 1 - big])


def _model():
    return _SizeModel().fit(None, np.array(["big", "small"]))


def test_cut_particles_matches_load_annotated_micrographs():
    """Check that cut-outs of given boxes equal those the training loader makes."""
    image, boxes = DATA.images[0], DATA.boxes[0]
    mine = cut_particles(image, boxes, cutout=CUTOUT, name="m0")
    theirs = load_annotated_micrographs([image], [DATA.labels[0]], DATA.target_names, **CUTOUT)
    assert len(mine.data) == len(boxes)
    for a, b, ma, mb in zip(mine.data.images, theirs.data.images, mine.data.masks,
                            theirs.data.masks):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ma, mb)
    np.testing.assert_array_equal(mine.boxes, boxes)
    assert mine.data.ids[0] == "m0-0"


def test_cut_particles_no_boxes_and_bad_settings():
    """Check that no boxes gives no cut-outs and unknown settings are refused."""
    empty = cut_particles(DATA.images[0], np.zeros((0, 4), dtype=int))
    assert empty.data is None and empty.boxes.shape == (0, 4)
    with pytest.raises(ValueError, match="Unknown cut-out setting.*surounding"):
        cut_particles(DATA.images[0], DATA.boxes[0], cutout={"surounding": 5})
    with pytest.raises(ValueError, match="Cannot cut the particles of m9"):
        cut_particles(DATA.images[0], [[0, 0, 500, 500]], name="m9")


def test_classify_micrographs_rows_from_finder_and_files(tmp_path):
    """Check one row per found particle, from arrays and from image files."""
    finder = ParticleFinder().fit(DATA.images, DATA.boxes)
    result = classify_micrographs(_model(), DATA.images, finder=finder, cutout=CUTOUT)
    n_found = sum(len(finder.find(image).boxes) for image in DATA.images)
    assert len(result.rows) == n_found > 0
    assert result.columns == ["micrograph", "particle", "top", "left", "bottom", "right",
                              "score", "label", "p_big", "p_small", "mask_fallback"]
    row = result.rows[0]
    assert list(row) == result.columns
    assert row["micrograph"] == "micrograph-000" and row["label"] in ("big", "small")
    assert row["p_big"] + row["p_small"] == pytest.approx(1.0)
    folder = write_yolo(tmp_path / "yolo", DATA.images, DATA.labels, DATA.target_names,
                        image_format="tif")
    from_files = classify_micrographs(_model(), folder / "images", finder=finder, cutout=CUTOUT)
    assert [r["micrograph"] for r in from_files.rows][0] == "micrograph-000.tif"
    assert len(from_files.rows) == n_found


def test_classify_micrographs_given_boxes_and_empty_micrograph():
    """Check given boxes with confidences, and a constant micrograph warns, no rows."""
    scores = [np.linspace(0.9, 0.5, len(b)) for b in DATA.boxes]
    result = classify_micrographs(_model(), DATA.images, boxes=DATA.boxes, box_scores=scores,
                                  cutout=CUTOUT, names=["a", "b", "c"])
    assert len(result.rows) == sum(len(b) for b in DATA.boxes)
    assert result.rows[0]["score"] == pytest.approx(0.9)
    finder = ParticleFinder().fit(DATA.images, DATA.boxes)
    blank = np.zeros_like(DATA.images[0])
    with pytest.warns(UserWarning, match="No particles found in the micrograph blank"):
        result = classify_micrographs(_model(), [blank], finder=finder, names=["blank"])
    assert result.rows == [] and result.micrographs[0].boxes.shape == (0, 4)
    with pytest.raises(ValueError, match="box_scores goes with boxes"):
        classify_micrographs(_model(), DATA.images, box_scores=scores)


def test_draw_overlay_writes_png_with_legend(tmp_path):
    """Check the overlay PNG is written, coloured by class with counts in the legend."""
    pytest.importorskip("matplotlib")
    labels = np.array(["full", "empty"] * 10)[: len(DATA.boxes[0])]
    path = tmp_path / "overlay.png"
    figure = draw_overlay(DATA.images[0], DATA.boxes[0], labels, classes=DATA.target_names,
                          path=path, title="m0")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    texts = [t.get_text() for t in figure.legends[0].get_texts()]
    assert texts[0] == f"full ({int((labels == 'full').sum())})"
    assert len(figure.axes[0].patches) == len(DATA.boxes[0])
    with pytest.raises(ValueError, match="labels for"):
        draw_overlay(DATA.images[0], DATA.boxes[0], labels[:1])


def test_classify_micrographs_folder_skips_hidden_and_warns_once(tmp_path):
    """Check that a folder's hidden files are skipped and other entries named in one warning."""
    folder = write_yolo(tmp_path / "yolo", DATA.images[:2], DATA.labels[:2], DATA.target_names,
                        image_format="tif")
    images = folder / "images"
    (images / ".DS_Store").write_bytes(b"\0")
    (images / "notes.csv").write_text("a,b\n")
    (images / "old").mkdir()
    with pytest.warns(UserWarning, match=r"classify_micrographs left out 2 file\(s\).*notes.csv"):
        result = classify_micrographs(_model(), images, boxes=DATA.boxes[:2], cutout=CUTOUT)
    assert [m.name for m in result.micrographs] == ["micrograph-000.tif", "micrograph-001.tif"]


def test_classify_micrographs_detector_yolo_labels(tmp_path):
    """Check that YOLO labels with confidences replace the finder; no file means no boxes."""
    labels = [np.column_stack([rows, np.linspace(0.9, 0.2, len(rows))]) for rows in DATA.labels]
    folder = write_yolo(tmp_path / "yolo", DATA.images, DATA.labels, DATA.target_names,
                        image_format="tif")
    for path, rows in zip(sorted((folder / "labels").glob("*.txt")), labels):
        np.savetxt(path, rows, fmt="%.6f")
    (folder / "labels" / "micrograph-002.txt").unlink()
    result = classify_micrographs(_model(), folder / "images", labels=folder / "labels",
                                  min_confidence=0.5, cutout=CUTOUT)
    expected = [int((rows[:, 5] >= 0.5).sum()) for rows in labels[:2]] + [0]
    assert [len(m.boxes) for m in result.micrographs] == expected
    assert min(r["score"] for r in result.rows) >= 0.5
    np.testing.assert_array_equal(result.micrographs[0].boxes,
                                  DATA.boxes[0][labels[0][:, 5] >= 0.5])
    with pytest.raises(ValueError, match="not both"):
        classify_micrographs(_model(), DATA.images, boxes=DATA.boxes, labels=DATA.labels)
