"""Fault injection: a failure at each write step leaves the previous files as they were.

Every writer (model and card, particle folder and store, comparison report,
the CLI's CSV) is run once to count its steps, then run again failing at
each step in turn, as a full disk would. After each failure the previous
files must be byte-identical, still load, and no temporary file may be left.
"""

import errno
import functools
import os

import pytest
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from sklipo.compare import compare
from sklipo.datasets import load_particles, make_liposomes, save_particles
from sklipo.deployment import load, save
from sklipo.preprocessing import Flatten, Resize

RND_SEED = 0


class DiskFull(OSError):
    """What a write that runs out of space raises."""

    def __init__(self):
        super().__init__(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _snapshot(folder):
    """Every file under `folder` (relative path -> bytes)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class _FailAt:
    """Wrap a function so that its `n`-th call (0-based) raises DiskFull."""

    def __init__(self, function, n):
        self.function, self.n, self.calls = function, n, 0

    def __get__(self, instance, owner=None):
        # patched onto a class, it binds like the method it replaces
        return self if instance is None else functools.partial(self, instance)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls - 1 == self.n:
            raise DiskFull()
        return self.function(*args, **kwargs)


def _count_calls(monkeypatch, owner, name, run):
    counter = _FailAt(getattr(owner, name), -1)
    with monkeypatch.context() as patch:
        patch.setattr(owner, name, counter)
        run()
    return counter.calls


def _steps(monkeypatch, run, points):
    """(owner, name, n) for every call of every injection point during `run`."""
    return [
        (owner, name, n)
        for owner, name in points
        for n in range(_count_calls(monkeypatch, owner, name, run))
    ]


@pytest.fixture(scope="module")
def liposomes():
    return make_liposomes("lamellarity", n_samples=12, weights=[1, 1, 1], random_state=RND_SEED)


def _model(strategy):
    steps = [("resize", Resize(8)), ("flatten", Flatten())]
    return Pipeline([*steps, ("clf", DummyClassifier(strategy=strategy))])


def _write_points():
    from sklipo.utils import _files

    # os.replace is every move into place; fsync stands for a failing flush
    return [(_files.os, "replace"), (_files.os, "fsync")]


def test_save_model_failure_at_each_step_keeps_the_old_pair(liposomes, tmp_path, monkeypatch):
    """Check that model and card are replaced together or not at all."""
    import joblib

    X, y = liposomes.data, liposomes.target
    path = tmp_path / "model.joblib"
    save(_model("most_frequent").fit(X, y), path)
    before = _snapshot(tmp_path)
    new = _model("stratified").fit(X, y)
    points = [*_write_points(), (joblib, "dump")]
    # count the steps of an overwrite, beside the files under test
    save(new, tmp_path / "count.joblib")
    steps = _steps(
        monkeypatch, lambda: save(new, tmp_path / "count.joblib", overwrite=True), points
    )
    for extra in ("count.joblib", "count.joblib.card.json"):
        (tmp_path / extra).unlink()
    assert len(steps) >= 5
    for owner, name, n in steps:
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, _FailAt(getattr(owner, name), n))
            with pytest.raises(DiskFull):
                save(new, path, overwrite=True)
        assert _snapshot(tmp_path) == before, (name, n)
        assert load(path).named_steps["clf"].strategy == "most_frequent"
    save(new, path, overwrite=True)
    assert load(path).named_steps["clf"].strategy == "stratified"


def test_save_particles_failure_at_each_step_keeps_the_old_set(liposomes, tmp_path, monkeypatch):
    """Check that an overwriting save_particles never leaves a partial set."""
    from sklipo.datasets import _save_particles

    X, y = liposomes.data, liposomes.target
    folder = tmp_path / "set"
    save_particles(X[:6], y[:6], folder)
    (folder / "notes.txt").write_text("mine")  # not part of the save: kept
    before = _snapshot(folder)
    points = [*_write_points(), (_save_particles, "write_image"), (_save_particles, "write_mask")]
    steps = _steps(
        monkeypatch, lambda: save_particles(X, y, tmp_path / "count", overwrite=True), points
    )
    assert len(steps) >= 10
    for owner, name, n in steps:
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, _FailAt(getattr(owner, name), n))
            with pytest.raises(DiskFull):
                save_particles(X, y, folder, overwrite=True)
        assert _snapshot(folder) == before, (name, n)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["count", "set"]
        assert len(load_particles(folder).data) == 6
    save_particles(X, y, folder, overwrite=True)
    assert len(load_particles(folder).data) == len(X)
    assert (folder / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("fail", ["os.replace", "savefig", "to_html"])
def test_comparison_save_failure_keeps_the_old_report(liposomes, tmp_path, monkeypatch, fail):
    """Check that a report is replaced whole: never a new results.json beside an old report."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from sklipo.compare import _report
    from sklipo.utils import _files

    X, y = liposomes.data, liposomes.target
    models = {"dummy": _model("most_frequent")}
    old = compare(models, X, y, cv=2, random_state=RND_SEED)
    new = compare(models, X, y, cv=3, random_state=RND_SEED)
    folder = old.save(tmp_path / "report")
    before = _snapshot(folder)
    owner, name = {
        "os.replace": (_files.os, "replace"),
        "savefig": (Figure, "savefig"),
        "to_html": (_report, "to_html"),
    }[fail]
    n_calls = _count_calls(
        monkeypatch, owner, name, lambda: new.save(tmp_path / "count", overwrite=True)
    )
    assert n_calls >= 1
    for n in range(n_calls):
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, _FailAt(getattr(owner, name), n))
            with pytest.raises(DiskFull):
                new.save(folder, overwrite=True)
        assert _snapshot(folder) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == ["count", "report"]


