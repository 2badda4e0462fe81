"""Load labelled particle cut-outs and their masks from a folder or manifest."""

# License: BSD 3 clause

import os
import warnings
from numbers import Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo._stored_particles import is_particle_store
from sklipo.datasets._image_files import read_image_frames, read_mask_frames
from sklipo.datasets._particle_listing import (
    _MANIFEST_NAME,
    _read_manifest,
    _scan_folder,
)
from sklipo.utils import report_left_out

__all__ = ["load_particles"]

_PROGRESS_EVERY = 1000


def _resolve_pixel_sizes(listed, header, argument, origin):
    """Apply the precedence argument > listing > file header, warning on conflicts."""
    listed = np.asarray(listed, dtype=float)
    header = np.asarray(header, dtype=float)
    if argument is not None:
        stored = np.where(np.isfinite(listed), listed, header)
        differ = np.isfinite(stored) & ~np.isclose(stored, argument, rtol=1e-4, atol=0)
        if differ.any():
            first = int(np.flatnonzero(differ)[0])
            warnings.warn(
                f"pixel_size={argument} overrides the pixel size stored for "
                f"{int(differ.sum())} particle(s) (e.g. {stored[first]:g} nm/px for "
                f"{origin[first]}).",
                UserWarning,
                stacklevel=4,
            )
        return np.full(len(listed), float(argument))
    differ = (
        np.isfinite(listed)
        & np.isfinite(header)
        & ~np.isclose(listed, header, rtol=1e-4, atol=0)
    )
    if differ.any():
        first = int(np.flatnonzero(differ)[0])
        warnings.warn(
            f"The manifest's pixel_size overrides the file header for {int(differ.sum())} "
            f"particle(s) (e.g. {listed[first]:g} instead of {header[first]:g} nm/px for "
            f"{origin[first]}).",
            UserWarning,
            stacklevel=4,
        )
    return np.where(np.isfinite(listed), listed, header)


def _frame_names(name, n_frames):
    """Name each frame of a file: the name itself for one image, ``name:i`` for a stack."""
    return [name] if n_frames == 1 else [f"{name}:{frame}" for frame in range(n_frames)]


def _read_record(record, as_gray):
    """A record's images (one per frame of a stack) and masks, or None for no masks."""
    images, pixel_size, alphas = read_image_frames(
        record.image, as_gray=as_gray, return_alpha=True
    )
    if record.mask is not None:
        masks = read_mask_frames(record.mask)
        if len(masks) != len(images):
            raise ValueError(
                f"The mask file '{record.mask}' holds {len(masks)} mask(s) but its image "
                f"file '{record.image}' holds {len(images)} image(s); a stack's masks are "
                "a stack with one mask per frame, in the same order."
            )
    elif any(alpha is not None for alpha in alphas):
        # A cut-out saved with a transparent background: the opaque pixels
        # are the particle (stacks carry no alpha).
        masks = [alpha > 0 for alpha in alphas]
    else:
        masks = None
    return images, masks, pixel_size


def _per_particle(records, counts):
    """Each particle's file name (``file:frame`` in a stack), listed pixel size and label."""
    filenames = np.concatenate(
        [_frame_names(str(record.image), n) for record, n in zip(records, counts)]
    )
    listed = np.repeat([record.pixel_size for record in records], counts)
    labels = np.repeat([record.label for record in records], counts).astype(str)
    return filenames, listed, labels


def _read_particles(records, as_gray, verbose):
    """Read and check every record's images and masks, naming files in errors.

    Returns the particles (pixel sizes unknown; one per frame of a stack),
    the pixel size each file's header gives and the number of particles of
    each record.
    """
    particles, header, counts = [], [], []
    for index, record in enumerate(records):
        try:
            images, masks, pixel_size = _read_record(record, as_gray)
        except (FileNotFoundError, ValueError) as exc:
            if record.where is None:
                raise
            raise type(exc)(f"{exc} (listed in {record.where})") from exc
        try:
            particle = ParticleSet(
                images,
                masks,
                ids=_frame_names(record.id, len(images)),
                channel_axis=-1 if images[0].ndim == 3 else None,
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"In {_describe_files(record)}: {exc}") from exc
        if particles and particle.n_channels != particles[0].n_channels:
            raise ValueError(
                f"'{record.image}' has {particle.n_channels} channel(s) but "
                f"'{records[0].image}' has {particles[0].n_channels}; all particles "
                "need the same number of channels. as_gray=True reads colour images "
                "as grayscale."
            )
        particles.append(particle)
        header.extend([pixel_size] * len(images))
        counts.append(len(images))
        if verbose and (index + 1) % _PROGRESS_EVERY == 0:
            print(
                f"[load_particles] read {index + 1}/{len(records)} files, "
                f"{sum(counts)} particles"
            )
    return ParticleSet.concatenate(particles), header, np.array(counts)


