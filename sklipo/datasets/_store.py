"""Particle stores: many particles in one chunked, compressed zarr store on disk.

Layout (format version 1), one zarr v3 group:

============== ============ ======================================================
array          shape        what it holds
============== ============ ======================================================
``pixels``     (P,)         every image's pixels, channel-last, end to end, in
                            the dtype all images can be cast to without loss
``masks``      (M,)         every mask's pixels (bool), end to end
``shapes``     (n, 3)       height, width and channels of each image
``dtype_codes````(n,)``     each image's own dtype, an index into ``dtypes``
``pixel_size`` (n,)         nanometres per pixel, NaN where unknown
``labels``     (n,)         index into ``classes``; -1 for an unlabelled set
``id_bytes``   (I,)         the ids' UTF-8 bytes, end to end
``id_lengths`` (n,)         bytes per id
============== ============ ======================================================

The group's attributes hold ``{"sklipo-particles": {"format_version": 1,
"n_particles": n, "n_channels": c, "dtypes": [...], "classes": [...]}}``.
``n_particles`` is written last, after every array has grown, so a store whose
writing was interrupted is recognised as inconsistent when it is opened.
"""

# License: BSD 3 clause

import os
import sys
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from sklipo._particles import ParticleSet, as_particle_set
from sklipo._stored_particles import (
    FORMAT_NAME,
    FORMAT_VERSION,
    forget_store,
    import_zarr,
    is_particle_store,
)
from sklipo.datasets._load_particles import (
    _per_particle,
    _read_particles,
    _resolve_pixel_sizes,
)
from sklipo.datasets._particle_listing import (
    _MANIFEST_NAME,
    _read_manifest,
    _scan_folder,
)
from sklipo.utils import replace_folder

__all__ = ["ParticleStoreWriter", "convert_to_store"]

# Values per chunk of the flat pixel and mask arrays: 1 MiB of 8-bit pixels.
_CHUNK = 2**20
_SMALL_CHUNK = 2**16


