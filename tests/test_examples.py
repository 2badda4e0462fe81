"""Each example script runs at smoke size and writes its figures."""

import runpy
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = {
    "plot_augmentation_ablation.py": ["fig.png"],
    "plot_architectures.py": ["fig_lamellarity.png", "fig_encapsulation.png"],
    "plot_input_modes.py": ["fig_lamellarity.png", "fig_encapsulation.png"],
    "plot_cnn_vs_svm.py": ["fig_lamellarity.png", "fig_encapsulation_confusion.png"],
    "plot_hybrid.py": ["fig.png"],
}


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_example_runs_at_smoke_size(script, tmp_path, monkeypatch, capsys):
    """Check that the example prints its table and saves its plots."""
    monkeypatch.setattr(sys, "argv", [script, "--smoke", "--plot", str(tmp_path / "fig.png")])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert "cross-validation on 36 samples" in capsys.readouterr().out
    for name in SCRIPTS[script]:
        assert (tmp_path / name).stat().st_size > 0


def test_inspection_example_runs_at_smoke_size(tmp_path, monkeypatch, capsys):
    """Check that the inspection example reports held-out scores and saves its plots."""
    script = "plot_inspection.py"
    monkeypatch.setattr(sys, "argv", [script, "--smoke", "--plot", str(tmp_path / "fig.png")])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert "LipNet-4 trained on 27 particles, tested on 9" in capsys.readouterr().out
    for name in ["fig_kernels.png", "fig_feature_maps.png", "fig_attribution.png"]:
        assert (tmp_path / name).stat().st_size > 0


def test_detection_example_runs_at_smoke_size(tmp_path, monkeypatch, capsys):
    """Check that the detection example reports detection F1 and writes an overlay."""
    script = "plot_detection.py"
    monkeypatch.setattr(sys, "argv", [script, "--smoke", "--plot", str(tmp_path / "fig.png")])
    monkeypatch.syspath_prepend(str(EXAMPLES))
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    assert "detection F1" in out and "true boxes" in out
    assert (tmp_path / "fig_overlay.png").stat().st_size > 0
