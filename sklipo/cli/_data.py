"""What the ``sklipo`` commands read: labelled particles, unlabelled folders, micrographs."""

# License: BSD 3 clause

import warnings
from pathlib import Path

from sklipo.cli._common import _CUTOUT_OPTIONS, _MASK_SUFFIX, CommandError

__all__ = []


def _load_labelled(args):
    """Load the data set the arguments name: a folder, else synthetic particles."""
    if args.data is not None and _is_yolo_folder(args.data):
        return _load_annotated(args)
    if args.data is not None:
        from sklipo.datasets import load_particles

        data = load_particles(
            args.data,
            pixel_size=args.pixel_size,
            mask_suffix=None if args.no_masks else _MASK_SUFFIX,
        )
        if args.no_masks:
            data = _skip_mask_files(data, args.data)
        origin = f"'{args.data}'"
    else:
        from sklipo.datasets import make_liposomes

        weights = [1, 1, 1] if args.balanced else None
        data = make_liposomes(
            args.synthetic,
            n_samples=args.n_samples,
            weights=weights,
            random_state=args.random_state,
        )
        origin = f"synthetic {args.synthetic} liposomes"
    X, y, names = data.data, data.target, data.target_names
    counts = ", ".join(f"{name} {int((y == k).sum())}" for k, name in enumerate(names))
    print(f"Data: {len(X)} particles from {origin} ({counts})")
    return X, y, names


def _data_description(args):
    """Where the labelled data came from, with the settings that made it (for reports)."""
    if args.data is not None:
        masks = "whole images (no masks)" if args.no_masks else "with masks"
        pixel = "" if args.pixel_size is None else f", pixel size {args.pixel_size} nm"
        return f"particles in '{args.data}' ({masks}{pixel})"
    classes = "balanced classes" if args.balanced else "the study's class proportions"
    return (
        f"synthetic {args.synthetic} liposomes (make_liposomes, n_samples={args.n_samples}, "
        f"{classes}, random_state={args.random_state})"
    )


def _load_unlabelled(folder, *, no_masks, pixel_size):
    """Particles to classify: a folder layout load_particles reads, or a flat folder."""
    from sklipo.datasets import load_particles

    folder = Path(folder)
    if not folder.is_dir():
        raise CommandError(f"'{folder}' is not a folder.")
    mask_suffix = None if no_masks else _MASK_SUFFIX
    has_subfolders = any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())
    if has_subfolders or (folder / "manifest.csv").exists():
        data = load_particles(folder, pixel_size=pixel_size, mask_suffix=mask_suffix)
        if no_masks:
            data = _skip_mask_files(data, folder)
        return data.data, data.target_names[data.target]
    return _load_flat(folder, mask_suffix, pixel_size), None


def _skip_mask_files(data, folder):
    """Leave out the mask files of class folders loaded with --no-masks: not particles."""
    import numpy as np

    if not Path(folder).is_dir() or (Path(folder) / "manifest.csv").exists():
        return data  # a manifest lists its particles itself
    is_mask = np.char.endswith(np.asarray(data.data.ids, dtype=str), _MASK_SUFFIX)
    if is_mask.any():
        _warn_mask_files(int(is_mask.sum()), folder)
        data.data, data.target = data.data[~is_mask], data.target[~is_mask]
    return data


def _warn_mask_files(count, folder):
    warnings.warn(
        f"left out {count} mask file(s) (*{_MASK_SUFFIX}.*) in '{folder}': with "
        "--no-masks the whole images are used, and masks are not particles.",
        UserWarning,
        stacklevel=2,
    )