class ParticleStoreWriter:
    """Write particles into a zarr particle store, a piece at a time.

    What :func:`save_particles` with ``format="zarr"`` and
    :func:`convert_to_store` use; use it directly to build a store larger
    than memory, appending one in-memory piece after another (for instance
    pieces drawn with :func:`make_liposomes`). Read the store with
    :func:`load_particles`.

    Parameters
    ----------
    path : str or path-like
        The store: a folder, created. It must not exist unless `overwrite`.
    overwrite : bool, default=False
        Replace an existing particle store at `path` (a folder that is
        anything else is never deleted). The new store is written beside
        the old one and swapped in when the writer is closed (the ``with``
        block ends); until then, and if writing fails, the old store stays
        as it was.
    compression_level : int, default=3
        Zstandard level of the Blosc compressor (0 to 9).

    Attributes
    ----------
    n_particles_ : int
        Particles written so far.

    Examples
    --------
    >>> import tempfile
    >>> from sklipo.datasets import ParticleStoreWriter, load_particles, make_liposomes
    >>> path = tempfile.mkdtemp() + "/lip.zarr"
    >>> with ParticleStoreWriter(path) as writer:
    ...     for seed in range(2):
    ...         X, y = make_liposomes(n_samples=20, surrounding=5, return_X_y=True,
    ...                               random_state=seed)
    ...         _ = writer.append(X, y)
    >>> data = load_particles(path)
    >>> data.data.in_memory, len(data.data)
    (False, 40)
    """

    def __init__(self, path, *, overwrite=False, compression_level=3):
        self.path = Path(path)
        self.overwrite = overwrite
        self.compression_level = compression_level
        self._group = None
        self._dtype_hint = None
        self._replacing = None  # replace_folder context while an old store is replaced
        self._failed = False
        self.n_particles_ = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if exc_info[0] is not None:
            self._abort(*exc_info)
        else:
            self.close()

    def append(self, X, y=None):
        """Add particles (and their labels) at the end of the store.

        Parameters
        ----------
        X : ParticleSet or ndarray
            The particles; an image stack is converted with
            :func:`sklipo.as_particle_set`. A stored set is copied piece by
            piece.
        y : array-like of shape (n,), default=None
            Labels, written as text (class names). Give labels with every
            piece or with none.

        Returns
        -------
        self : ParticleStoreWriter
        """
        X = as_particle_set(X)
        labels = None if y is None else np.asarray(y)
        if labels is not None and labels.shape != (len(X),):
            raise ValueError(
                f"y must hold one label per particle ({len(X)}); got shape {labels.shape}."
            )
        chunk = 4096
        for start in range(0, len(X), chunk):
            piece = X[start : start + chunk].load()
            self._append(piece, None if labels is None else labels[start : start + chunk])
        return self

    def close(self):
        """Finish the store.

        A new store needs nothing more (nothing is lost without it); one
        that replaces an old store is swapped in here.
        """
        self._group = None
        replacing, self._replacing = self._replacing, None
        if replacing is not None and not self._failed:
            replacing.__exit__(None, None, None)
            forget_store(self.path)

    def _abort(self, *exc_info):
        """Drop a replacing store half-written: the old one stays as it was."""
        self._group = None
        replacing, self._replacing = self._replacing, None
        if replacing is not None:
            self._failed = True
            try:
                replacing.__exit__(*exc_info)
            except BaseException as exc:
                if exc is not exc_info[1]:
                    raise

    # -- internals -----------------------------------------------------------

    def _open(self, X, labelled):
        zarr = import_zarr()
        from zarr.codecs import BloscCodec

        if self.path.exists():
            if not (self.overwrite and is_particle_store(self.path)):
                raise FileExistsError(
                    f"'{self.path}' exists. Choose a new path, or pass overwrite=True "
                    "to replace a particle store there."
                    if not self.overwrite
                    else f"'{self.path}' exists and is not a particle store; it is not "
                    "replaced. Choose another path."
                )
            # Never delete the old store first: write the new one beside it,
            # swapped in by close() once complete.
            self._replacing = replace_folder(self.path)
            where = self._replacing.__enter__()
            where.rmdir()  # zarr creates the folder itself
        else:
            where = self.path
        forget_store(self.path)
        dtypes = sorted({image.dtype.name for image in X.images})
        self._pixel_dtype = (
            np.result_type(*dtypes) if self._dtype_hint is None else self._dtype_hint
        )
        self._dtypes = dtypes
        self._n_channels = X.n_channels
        self._labelled = labelled
        self._classes = []
        group = zarr.open_group(where, mode="w")

        def array(name, dtype, shape, chunks, shuffle="shuffle"):
            codec = BloscCodec(cname="zstd", clevel=self.compression_level, shuffle=shuffle)
            return group.create_array(
                name, shape=shape, chunks=chunks, dtype=dtype, compressors=[codec]
            )

        self._arrays = {
            "pixels": array("pixels", self._pixel_dtype, (0,), (_CHUNK,)),
            "masks": array("masks", bool, (0,), (_CHUNK,), shuffle="bitshuffle"),
            "shapes": array("shapes", np.int32, (0, 3), (_SMALL_CHUNK, 3)),
            "dtype_codes": array("dtype_codes", np.uint8, (0,), (_SMALL_CHUNK,)),
            "pixel_size": array("pixel_size", np.float64, (0,), (_SMALL_CHUNK,)),
            "labels": array("labels", np.int32, (0,), (_SMALL_CHUNK,)),
            "id_bytes": array("id_bytes", np.uint8, (0,), (_CHUNK,)),
            "id_lengths": array("id_lengths", np.int32, (0,), (_SMALL_CHUNK,)),
        }
        self._group = group
        self._write_attributes()

    def _append(self, X, labels):
        if self._failed:
            raise RuntimeError(
                f"Writing the store '{self.path}' failed earlier and the previous store "
                "there was kept; start a new ParticleStoreWriter."
            )
        try:
            self._write(X, labels)
        except BaseException:
            self._abort(*sys.exc_info())
            raise

    def _write(self, X, labels):
        if self._group is None:
            self._open(X, labels is not None)
        if (labels is not None) != self._labelled:
            raise ValueError(
                "Give labels (y) with every piece appended to a store, or with none; "
                f"the first piece was {'labelled' if self._labelled else 'unlabelled'}."
            )
        if X.n_channels != self._n_channels:
            raise ValueError(
                f"The store holds {self._n_channels}-channel particles; got "
                f"{X.n_channels}-channel ones."
            )
        codes = []
        for image in X.images:
            name = image.dtype.name
            if not np.can_cast(image.dtype, self._pixel_dtype, casting="safe"):
                raise TypeError(
                    f"The store holds {self._pixel_dtype} pixels and cannot keep "
                    f"{image.dtype} pixels without loss; convert the images first, or "
                    "write all particles in one call."
                )
            if name not in self._dtypes:
                self._dtypes.append(name)
            codes.append(self._dtypes.index(name))
        shapes = np.array(
            [(*image.shape[:2], X.n_channels) for image in X.images], dtype=np.int32
        )
        pixels = np.concatenate(
            [image.astype(self._pixel_dtype, copy=False).ravel() for image in X.images]
        )
        masks = np.concatenate([mask.ravel() for mask in X.masks])
        encoded = [id_.encode("utf-8") for id_ in X.ids]
        id_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        if labels is None:
            label_codes = np.full(len(X), -1, dtype=np.int32)
        else:
            names = labels.astype(str)
            for name in dict.fromkeys(names):
                if name not in self._classes:
                    self._classes.append(name)
            lookup = {name: k for k, name in enumerate(self._classes)}
            label_codes = np.array([lookup[name] for name in names], dtype=np.int32)
        self._extend("pixels", pixels)
        self._extend("masks", masks)
        self._extend("shapes", shapes)
        self._extend("dtype_codes", np.asarray(codes, dtype=np.uint8))
        self._extend("pixel_size", X.pixel_size.astype(np.float64))
        self._extend("labels", label_codes)
        self._extend("id_bytes", id_bytes)
        self._extend("id_lengths", np.array([len(b) for b in encoded], dtype=np.int32))
        self.n_particles_ += len(X)
        self._write_attributes()

    def _extend(self, name, values):
        array = self._arrays[name]
        start = array.shape[0]
        array.resize((start + len(values), *array.shape[1:]))
        if len(values):
            array[start:] = values

    def _write_attributes(self):
        self._group.attrs[FORMAT_NAME] = {
            "format_version": FORMAT_VERSION,
            "n_particles": self.n_particles_,
            "n_channels": int(self._n_channels),
            "dtypes": list(self._dtypes),
            "classes": list(self._classes),
        }


