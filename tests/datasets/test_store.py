"""Particle stores: writing, lazy reading, conversion, bad stores, streamed training."""

import json
import pickle

import numpy as np
import pytest
from sklearn.model_selection import KFold
from sklearn.utils import _safe_indexing

pytest.importorskip("zarr")

from sklipo import ParticleSet  # noqa: E402
from sklipo._stored_particles import (  # noqa: E402
    BLOCK_SIZE,
    FORMAT_NAME,
    StoreFormatError,
    _StoreReader,
    block_order,
    open_store,
)
from sklipo.datasets import (  # noqa: E402
    ParticleStoreWriter,
    convert_to_store,
    load_particles,
    make_liposomes,
    save_particles,
)
from sklipo.features import ParticleFeatures  # noqa: E402

RNG = np.random.RandomState(0)
IMAGES = [
    RNG.randint(0, 255, (12, 15)).astype(np.uint8),
    RNG.randint(0, 60000, (20, 9)).astype(np.uint16),
    RNG.rand(7, 30).astype(np.float32),
]
MASKS = [image > np.median(image) for image in IMAGES]


def _liposomes(n=60, seed=0):
    return make_liposomes(n_samples=n, surrounding=4, return_X_y=True, random_state=seed)


def test_store_round_trip_keeps_everything(tmp_path):
    # Check that a store gives back images (dtype and values), masks, pixel sizes, ids and labels.
    X = ParticleSet(IMAGES, MASKS, pixel_size=[0.5, np.nan, 2.0], ids=["a", "ü/2", "c c"])
    path = save_particles(X, ["x", "y", "x"], tmp_path / "p.zarr", format="zarr")
    data = load_particles(path)
    assert not data.data.in_memory
    assert data.target.tolist() == [0, 1, 0] and data.target_names.tolist() == ["x", "y"]
    assert data.data.ids.tolist() == ["a", "ü/2", "c c"]
    np.testing.assert_array_equal(data.data.pixel_size, X.pixel_size)
    for stored, original in zip(data.data, X):
        assert stored.image.dtype == original.image.dtype
        np.testing.assert_array_equal(stored.image, original.image)
        np.testing.assert_array_equal(stored.mask, original.mask)


def test_store_keeps_channels(tmp_path):
    # Check that multichannel (H, W, C) particles come back channel-last.
    images = [RNG.rand(10, 12, 2), RNG.rand(14, 8, 2)]
    X = ParticleSet(images, channel_axis=-1)
    Z = load_particles(save_particles(X, [0, 1], tmp_path / "c.zarr", format="zarr")).data
    assert Z.n_channels == 2
    np.testing.assert_array_equal(Z.images[1], images[1])


def test_stored_set_indexing_reads_no_pixels(tmp_path, monkeypatch):
    # Check that slicing, fancy indexing, splitting and pickling do not read pixels.
    X, y = _liposomes()
    Z, yz = load_particles(save_particles(X, y, tmp_path / "s.zarr", format="zarr"), return_X_y=True)
    reads = []
    monkeypatch.setattr(_StoreReader, "read", lambda self, *a: reads.append(a))
    for train, _ in KFold(3, shuffle=True, random_state=0).split(np.zeros(len(yz))):
        part = _safe_indexing(Z, train)
        assert not part.in_memory and len(part) == len(train)
        np.testing.assert_array_equal(part.sizes, X.sizes[train])
    assert repr(Z[::2][[0, 1]]).startswith("ParticleSet(2 particles")
    assert len(pickle.dumps(Z[5:10])) < 2000
    assert reads == []


def test_stored_set_reads_like_memory(tmp_path):
    # Check that reading through a pickled subset gives the same particles.
    X, y = _liposomes()
    Z = load_particles(save_particles(X, y, tmp_path / "s.zarr", format="zarr")).data
    sub = pickle.loads(pickle.dumps(Z[[7, 3, 50]]))
    for got, want in zip(sub, X[[7, 3, 50]]):
        np.testing.assert_array_equal(got.image, want.image)
        assert got.id == want.id
    loaded = Z[10:20].load()
    assert loaded.in_memory and np.array_equal(loaded.images[3], X.images[13])
    chunks = list(Z.iter_chunks(25))
    assert [len(c) for c in chunks] == [25, 25, 10] and all(c.in_memory for c in chunks)
    joined = ParticleSet.concatenate([Z[:5], Z[40:45]])
    assert not joined.in_memory and joined.ids.tolist() == X.ids[[*range(5), *range(40, 45)]].tolist()


