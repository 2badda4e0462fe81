"""Particles read from a zarr store on demand: the lazy side of ParticleSet.

Why this shape
--------------
A particle store (written by :func:`sklipo.datasets.save_particles` with
``format="zarr"``) keeps the pixels of all particles end to end in one flat,
chunked and compressed array, because particles differ in size and zarr's
arrays are rectangular. The small per-particle fields (shape, dtype, pixel
size, id, label) are read into memory when the store is opened; pixels and
masks are read only when asked for.

A :class:`LazyArrays` stands where an in-memory ParticleSet keeps its object
array of images (or masks): indexing it with a slice, an array of positions or
booleans gives another LazyArrays, so scikit-learn's splitters and
``_safe_indexing`` cut a stored set into folds without reading a pixel.
Reading one particle, iterating or indexing with an integer reads pixels.

Reads go through blocks of consecutive particles (:data:`BLOCK_SIZE`) that a
small cache keeps decoded, so sequential passes decode every chunk once and a
training epoch that visits the blocks in shuffled order
(:func:`block_order`) reads each block about once.

A LazyArrays pickles as the store's path and its positions, never its pixels:
a joblib or Dask worker opens the store itself (once per process) and reads
only the particles its task uses. The store must therefore be on a file system
every worker sees under the same path.
"""

# License: BSD 3 clause

import json
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from sklipo.utils import import_optional

__all__ = [
    "BLOCK_SIZE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "LazyArrays",
    "StoreFormatError",
    "block_order",
    "import_zarr",
    "is_particle_store",
    "open_store",
]

#: The store's name in its attributes, and the version this sklipo writes.
FORMAT_NAME = "sklipo-particles"
FORMAT_VERSION = 1
#: Particles per decoded block: reads, the cache and epoch shuffling work in blocks.
BLOCK_SIZE = 1024
# Decoded blocks kept per open store (per process); bounds the reader's memory,
# except that the last _MIN_CACHED_BLOCKS blocks are kept whatever their size:
# an images block and its masks block, read in turn, must not evict each other.
_CACHE_BYTES = 192 * 2**20
_MIN_CACHED_BLOCKS = 4
# Positions read per step when iterating over a LazyArrays.
_ITER_STEP = 512


class StoreFormatError(ValueError):
    """A particle store that this version of sklipo cannot read.

    Raised for a store written by a newer sklipo (a higher format version),
    one that is not a particle store, and one whose arrays disagree in length.
    """


def import_zarr():
    """Import zarr, or say which extra installs it."""
    return import_optional("zarr", extra="scale", purpose="A particle store")


def is_particle_store(path):
    """Whether `path` is a folder holding a zarr group written as a particle store."""
    meta = Path(path) / "zarr.json"
    if not meta.is_file():
        return False
    try:
        attributes = json.loads(meta.read_text(encoding="utf-8")).get("attributes", {})
    except (OSError, ValueError):
        return False
    return FORMAT_NAME in attributes


# One reader per store and process: the pickled LazyArrays of many tasks share it.
_READERS = {}
_READERS_LOCK = threading.Lock()


def open_store(path):
    """Return the (cached) reader of the particle store at `path`."""
    key = str(Path(path).resolve())
    with _READERS_LOCK:
        reader = _READERS.get(key)
        if reader is None:
            reader = _READERS[key] = _StoreReader(key)
    return reader


def forget_store(path):
    """Drop the cached reader of `path` (the store was rewritten)."""
    with _READERS_LOCK:
        _READERS.pop(str(Path(path).resolve()), None)