def _describe_files(record):
    """Name a particle's files (and manifest line) for error messages."""
    text = f"'{record.image}'"
    if record.mask is not None:
        text += f" with mask '{record.mask}'"
    if record.where is not None:
        text += f" ({record.where})"
    return text


@validate_params(
    {
        "path": [str, os.PathLike],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "mask_suffix": [str, None],
        "as_gray": ["boolean", StrOptions({"auto"})],
        "strict": ["boolean"],
        "return_X_y": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def load_particles(
    path,
    *,
    pixel_size=None,
    mask_suffix="_mask",
    as_gray="auto",
    strict=False,
    return_X_y=False,
    verbose=0,
):
    """Load labelled particle cut-outs and their masks from a folder or manifest.

    Three layouts are read:

    * **Class folders**: ``path`` holds one sub-folder per class, named after
      the class; each holds the particle images and, next to each image, its
      mask with `mask_suffix` appended to the file stem
      (``unilamellar/p001.png`` and ``unilamellar/p001_mask.png``). The mask
      may have another format than its image. Particles come sorted by class
      name, then by file name; ids are ``"<class>/<file stem>"``. Only
      image files directly inside a class folder are read. Names starting
      with ``"."`` are skipped silently; anything else left out (files of
      other types, folders inside class folders, files beside the class
      folders) is reported in one warning with the count and the first
      names, or is an error with ``strict=True``. An image without a mask, a
      mask without an image and a class folder without images are errors.
    * **Manifest**: a CSV file (``path`` itself, or ``manifest.csv`` inside
      the folder ``path``, which then takes precedence over the class
      folders) with a header row and one row per particle. Columns (any order,
      other columns ignored): ``image`` and ``label`` (required), ``mask``,
      ``pixel_size`` (nm per pixel) and ``id`` (optional). Paths are relative
      to the manifest's folder. An empty ``mask`` cell gives a mask covering
      the whole image, an empty ``pixel_size`` cell an unknown pixel size, an
      empty ``id`` the image path without extension. Particles keep the row
      order. :func:`save_particles` writes this layout.
    * **Particle store**: a zarr store written by ``save_particles(...,
      format="zarr")``, :func:`convert_to_store` or
      :class:`ParticleStoreWriter`. The particles are read *lazily*: the
      returned set holds the pixel sizes, ids and labels, and reads images
      and masks when they are used (``data.in_memory`` is False); indexing it
      or splitting it into folds reads nothing. The other parameters are
      ignored, and ``filenames`` hold the store's path. See
      :ref:`bigger_data`.

    Files may be PNG (8- or 16-bit, palette, with alpha), JPEG, BMP, TIFF
    (any integer or floating-point dtype, channels as samples or pages,
    OME-TIFF) or MRC (``.mrc``, ``.mrcs``, ``.map``); pixels keep their
    stored dtype. A mask marks the particle with its non-zero pixels (in a
    JPEG mask, pixels above half range). A particle without a mask file
    (``mask_suffix=None``, or an empty ``mask`` cell) whose image has a
    transparent background (an alpha channel that is not fully opaque)
    gets the opaque pixels as its mask, and the alpha channel is dropped.

    A file holding several images is a stack of particles, one per image in
    file order: an MRC file of several sections (a RELION-style ``.mrcs``
    particle stack), a TIFF page sequence (series axes I, Z or T: plain
    multi-page files, ImageJ stacks) or a TIFF whose pages differ in shape.
    Each frame's id and file name end in ``:<frame>``, counted from 0
    (``"unilamellar/stack:3"``, ``".../stack.mrcs:3"``); a file of one
    image keeps its plain names. A stack's mask file (``stack_mask.mrcs``,
    or the manifest's ``mask``) must be a stack of as many masks, in the
    same order. TIFF pages along a channel axis (C, or tifffile's
    unnamed Q) stay channels of one image.

    Parameters
    ----------
    path : str or path-like
        A folder of class folders, a folder holding ``manifest.csv``, or a
        manifest CSV file.
    pixel_size : float, default=None
        Nanometres per pixel for every particle. When given it overrides the
        pixel sizes stored in the manifest and in file headers, with a warning
        where they differ. When None, a particle's pixel size is its manifest
        ``pixel_size`` cell, else its file header's (an MRC voxel size, or
        TIFF resolution tags; see :func:`read_image`), else unknown (NaN); a
        manifest value that differs from the header wins, with a warning.
    mask_suffix : str or None, default="_mask"
        What ends a mask's file stem in the class-folder layout. None loads
        images without mask files, each mask covering its whole image. Unused
        with a manifest, which names the masks.
    as_gray : {"auto", True, False}, default="auto"
        How to read colour images. ``"auto"`` reads a colour image whose colour
        channels are identical (a grayscale image saved as RGB, e.g. by
        ``matplotlib.pyplot.imsave``) as grayscale, keeping its dtype, and
        drops a fully opaque PNG alpha channel; other multichannel images keep
        their channels. True also converts RGB images with differing channels to
        floating-point luminance (:func:`skimage.color.rgb2gray`) and raises on
        other multichannel images. False keeps all channels as stored.
        Multichannel images give a set with ``(H, W, C)`` images.
    strict : bool, default=False
        Raise instead of warning when files or folders of the class-folder
        layout are left out.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    verbose : int, default=0
        Print progress every 1000 files when positive.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ParticleSet
            The particles, with masks, pixel sizes and ids.
        target : ndarray of int, shape (n_particles,)
            Index of each particle's class in `target_names`.
        target_names : ndarray of str, shape (n_classes,)
            The class names (folder names or ``label`` cells), sorted.
        filenames : ndarray of str, shape (n_particles,)
            The image files (``file:frame`` for a frame of a stack).
        mask_filenames : ndarray of str, shape (n_particles,)
            The mask files (``file:frame`` in a stack); ``""`` where the
            mask covers the whole image.
        DESCR : str
            Where the particles came from and how many per class.

    (data, target) : tuple of (ParticleSet, ndarray)
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If `path`, an image or a mask file does not exist (the message names it).
    ValueError
        If a file cannot be read, a mask's shape differs from its image's, a
        stack's mask file holds another number of frames, a mask is empty, an image holds NaN or infinite values, a class folder
        holds no images, a manifest row is malformed or its pixel size is not
        positive, or particles differ in their number of channels. The message
        names the file (and the manifest line).

    See Also
    --------
    save_particles : Write particles in the manifest layout.
    load_annotated_micrographs : Cut particles out of annotated micrographs.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from sklipo import ParticleSet
    >>> from sklipo.datasets import load_particles, save_particles
    >>> X = ParticleSet([np.zeros((40, 40), np.uint8), np.ones((52, 60), np.uint16)],
    ...                 pixel_size=0.8)
    >>> folder = save_particles(X, ["full", "empty"], tempfile.mkdtemp())
    >>> sorted(path.name for path in folder.iterdir())
    ['empty', 'full', 'manifest.csv']
    >>> particles = load_particles(folder)
    >>> particles.data
    ParticleSet(2 particles, 40x40 to 52x60 px, 1 channel, 0.8 nm/px)
    >>> particles.target_names[particles.target]
    array(['full', 'empty'], dtype='<U5')
    """
    if mask_suffix == "":
        raise ValueError(
            "mask_suffix must be a non-empty string or None (images without mask files)."
        )
    path = Path(path)
    if is_particle_store(path):
        from sklipo.datasets._store import load_store

        return load_store(path, return_X_y=return_X_y)
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise ValueError(
                f"'{path}' is a file but not a .csv manifest; give a folder of class "
                "folders, a folder holding manifest.csv, or a .csv manifest."
            )
        manifest = path
    elif path.is_dir():
        manifest = path / _MANIFEST_NAME if (path / _MANIFEST_NAME).is_file() else None
    else:
        raise FileNotFoundError(f"No such folder or manifest file: '{path}'.")
    if manifest is not None:
        records = _read_manifest(manifest)
    else:
        left_out = []
        records = _scan_folder(path, mask_suffix, left_out)
        report_left_out(left_out, "load_particles", strict, stacklevel=3)
    particles, header, counts = _read_particles(records, as_gray, verbose)
    filenames, listed, labels = _per_particle(records, counts)
    mask_filenames = np.concatenate([
        _frame_names(str(record.mask), n) if record.mask is not None else [""] * n
        for record, n in zip(records, counts)
    ])
    origin = [f"'{name}'" for name in filenames]
    data = particles.replace(pixel_size=_resolve_pixel_sizes(listed, header, pixel_size, origin))
    target_names, target = np.unique(labels, return_inverse=True)
    if return_X_y:
        return data, target
    counts = ", ".join(
        f"{name}: {count}" for name, count in zip(target_names, np.bincount(target))
    )
    source = f"manifest '{manifest}'" if manifest is not None else f"class folders in '{path}'"
    return Bunch(
        data=data,
        target=target,
        target_names=target_names,
        filenames=filenames,
        mask_filenames=mask_filenames,
        DESCR=f"{len(data)} particles loaded from the {source}. Per class: {counts}.",
    )