def test_cli_csv_failure_keeps_the_old_file(tmp_path):
    """Check that the CLI's CSV is written whole or not at all."""
    from sklipo.cli._common import _write_csv_file

    out = tmp_path / "predictions.csv"
    out.write_text("id,label\nold,1\n")

    def rows():
        yield ["a", 1]
        raise DiskFull()

    with pytest.raises(DiskFull):
        _write_csv_file(out, ["id", "label"], rows())
    assert out.read_text() == "id,label\nold,1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]
    _write_csv_file(out, ["id", "label"], [["b", 2]])
    assert out.read_text().splitlines() == ["id,label", "b,2"]


def test_zarr_store_overwrite_failure_keeps_the_old_store(liposomes, tmp_path, monkeypatch):
    """Check that replacing a particle store fails without touching the old one."""
    pytest.importorskip("zarr")
    from sklipo.datasets import _store

    X, y = liposomes.data, liposomes.target
    store = save_particles(X[:4], y[:4], tmp_path / "set.zarr", format="zarr")
    before = _snapshot(store)
    with monkeypatch.context() as patch:
        patch.setattr(_store.ParticleStoreWriter, "_write_attributes", _FailAt(lambda self: 0, 0))
        with pytest.raises(DiskFull):
            save_particles(X, y, store, format="zarr", overwrite=True)
    assert _snapshot(store) == before
    assert [p.name for p in tmp_path.iterdir()] == ["set.zarr"]
    assert len(load_particles(store).data) == 4