def test_reader_keeps_blocks_of_images_and_masks_over_its_byte_cap(tmp_path, monkeypatch):
    # Check that reading images and masks in turn decodes each block once,
    # even when one block is over the cache's byte cap.
    from sklipo import _stored_particles

    X, y = _liposomes(n=10)
    path = save_particles(X, y, tmp_path / "s.zarr", format="zarr")
    monkeypatch.setattr(_stored_particles, "_CACHE_BYTES", 1)
    reader = open_store(path)
    decoded = []

    class Counted:
        """A stored array that records each read of a block."""

        def __init__(self, name):
            self.name, self.array = name, getattr(reader, name)

        def __getitem__(self, key):
            decoded.append(self.name)
            return self.array[key]

    for name in ("_pixels", "_masks"):
        monkeypatch.setattr(reader, name, Counted(name))
    Z = load_particles(path).data
    for i in range(len(Z)):  # one particle at a time: images, masks, images, ...
        np.testing.assert_array_equal(Z[i].mask, X[i].mask)
        np.testing.assert_array_equal(Z[i].image, X[i].image)
    assert sorted(decoded) == ["_masks", "_pixels"]


def test_writer_appends_pieces(tmp_path):
    # Check that pieces appended one by one make one store with every class.
    path = tmp_path / "w.zarr"
    with ParticleStoreWriter(path) as writer:
        for seed in range(3):
            X, y = _liposomes(20, seed)
            writer.append(X, np.array(["u", "m", "x"])[y])
    data = load_particles(path)
    assert len(data.data) == 60 and writer.n_particles_ == 60
    assert data.target_names.tolist() == ["m", "u", "x"]
    X, y = _liposomes(20, 2)
    np.testing.assert_array_equal(data.data.images[45], X.images[5])
    assert data.target_names[data.target[45]] == ["u", "m", "x"][y[5]]


def test_writer_refuses_existing_path_and_mixed_labelling(tmp_path):
    # Check that an existing path needs overwrite, and labels come with every piece or none.
    X, y = _liposomes(10)
    path = save_particles(X, y, tmp_path / "e.zarr", format="zarr")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_particles(X, y, path, format="zarr")
    save_particles(X[:4], y[:4], path, format="zarr", overwrite=True)
    assert len(load_particles(path).data) == 4
    writer = ParticleStoreWriter(tmp_path / "m.zarr").append(X, y)
    with pytest.raises(ValueError, match="with every piece"):
        writer.append(X)


def test_store_written_by_newer_version_is_refused(tmp_path):
    # Check that a store of a higher format version gets an error naming both versions.
    X, y = _liposomes(10)
    path = save_particles(X, y, tmp_path / "n.zarr", format="zarr")
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"][FORMAT_NAME]["format_version"] = 99
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(StoreFormatError, match="format version 99, written by a newer sklipo"):
        load_particles(path)


def test_store_with_arrays_of_different_lengths_is_refused(tmp_path):
    # Check that a store whose arrays disagree in length is named inconsistent.
    import zarr

    X, y = _liposomes(10)
    path = save_particles(X, y, tmp_path / "l.zarr", format="zarr")
    zarr.open_group(path, mode="r+")["pixel_size"].resize((7,))
    with pytest.raises(StoreFormatError, match=r"inconsistent.*'pixel_size': 7"):
        load_particles(path)


def test_convert_to_store_matches_folder(tmp_path):
    # Check that converting a folder in small chunks gives what loading the folder gives.
    X, y = _liposomes(25)
    folder = save_particles(X, y, tmp_path / "folder", target_names=["u", "m", "x"])
    store = convert_to_store(folder, tmp_path / "c.zarr", chunk_size=7)
    stored, memory = load_particles(store), load_particles(folder)
    assert stored.data.ids.tolist() == memory.data.ids.tolist()
    np.testing.assert_array_equal(stored.target, memory.target)
    np.testing.assert_array_equal(stored.data.images[24], memory.data.images[24])


def test_cli_convert(tmp_path, capsys):
    # Check that `sklipo convert` writes a store load_particles opens lazily.
    from sklipo.cli import main

    X, y = _liposomes(12)
    folder = save_particles(X, y, tmp_path / "folder")
    assert main(["convert", str(folder), str(tmp_path / "cli.zarr")]) == 0
    assert "Wrote 12 particles" in capsys.readouterr().out
    assert not load_particles(tmp_path / "cli.zarr").data.in_memory


def test_particle_features_on_stored_set(tmp_path):
    # Check that ParticleFeatures gives the same matrix from a store as from memory.
    X, y = _liposomes(40)
    Z = load_particles(save_particles(X, y, tmp_path / "f.zarr", format="zarr")).data
    features = ["area", "circularity", "radial_profile", "histogram"]
    np.testing.assert_allclose(
        ParticleFeatures(features).fit(Z).transform(Z),
        ParticleFeatures(features).fit(X).transform(X),
    )


def test_block_order_groups_draws_by_block():
    # Check that the epoch order is a permutation visiting few blocks at a time.
    positions = np.random.default_rng(0).permutation(20 * BLOCK_SIZE)
    order = block_order(positions, np.random.default_rng(1), window=4)
    assert sorted(order.tolist()) == list(range(len(positions)))
    blocks = positions[order] // BLOCK_SIZE
    windows = [set(blocks[i : i + 4 * BLOCK_SIZE].tolist()) for i in range(0, len(blocks), 4 * BLOCK_SIZE)]
    assert all(len(w) == 4 for w in windows)


