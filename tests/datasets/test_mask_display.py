import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")

from sklipo import ParticleSet  # noqa: E402
from sklipo.cli import main  # noqa: E402
from sklipo.datasets import (  # noqa: E402
    MaskGridDisplay,
    load_annotated_micrographs,
    make_micrographs,
    write_yolo,
)


def test_mask_grid_display_flags_fallbacks():
    # Check the grid layout, yellow outlines, and magenta outline + frame on fallbacks.
    images = [np.random.RandomState(i).rand(30 + i, 40) for i in range(5)]
    masks = [np.zeros(image.shape, bool) for image in images]
    for mask in masks:
        mask[8:20, 10:30] = True
    X = ParticleSet(images, masks, ids=[f"p{i}" for i in range(5)])
    display = MaskGridDisplay.from_particles(X, fallback=[False, True, False, False, False],
                                             tile_size=32, n_cols=3)
    assert display.mosaic_.shape == (2 * 34 - 2, 3 * 34 - 2, 3)
    first = display.mosaic_[:32, :32]  # the fallback comes first
    assert np.allclose(first[0, 5], (1.0, 0.0, 1.0))
    yellow = np.all(np.isclose(display.mosaic_, (1.0, 1.0, 0.0)), axis=-1)
    assert yellow.sum() > 4 * 20
    assert "1 mask fallback(s)" in display.ax_.get_title()


def test_mask_grid_display_multichannel_and_bad_input():
    images = [np.random.RandomState(0).rand(20, 20, 2)]
    display = MaskGridDisplay(images, [np.ones((20, 20), bool)]).plot(tile_size=16)
    assert display.mosaic_[..., 2].max() <= 1.0
    with pytest.raises(ValueError, match="one mask per image"):
        MaskGridDisplay(images, []).plot()
    with pytest.raises(ValueError, match="one flag per particle"):
        MaskGridDisplay.from_particles(ParticleSet(images, channel_axis=-1), fallback=[True] * 2)


def test_cli_masks_on_yolo_folder(tmp_path, capsys):
    # Check the 'sklipo masks' verb on a YOLO export: summary and PNG.
    data = make_micrographs("fluorescence", 2, shape=(128, 128), n_particles=3, random_state=0)
    write_yolo(tmp_path / "yolo", data.images, data.labels, data.target_names,
               image_format="jpg")
    assert main(["masks", str(tmp_path / "yolo"), "--out", str(tmp_path / "grid.png")]) == 0
    out = capsys.readouterr().out
    assert "6 particles from 2 micrograph(s); 0 mask fallback(s)" in out
    methods = re.search(r"masks by method: (.*)$", out.splitlines()[0]).group(1)
    counts = dict(item.split() for item in methods.split(", "))
    assert set(counts) <= {"threshold", "rays"} and sum(map(int, counts.values())) == 6
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert main(["masks", str(tmp_path / "yolo" / "images"), "--out",
                 str(tmp_path / "g2.png")]) == 1


def test_mask_grid_display_from_bunch():
    data = make_micrographs("tem", 1, shape=(160, 160), n_particles=3, random_state=0)
    bunch = load_annotated_micrographs(data.images, data.labels, data.target_names,
                                       surrounding=5)
    display = MaskGridDisplay.from_bunch(bunch, max_particles=2)
    assert len(display.images) == 2