def test_export_onnx_failure_at_each_step_keeps_the_old_file(tmp_path, monkeypatch):
    """Check that a failing export_onnx leaves the previous ONNX file byte-identical."""
    np = pytest.importorskip("numpy")
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklipo.classifier import LipNetClassifier
    from sklipo.deployment import export_onnx

    rng = np.random.RandomState(RND_SEED)
    X = rng.rand(12, 1, 16, 16).astype(np.float32)
    y = np.repeat(["a", "b"], 6)

    def net(seed):
        return LipNetClassifier("lipnet1", max_epochs=1, random_state=seed).fit(X, y)

    old, new = net(0), net(1)
    path = tmp_path / "model.onnx"
    export_onnx(old, path)
    before = _snapshot(tmp_path)
    (expected,) = onnxruntime.InferenceSession(str(path)).run(["probabilities"], {"image": X})
    # onnx.save writes the temporary file; fsync flushes it; os.replace moves it in
    points = [*_write_points(), (onnx, "save")]
    steps = _steps(monkeypatch, lambda: export_onnx(new, tmp_path / "count.onnx"), points)
    (tmp_path / "count.onnx").unlink()
    assert len(steps) >= 3
    for owner, name, n in steps:
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, _FailAt(getattr(owner, name), n))
            with pytest.raises(DiskFull, match="model.onnx"):
                export_onnx(new, path)
        assert _snapshot(tmp_path) == before, (name, n)
        onnx.checker.check_model(str(path))
        (proba,) = onnxruntime.InferenceSession(str(path)).run(["probabilities"], {"image": X})
        np.testing.assert_array_equal(proba, expected)
    export_onnx(new, path)
    assert path.read_bytes() != before["model.onnx"]


@pytest.mark.parametrize("writer", ["ParticleStoreWriter", "convert_to_store", "save_particles"])
def test_store_overwrite_failure_at_each_step_keeps_the_old_store(
    liposomes, tmp_path, monkeypatch, writer
):
    """Check that an overwriting store writer never deletes the old store before the new is whole."""
    pytest.importorskip("zarr")
    from sklipo.datasets import ParticleStoreWriter, convert_to_store

    X, y = liposomes.data, liposomes.target
    store = tmp_path / "set.zarr"
    save_particles(X[:6], y[:6], store, format="zarr")
    before = _snapshot(store)
    source = save_particles(X, y, tmp_path / "source")

    def write(path):
        if writer == "ParticleStoreWriter":
            with ParticleStoreWriter(path, overwrite=True) as w:
                w.append(X[:8], y[:8]).append(X[8:], y[8:])
        elif writer == "convert_to_store":
            convert_to_store(source, path, chunk_size=5, overwrite=True)
        else:
            save_particles(X, y, path, format="zarr", overwrite=True)

    points = [*_write_points(), (ParticleStoreWriter, "_extend")]
    count = tmp_path / "count.zarr"
    save_particles(X[:6], y[:6], count, format="zarr")
    steps = _steps(monkeypatch, lambda: write(count), points)
    assert len(steps) >= 10
    assert any(name == "replace" for _, name, _ in steps)
    for owner, name, n in steps:
        with monkeypatch.context() as patch:
            patch.setattr(owner, name, _FailAt(getattr(owner, name), n))
            with pytest.raises(DiskFull):
                write(store)
        assert _snapshot(store) == before, (name, n)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["count.zarr", "set.zarr", "source"]
        assert len(load_particles(store).data) == 6
    write(store)
    assert len(load_particles(store).data) == len(X)


def test_store_writer_failed_replacement_refuses_more_appends(liposomes, tmp_path, monkeypatch):
    """Check that a replacing writer that failed keeps the old store and writes nothing more."""
    pytest.importorskip("zarr")
    from sklipo.datasets import ParticleStoreWriter

    X, y = liposomes.data, liposomes.target
    store = save_particles(X[:6], y[:6], tmp_path / "set.zarr", format="zarr")
    before = _snapshot(store)
    writer = ParticleStoreWriter(store, overwrite=True)
    with monkeypatch.context() as patch:
        patch.setattr(ParticleStoreWriter, "_extend", _FailAt(ParticleStoreWriter._extend, 3))
        with pytest.raises(DiskFull):
            writer.append(X, y)
    with pytest.raises(RuntimeError, match="failed earlier"):
        writer.append(X, y)
    writer.close()
    assert _snapshot(store) == before
    assert [p.name for p in tmp_path.iterdir()] == ["set.zarr"]