def _load_flat(folder, mask_suffix, pixel_size):
    """Read the images (and masks) lying directly in `folder`.

    A stack (an ``.mrcs`` particle stack, a multi-page TIFF) gives one
    particle per frame, named ``<file stem>:<frame>`` from 0, with the
    frames of its mask stack as masks.
    """
    import numpy as np

    from sklipo import ParticleSet
    from sklipo.datasets import IMAGE_EXTENSIONS, read_image_frames, read_mask_frames

    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    # mask files are never particles, also when --no-masks leaves them unused
    masks = {p.stem: p for p in files if p.stem.endswith(mask_suffix or _MASK_SUFFIX)}
    images = [p for p in files if p.stem not in masks]
    if mask_suffix is None and masks:
        _warn_mask_files(len(masks), folder)
    if not images:
        raise CommandError(
            f"'{folder}' holds no images ({', '.join(IMAGE_EXTENSIONS)} files)."
        )
    pixels, mask_list, sizes, ids = [], [], [], []
    for path in images:
        frames, size = read_image_frames(path)
        pixels += frames
        sizes += [size if pixel_size is None else pixel_size] * len(frames)
        ids += [path.stem] if len(frames) == 1 else [f"{path.stem}:{i}" for i in range(len(frames))]
        if mask_suffix is None:
            continue
        mask = masks.get(path.stem + mask_suffix)
        if mask is None:
            raise CommandError(
                f"The image '{path}' has no mask '{path.stem + mask_suffix}.*'; add the "
                "masks or pass --no-masks to use whole images."
            )
        mask_frames = read_mask_frames(mask)
        if len(mask_frames) != len(frames):
            raise CommandError(
                f"The image '{path}' holds {len(frames)} frame(s) but its mask '{mask}' "
                f"{len(mask_frames)}; a stack needs a mask stack of as many frames."
            )
        mask_list += mask_frames
    return ParticleSet(
        pixels,
        mask_list or None,
        pixel_size=np.asarray(sizes, dtype=float),
        ids=ids,
        channel_axis=-1 if any(image.ndim == 3 for image in pixels) else None,
    )


def _is_yolo_folder(folder):
    """Whether `folder` has the layout annotation tools export: images/ and labels/."""
    folder = Path(folder)
    return (folder / "images").is_dir() and (folder / "labels").is_dir()


def _cutout_arguments(args):
    """The cut-out settings given on the command line (those left unset omitted)."""
    return {
        key: getattr(args, key) for key in _CUTOUT_OPTIONS if getattr(args, key, None) is not None
    }


def _yolo_class_names(folder, classes):
    """The class names: --classes (a file or comma-separated), else folder/classes.txt."""
    from sklipo.datasets import read_class_names

    if classes is not None:
        names = Path(classes)
        return read_class_names(names) if names.is_file() else classes.split(",")
    if (Path(folder) / "classes.txt").is_file():
        return read_class_names(Path(folder) / "classes.txt")
    raise CommandError(
        f"'{folder}' has images/ and labels/ but no classes.txt; pass --classes with the "
        "class names (comma-separated, or a file with one per line)."
    )


def _load_annotated(args):
    """Particles cut out of annotated micrographs (a YOLO folder), as training data."""
    import numpy as np

    from sklipo.datasets import load_annotated_micrographs

    folder = Path(args.data)
    classes = _yolo_class_names(folder, getattr(args, "classes", None))
    bunch = load_annotated_micrographs(
        folder / "images", folder / "labels", classes, pixel_size=args.pixel_size,
        **_cutout_arguments(args),
    )
    X, y, names = bunch.data, bunch.target, bunch.target_names
    heights, widths = bunch.boxes[:, 2] - bunch.boxes[:, 0], bunch.boxes[:, 3] - bunch.boxes[:, 1]
    sides = np.sqrt(heights * widths)
    # What 'sklipo predict --micrographs' searches for by default.
    args.box_sides = [float(sides.min()), float(sides.max())] if len(sides) else None
    counts = ", ".join(f"{name} {int((y == k).sum())}" for k, name in enumerate(names))
    print(
        f"Data: {len(X)} particles cut out of {len(np.unique(bunch.filenames))} annotated "
        f"micrograph(s) in '{folder}' ({counts}); {int(bunch.mask_fallback.sum())} mask "
        "fallback(s)"
    )
    return X, y, names