def test_lipnet_streams_a_stored_set(tmp_path, monkeypatch):
    # Check that a LipNet trains on a stored set batch by batch with the in-memory scaling.
    from sklearn.pipeline import make_pipeline

    import sklipo.classifier._lazy_data as lazy
    from sklipo.classifier import LipNetClassifier
    from sklipo.preprocessing import CropParticle, Resize

    monkeypatch.setattr(lazy, "STREAM_MIN", 10)
    X, y = _liposomes(80)
    Z, yz = load_particles(save_particles(X, y, tmp_path / "t.zarr", format="zarr"), return_X_y=True)

    def make():
        return LipNetClassifier(
            image_transformer=make_pipeline(CropParticle(), Resize(28)),
            max_epochs=1,
            batch_size=16,
            random_state=0,
        )

    stored, memory = make().fit(Z, yz), make().fit(X, y)
    np.testing.assert_allclose(stored.mean_, memory.mean_, rtol=1e-6)
    np.testing.assert_allclose(stored.scale_, memory.scale_, rtol=1e-6)
    data = stored.network_input(Z)
    assert isinstance(data.X, lazy.StreamedImages)
    proba = stored.predict_proba(Z)
    np.testing.assert_allclose(proba, stored.predict_proba(X), atol=1e-5)


def test_scaling_sample_takes_whole_blocks(tmp_path):
    # Check that the scaling sample is whole stored blocks, about the size asked, seeded.
    from sklipo.classifier._lazy_data import scaling_sample

    X, y = _liposomes(5)
    stored = load_particles(save_particles(X, y, tmp_path / "s.zarr", format="zarr")).data
    np.testing.assert_array_equal(scaling_sample(stored, 10), np.arange(5))
    # a fold-like subset of a 6-block store (positions only: nothing is read)
    from sklipo._stored_particles import LazyArrays

    positions = np.flatnonzero(np.random.default_rng(0).random(6 * BLOCK_SIZE) < 0.8)
    reader = stored.images.reader
    fold = ParticleSet._from_checked(
        LazyArrays(reader, "images", positions),
        LazyArrays(reader, "masks", positions),
        np.full(len(positions), np.nan),
        positions.astype(str),
        1,
    )
    sample = scaling_sample(fold, 2 * BLOCK_SIZE)
    assert 2 * BLOCK_SIZE <= len(sample) < 4 * BLOCK_SIZE
    assert np.all(np.diff(sample) > 0)
    blocks = np.unique(positions[sample] // BLOCK_SIZE)
    chosen = np.isin(positions // BLOCK_SIZE, blocks)
    np.testing.assert_array_equal(sample, np.flatnonzero(chosen))
    np.testing.assert_array_equal(sample, scaling_sample(fold, 2 * BLOCK_SIZE))


def test_streamed_fit_uses_the_scaling_sample(tmp_path, monkeypatch):
    # Check that a streamed fit fits its transformer and statistics on the sample only.
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.pipeline import make_pipeline

    import sklipo.classifier._lazy_data as lazy
    from sklipo.classifier import LipNetClassifier
    from sklipo.preprocessing import CropParticle, Resize

    fitted_on = []

    class Spy(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            fitted_on.append((len(X), None if y is None else len(y)))
            return self

        def transform(self, X):
            return X

    monkeypatch.setattr(lazy, "STREAM_MIN", 10)
    monkeypatch.setattr(lazy, "SCALING_SAMPLE", 30)
    monkeypatch.setattr(lazy, "BLOCK_SIZE", 16)
    X, y = _liposomes(80)
    Z, yz = load_particles(save_particles(X, y, tmp_path / "t.zarr", format="zarr"), return_X_y=True)
    clf = LipNetClassifier(
        image_transformer=make_pipeline(Spy(), CropParticle(), Resize(28)),
        max_epochs=1,
        batch_size=16,
        random_state=0,
    ).fit(Z, yz)
    sample = lazy.scaling_sample(Z, 30)
    assert fitted_on == [(len(sample), len(sample))] and 30 <= len(sample) < 80
    # a transformer that learns nothing is fitted on one chunk; one that learns, on the sample
    assert lazy._learns_nothing(make_pipeline(CropParticle(), "passthrough", Resize(28)))
    assert not lazy._learns_nothing(make_pipeline(Spy(), CropParticle()))
    memory = LipNetClassifier(
        image_transformer=make_pipeline(CropParticle(), Resize(28)), max_epochs=1
    )
    memory._fit_images(X[sample], y[sample])
    np.testing.assert_allclose(clf.mean_, memory.mean_, rtol=1e-6)
    np.testing.assert_allclose(clf.scale_, memory.scale_, rtol=1e-6)