class _StoreReader:
    """The metadata of one store in memory, its pixels and masks on demand."""

    def __init__(self, path):
        zarr = import_zarr()
        self.path = path
        try:
            group = zarr.open_group(path, mode="r")
        except (FileNotFoundError, ValueError) as exc:
            raise StoreFormatError(f"'{path}' is not a zarr particle store: {exc}") from exc
        info = dict(group.attrs).get(FORMAT_NAME)
        if info is None:
            raise StoreFormatError(
                f"'{path}' is a zarr group but not a sklipo particle store (its "
                f"attributes have no {FORMAT_NAME!r} entry)."
            )
        version = int(info.get("format_version", -1))
        if version > FORMAT_VERSION:
            raise StoreFormatError(
                f"The particle store '{path}' has format version {version}, written by a "
                f"newer sklipo; this sklipo reads versions up to {FORMAT_VERSION}. "
                "Upgrade sklipo to read it."
            )
        self.n_channels = int(info["n_channels"])
        self.dtypes = [np.dtype(name) for name in info["dtypes"]]
        self.classes = np.asarray(info.get("classes", []), dtype=str)
        self._pixels = group["pixels"]
        self._masks = group["masks"]
        self.shapes = np.asarray(group["shapes"][:], dtype=np.int64).reshape(-1, 3)
        self.dtype_codes = np.asarray(group["dtype_codes"][:])
        self.pixel_size = np.asarray(group["pixel_size"][:], dtype=float)
        self.labels = np.asarray(group["labels"][:], dtype=np.int64)
        self.ids = _decode_ids(group["id_bytes"][:], group["id_lengths"][:])
        self._check_lengths(int(info["n_particles"]))
        areas = self.shapes[:, 0] * self.shapes[:, 1]
        self.mask_offsets = np.concatenate([[0], np.cumsum(areas)])
        self.pixel_offsets = np.concatenate([[0], np.cumsum(areas * self.shapes[:, 2])])
        self._cache = OrderedDict()
        self._cache_bytes = 0
        self._lock = threading.Lock()

    def __reduce__(self):
        return open_store, (self.path,)

    def __len__(self):
        return len(self.shapes)

    def _check_lengths(self, n):
        lengths = {
            "shapes": len(self.shapes),
            "dtype_codes": len(self.dtype_codes),
            "pixel_size": len(self.pixel_size),
            "labels": len(self.labels),
            "ids": len(self.ids),
        }
        wrong = {name: length for name, length in lengths.items() if length != n}
        if wrong:
            raise StoreFormatError(
                f"The particle store '{self.path}' is inconsistent: its attributes list "
                f"{n} particles but the arrays hold {wrong}. It was probably written "
                "partly (an interrupted save); write it again."
            )
        areas = self.shapes[:, 0] * self.shapes[:, 1]
        for name, array, expected in (
            ("pixels", self._pixels, int((areas * self.shapes[:, 2]).sum())),
            ("masks", self._masks, int(areas.sum())),
        ):
            if array.shape[0] != expected:
                raise StoreFormatError(
                    f"The particle store '{self.path}' is inconsistent: its {name} array "
                    f"holds {array.shape[0]} values but the {n} particles' shapes need "
                    f"{expected}. It was probably written partly; write it again."
                )

    # -- pixels ------------------------------------------------------------

    def read(self, field, positions):
        """Return the images (``field="images"``) or masks of `positions`, in order."""
        positions = np.asarray(positions, dtype=np.int64)
        out = [None] * len(positions)
        blocks = positions // BLOCK_SIZE
        for block in np.unique(blocks):
            data = self._block(field, int(block))
            first = int(block) * BLOCK_SIZE
            offsets = self.pixel_offsets if field == "images" else self.mask_offsets
            for row in np.flatnonzero(blocks == block):
                i = int(positions[row])
                start, stop = offsets[i] - offsets[first], offsets[i + 1] - offsets[first]
                height, width, channels = self.shapes[i]
                if field == "images":
                    shape = (height, width) if self.n_channels == 1 else (height, width, channels)
                    dtype = self.dtypes[self.dtype_codes[i]]
                    out[row] = data[start:stop].reshape(shape).astype(dtype, copy=True)
                else:
                    out[row] = data[start:stop].reshape(height, width).copy()
        return out

    def _block(self, field, block):
        key = (field, block)
        with self._lock:
            data = self._cache.get(key)
            if data is not None:
                self._cache.move_to_end(key)
                return data
        first = block * BLOCK_SIZE
        last = min(first + BLOCK_SIZE, len(self))
        if field == "images":
            data = self._pixels[self.pixel_offsets[first] : self.pixel_offsets[last]]
        else:
            data = self._masks[self.mask_offsets[first] : self.mask_offsets[last]]
            data = data.astype(bool, copy=False)
        with self._lock:
            self._cache[key] = data
            self._cache_bytes += data.nbytes
            while self._cache_bytes > _CACHE_BYTES and len(self._cache) > _MIN_CACHED_BLOCKS:
                _, dropped = self._cache.popitem(last=False)
                self._cache_bytes -= dropped.nbytes
        return data