def save_store(X, labels, path, *, overwrite=False):
    """Write `X` with class names `labels` (or None) as a particle store; return the path."""
    X = as_particle_set(X)
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"'{path}' exists. Choose a new path, or pass overwrite=True to replace a "
            "particle store there."
        )
    if path.exists() and not is_particle_store(path):
        raise FileExistsError(
            f"'{path}' exists and is not a particle store; it is not replaced. "
            "Choose another path."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside `path` and swapped in whole: a failure half-way leaves a
    # previous store as it was.
    with replace_folder(path) as temp:
        temp.rmdir()
        with ParticleStoreWriter(temp) as writer:
            # one pixel dtype for the whole set, so mixed dtypes share a lossless one
            writer._dtype_hint = _common_dtype(X)
            writer.append(X, labels)
    forget_store(path)
    return path


def _common_dtype(X):
    """The dtype every image of `X` casts to without loss."""
    if not X.in_memory:
        return np.result_type(*X.images.reader.dtypes)
    return np.result_type(*{image.dtype for image in X.images})


def load_store(path, *, return_X_y=False):
    """Open a particle store as a lazy set (see load_particles)."""
    from sklearn.utils import Bunch

    X = ParticleSet._from_store(path)
    reader = X.images.reader
    codes = reader.labels
    if (codes < 0).any():
        target, target_names = None, np.array([], dtype=str)
    else:
        order = np.argsort(reader.classes)
        target_names = reader.classes[order]
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        target = rank[codes]
    if return_X_y:
        return X, target
    counts = (
        ", ".join(f"{n}: {c}" for n, c in zip(target_names, np.bincount(target)))
        if target is not None
        else "unlabelled"
    )
    return Bunch(
        data=X,
        target=target,
        target_names=target_names,
        filenames=np.full(len(X), str(path)),
        mask_filenames=np.full(len(X), ""),
        DESCR=(
            f"{len(X)} particles read lazily from the particle store '{path}' (format "
            f"version {FORMAT_VERSION}). Per class: {counts}."
        ),
    )


@validate_params(
    {
        "source": [str, os.PathLike],
        "store": [str, os.PathLike],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "mask_suffix": [str, None],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "overwrite": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def convert_to_store(
    source,
    store,
    *,
    pixel_size=None,
    mask_suffix="_mask",
    chunk_size=2000,
    overwrite=False,
    verbose=0,
):
    """Convert a particle folder or manifest into a particle store.

    Reads the particles the way :func:`load_particles` does (class folders,
    or a ``manifest.csv``), `chunk_size` particles at a time, and appends
    them to a zarr store, so a folder larger than memory converts with
    bounded memory. :func:`load_particles` then opens the store lazily.

    Parameters
    ----------
    source : str or path-like
        A folder of class folders, a folder holding ``manifest.csv``, or a
        manifest CSV file.
    store : str or path-like
        The store to write (a folder, e.g. ``particles.zarr``).
    pixel_size : float, default=None
        Nanometres per pixel for every particle, overriding the stored ones
        (as in :func:`load_particles`).
    mask_suffix : str or None, default="_mask"
        What ends a mask's file stem in the class-folder layout.
    chunk_size : int, default=2000
        Particles read into memory at a time.
    overwrite : bool, default=False
        Replace an existing particle store at `store`.
    verbose : int, default=0
        Print progress after each chunk when positive.

    Returns
    -------
    pathlib.Path
        The store written.

    See Also
    --------
    load_particles : Open the store (or the folder).
    ParticleStoreWriter : Write a store piece by piece.

    Examples
    --------
    >>> import tempfile
    >>> from sklipo.datasets import (convert_to_store, load_particles, make_liposomes,
    ...                              save_particles)
    >>> X, y = make_liposomes(n_samples=12, surrounding=5, return_X_y=True, random_state=0)
    >>> folder = save_particles(X, y, tempfile.mkdtemp())
    >>> store = convert_to_store(folder, tempfile.mkdtemp() + "/lip.zarr")
    >>> load_particles(store).data.ids[:2].tolist() == X.ids[:2].tolist()
    True
    """
    source = Path(source)
    if source.is_file():
        records = _read_manifest(source)
    elif (source / _MANIFEST_NAME).is_file():
        records = _read_manifest(source / _MANIFEST_NAME)
    elif source.is_dir():
        records = _scan_folder(source, mask_suffix, [])
    else:
        raise FileNotFoundError(f"No such folder or manifest file: '{source}'.")
    with ParticleStoreWriter(store, overwrite=overwrite) as writer:
        for start in range(0, len(records), chunk_size):
            part = records[start : start + chunk_size]
            particles, header, counts = _read_particles(part, "auto", 0)
            filenames, listed, labels = _per_particle(part, counts)
            origin = [f"'{name}'" for name in filenames]
            particles = particles.replace(
                pixel_size=_resolve_pixel_sizes(listed, header, pixel_size, origin)
            )
            writer.append(particles, labels)
            if verbose:
                print(
                    f"[convert_to_store] wrote {writer.n_particles_} particles from "
                    f"{min(start + chunk_size, len(records))}/{len(records)} files"
                )
    return Path(store)