def _decode_ids(id_bytes, lengths):
    """Split the ids' concatenated UTF-8 bytes back into a str array."""
    raw = np.asarray(id_bytes, dtype=np.uint8).tobytes()
    ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
    starts = ends - np.asarray(lengths, dtype=np.int64)
    return np.array([raw[a:b].decode("utf-8") for a, b in zip(starts, ends)], dtype=str)


class LazyArrays:
    """The images or masks of particles in a store, read when used.

    Behaves like the 1-D object array an in-memory
    :class:`~sklipo.ParticleSet` holds: ``len``, iteration (reading a few
    hundred particles at a time), an integer index (one array), and slices,
    integer arrays and boolean masks (another LazyArrays, reading nothing).
    ``numpy.asarray`` reads them all into an object array.

    Parameters
    ----------
    reader : _StoreReader
        The open store.
    field : {"images", "masks"}
        What to read.
    positions : ndarray of int
        The particles' positions in the store.
    """

    def __init__(self, reader, field, positions):
        self.reader = reader
        self.field = field
        self.positions = np.asarray(positions, dtype=np.int64)

    def __len__(self):
        return len(self.positions)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self.reader.read(self.field, [self.positions[key]])[0]
        return LazyArrays(self.reader, self.field, self.positions[key])

    def __iter__(self):
        for start in range(0, len(self.positions), _ITER_STEP):
            yield from self.reader.read(self.field, self.positions[start : start + _ITER_STEP])

    def __array__(self, dtype=None, copy=None):
        packed = np.empty(len(self), dtype=object)
        for i, array in enumerate(self):
            packed[i] = array
        return packed

    def __repr__(self):
        return f"LazyArrays({self.field} of {len(self)} particles in '{self.reader.path}')"

    @property
    def sizes(self):
        """ndarray of shape (n, 2): height and width of each, without reading pixels."""
        return self.reader.shapes[self.positions, :2]

    def read(self):
        """Return the arrays as a list, read from the store."""
        return self.reader.read(self.field, self.positions)


def block_order(positions, rng, *, window=4):
    """Reorder an epoch's draws so consecutive ones come from a few stored blocks.

    The blocks the draws fall in are shuffled and taken `window` at a time;
    the draws of each window keep their (already random) relative order. A
    mini-batch then mixes particles of up to `window` blocks of
    :data:`BLOCK_SIZE` consecutive stored particles, and each block is
    decoded about once per epoch instead of once per draw.

    Parameters
    ----------
    positions : ndarray of int
        The stored positions of the epoch's draws, in random order.
    rng : numpy.random.Generator
        Source of randomness.
    window : int, default=4
        Blocks mixed at a time.

    Returns
    -------
    order : ndarray of int
        A permutation of ``range(len(positions))``.
    """
    blocks = np.asarray(positions) // BLOCK_SIZE
    unique, inverse = np.unique(blocks, return_inverse=True)
    rank = np.empty(len(unique), dtype=np.int64)
    rank[rng.permutation(len(unique))] = np.arange(len(unique))
    return np.argsort(rank[inverse] // window, kind="stable")
