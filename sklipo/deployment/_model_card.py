"""Save fitted models with a JSON model card; load them only when the card vouches."""

# License: BSD 3 clause

import hashlib
import json
import os
import platform
import warnings
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path

import joblib
import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import sklipo
from sklipo._particles import ParticleSet, as_particle_set
from sklipo.classifier import flat_steps
from sklipo.compare import ComparisonResult
from sklipo.deployment._files import write_together
from sklipo.utils import check_writable, json_ready

__all__ = ["ModelVersionWarning", "card_path", "load", "load_card", "save"]

#: Version of the card's layout.
CARD_VERSION = 1
_CARD_FORMAT = "sklipo-model-card"
_CARD_SUFFIX = ".card.json"
# Versions the card records besides Python's and sklipo's own.
_RECORDED = ("scikit-learn", "torch", "skorch", "numpy", "imbalanced-learn", "joblib")
# Packages whose other version at load time can change or break the unpickled
# model: a difference warns.
_CHECKED = ("sklipo", "scikit-learn", "torch", "skorch", "numpy")
_CHUNK = 1 << 20
# cross_validate's return_estimator / return_indices outputs: not scores
_CV_EXTRAS = ("estimator", "indices")
_TRUST = (
    "joblib files are pickles: loading one runs code it contains, so load only "
    "files from sources you trust."
)


class ModelVersionWarning(UserWarning):
    """A model is loaded with other package versions than it was saved with.

    The model may still work, give different results or fail: scikit-learn,
    torch and skorch do not promise that pickles move between versions.
    """


def card_path(path):
    """Return the path of the model card of the model file `path`.

    Parameters
    ----------
    path : str or path-like
        The model file, e.g. ``model.joblib``.

    Returns
    -------
    card : pathlib.Path
        The card next to it, the model file's name plus ``.card.json``
        (``model.joblib.card.json``).
    """
    path = Path(path)
    return path.with_name(path.name + _CARD_SUFFIX)


def _versions():
    versions = {"python": platform.python_version(), "sklipo": sklipo.__version__}
    for package in _RECORDED:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _qualified_name(obj):
    cls = type(obj)
    module = cls.__module__
    # the public package rather than the private module it lives in
    public = ".".join(part for part in module.split(".") if not part.startswith("_"))
    return f"{public}.{cls.__qualname__}"


def _describe_estimator(estimator):
    entry = {"class": _qualified_name(estimator)}
    if isinstance(estimator, Pipeline):
        entry["steps"] = [
            {"name": name, **_describe_estimator(step)}
            if hasattr(step, "get_params")
            else {"name": name, "class": repr(step)}
            for name, step in estimator.steps
        ]
    elif hasattr(estimator, "get_params"):
        entry["params"] = json_ready(estimator.get_params(deep=False))
    return entry


def _input(estimator, X):
    """Channels the model takes and the input size of its network, if any."""
    steps = flat_steps(estimator)
    final = steps[-1][1]
    channels = getattr(steps[0][1], "n_channels_in_", None)
    if channels is None and X is not None and _is_images(X):
        channels = as_particle_set(X).n_channels
    shape = getattr(final, "input_shape_", None)
    return {
        "channels": None if channels is None else int(channels),
        "network_input_size": None if shape is None else [int(s) for s in shape],
        "architecture": getattr(final, "architecture", None),
    }


def _is_images(X):
    if isinstance(X, ParticleSet):
        return True
    if isinstance(X, (list, tuple)):
        return all(np.ndim(item) >= 2 for item in X)
    return isinstance(X, np.ndarray) and (X.dtype == object or X.ndim in (3, 4))


def _range(values):
    return [json_ready(values.min()), json_ready(values.max())]


def _data_summary(X, y):
    """Sizes, dtypes, pixel sizes and class counts of the training data."""
    summary = {}
    if X is not None:
        if _is_images(X):
            particles = as_particle_set(X)
            sizes = particles.sizes
            known = particles.pixel_size[np.isfinite(particles.pixel_size)]
            summary.update(
                n_samples=len(particles),
                channels=int(particles.n_channels),
                dtypes=sorted({image.dtype.name for image in particles.images}),
                height_range=_range(sizes[:, 0]),
                width_range=_range(sizes[:, 1]),
                pixel_size_nm_range=_range(known) if known.size else "unknown",
                n_unknown_pixel_size=int(len(particles) - known.size),
            )
        else:
            X = np.asarray(X)
            summary.update(n_samples=int(X.shape[0]), shape=list(X.shape), dtypes=[X.dtype.name])
    if y is not None:
        y = np.asarray(y)
        if X is not None and len(y) != summary["n_samples"]:
            raise ValueError(
                f"X and y must describe the same samples; got {summary['n_samples']} "
                f"samples in X and {len(y)} labels in y."
            )
        labels, counts = np.unique(y, return_counts=True)
        summary.setdefault("n_samples", int(len(y)))
        summary["class_counts"] = {str(k): int(n) for k, n in zip(labels, counts)}
    return summary


def _cv_summary(cv_results):
    """Cross-validation scores as JSON: per-fold arrays get their mean and std."""
    if isinstance(cv_results, ComparisonResult):
        data = cv_results.to_dict()
        del data["test_indices"]
        return {"source": "sklipo.compare", **json_ready(data)}
    if not isinstance(cv_results, dict):
        raise TypeError(
            "cv_results must be the dict of sklearn.model_selection.cross_validate, a "
            "sklipo.compare result or a dict of scores; got "
            f"{type(cv_results).__name__}."
        )
    summary = {}
    for key, value in cv_results.items():
        if key in _CV_EXTRAS:
            continue
        folds = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) else None
        if folds is not None and folds.ndim == 1 and folds.dtype.kind in "biuf":
            summary[str(key)] = {
                "mean": json_ready(folds.mean()),
                "std": json_ready(folds.std()),
                "folds": json_ready(folds),
            }
        else:
            summary[str(key)] = json_ready(value)
    return summary


def _cutout(cutout):
    """Every cut-out setting, the loader's defaults filling in, as JSON; or None."""
    if cutout is None:
        return None
    # Imported here: the detection stack (scikit-image) is needed only then.
    from sklipo.detection import check_cutout

    return json_ready(check_cutout(cutout, complete=True))


def _classes(estimator):
    classes = getattr(estimator, "classes_", None)
    return None if classes is None else json_ready(np.asarray(classes))


def save(
    estimator,
    path,
    *,
    X=None,
    y=None,
    cv_results=None,
    cutout=None,
    metadata=None,
    overwrite=False,
    compress=3,
):
    """Save a fitted model with joblib and write its model card next to it.

    The card, ``<path>.card.json`` (see :func:`card_path`), records what the
    model is and how it was made: the package versions, the creation time,
    the estimator and its steps, the classes, the input it takes, a summary
    of the training data, the cross-validation scores and the cut-out
    settings of particles cut out of micrographs when given, and the SHA-256
    checksum of the model file, which :func:`load` checks before
    unpickling.

    Both files are written to temporary files beside them first and moved
    into place together: a failure at any step (a full disk, say) leaves the
    previous model and card as they were, a pair that still loads.

    Parameters
    ----------
    estimator : object
        A fitted estimator or pipeline. Any other picklable object (one
        without a ``fit`` method) is saved as it is.
    path : str or path-like
        The model file to write, e.g. ``"model.joblib"``.
    X : ParticleSet, array-like or None, default=None
        The training data, summarised in the card: number of samples, image
        height and width ranges, pixel-size range (or "unknown"), channels
        and dtypes. It is not stored.
    y : array-like of shape (n_samples,), default=None
        The training labels; the card records the count of each class.
    cv_results : dict or ComparisonResult, default=None
        Cross-validation scores: the dict
        :func:`sklearn.model_selection.cross_validate` returns (per-fold
        scores, recorded with their mean and standard deviation), a
        :func:`sklipo.compare.compare` result, or a plain dict of scores
        such as ``{"f1_macro": {"mean": 0.81, "std": 0.03}}``.
    cutout : dict, default=None
        How the training particles were cut out of annotated micrographs:
        the keyword arguments of
        :func:`~sklipo.datasets.load_annotated_micrographs` among
        :data:`sklipo.detection.CUTOUT_PARAMETERS` (e.g.
        ``{"surrounding": 10, "polarity": "dark"}``). The card records every
        one of those settings, the loader's defaults for those not given,
        under ``"cutout"``, so that particles found in new micrographs are
        cut out the same way (:func:`~sklipo.detection.classify_micrographs`,
        ``sklipo predict``). None (particles not cut out of micrographs, or
        unknown) records None.
    metadata : dict, default=None
        Anything else to record, JSON-ready (numbers, strings, lists, dicts);
        stored under ``"metadata"``.
    overwrite : bool, default=False
        Replace an existing model file and card. By default an existing
        file is never replaced.
    compress : int, default=3
        joblib compression level (0 to 9).

    Returns
    -------
    card : dict
        The model card as written.

    Raises
    ------
    FileExistsError
        If the model file or its card exists and `overwrite` is False.
    ValueError
        If `cutout` names a setting that is not a cut-out setting.
    sklearn.exceptions.NotFittedError
        If `estimator` has a ``fit`` method but has not been fitted (a
        ValueError): an unfitted model would only fail when used.

    See Also
    --------
    load : Load the model after checking it against its card.
    load_card : Read a card without loading the model.

    Notes
    -----
    joblib files are pickles: loading one runs code it contains. Load only
    files from sources you trust. The checksum guards against corrupted,
    truncated or swapped files, not against someone who writes a malicious
    model together with a matching card.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklipo.deployment import save, load
    >>> model = DummyClassifier().fit([[0], [1]], ["a", "b"])
    >>> card = save(model, "model.joblib", metadata={"note": "demo"})  # doctest: +SKIP
    >>> load("model.joblib").predict([[0]])  # doctest: +SKIP
    array(['a'], dtype='<U1')
    """
    if hasattr(estimator, "fit"):
        check_is_fitted(
            estimator,
            msg=(
                f"{type(estimator).__name__} is not fitted: call fit before save, or "
                "it would be saved only to fail when used."
            ),
        )
    path = Path(path)
    card_file = card_path(path)
    if not overwrite:
        existing = [str(p) for p in (path, card_file) if p.exists()]
        if existing:
            raise FileExistsError(
                f"{' and '.join(repr(p) for p in existing)} exist(s); pass "
                "overwrite=True to replace the model, or choose another path."
            )
    card = {
        "format": _CARD_FORMAT,
        "format_version": CARD_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model_file": path.name,
        "sha256": None,
        "size_bytes": None,
        "versions": _versions(),
        "estimator": _describe_estimator(estimator),
        "classes": _classes(estimator),
        "input": _input(estimator, X),
        "training_data": _data_summary(X, y) if X is not None or y is not None else None,
        "cv_results": None if cv_results is None else _cv_summary(cv_results),
        "cutout": _cutout(cutout),
        "metadata": None if metadata is None else json_ready(metadata),
    }

    def write_model(temp):
        joblib.dump(estimator, temp, compress=compress)
        card["sha256"] = _sha256(temp)
        card["size_bytes"] = os.path.getsize(temp)

    def write_card(temp):
        Path(temp).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")

    check_writable(path)  # creates missing folders; names `path` if it cannot
    # Both files are written beside their targets, then moved in together: a
    # failure at any step leaves the previous model and card, a loadable pair.
    write_together({path: write_model, card_file: write_card})
    return card


def load_card(path):
    """Read the model card of a model file, without loading the model.

    Parameters
    ----------
    path : str or path-like
        The model file (not the card).

    Returns
    -------
    card : dict
        The card :func:`save` wrote.

    Raises
    ------
    FileNotFoundError
        If the model file has no card next to it.
    ValueError
        If the card is not a sklipo model card.
    """
    path = Path(path)
    card_file = card_path(path)
    if not card_file.exists():
        raise FileNotFoundError(
            f"'{path}' has no model card '{card_file.name}' next to it. sklipo.deployment.load "
            "opens only models written by sklipo.deployment.save (or 'sklipo train'), "
            "whose card records the file's checksum. If you trust the file, load it "
            f"with joblib.load yourself; {_TRUST}"
        )
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"'{card_file}' is not a readable model card: {exc}.") from exc
    if not isinstance(card, dict) or card.get("format") != _CARD_FORMAT:
        raise ValueError(f"'{card_file}' is not a sklipo model card.")
    if card.get("format_version", 0) > CARD_VERSION:
        raise ValueError(
            f"'{card_file}' has card format version {card['format_version']}; this "
            f"sklipo reads version {CARD_VERSION} and older. Upgrade sklipo."
        )
    return card


def load(path):
    """Load a model saved by :func:`save`, after checking it against its card.

    The card is read first and the model file's SHA-256 checksum compared
    with the one it records; a truncated, corrupted or swapped file is
    refused before anything is unpickled. Package versions that differ from
    the card's raise a :class:`ModelVersionWarning`.

    joblib files are pickles: loading one runs code it contains. Load only
    files from sources you trust. The checksum guards against accidents
    (corruption, truncation, a swapped file), not against someone who writes
    a malicious model together with a matching card.

    Parameters
    ----------
    path : str or path-like
        The model file, e.g. ``"model.joblib"``; its card must lie next to it.

    Returns
    -------
    estimator : object
        The saved estimator.

    Raises
    ------
    FileNotFoundError
        If the model file or its card is missing.
    ValueError
        If the file does not match its card (size or checksum).

    Warns
    -----
    ModelVersionWarning
        If sklipo, scikit-learn, torch, skorch or numpy differ from the
        versions recorded in the card.

    See Also
    --------
    save : Save a model with its card.
    load_card : Read the card alone.
    """
    path = Path(path)
    card = load_card(path)
    if not path.is_file():
        raise FileNotFoundError(f"The model file '{path}' does not exist (its card does).")
    size = os.path.getsize(path)
    expected_size = card.get("size_bytes")
    checksum = _sha256(path)
    if checksum != card.get("sha256") or (expected_size is not None and size != expected_size):
        raise ValueError(
            f"'{path}' does not match its model card '{card_path(path)}': the file has "
            f"{size} bytes and SHA-256 {checksum}, the card records {expected_size} bytes "
            f"and {card.get('sha256')}. The file is truncated, corrupted or not the one "
            "the card describes; it was not loaded."
        )
    recorded = card.get("versions", {})
    installed = _versions()
    for package in _CHECKED:
        if package in recorded and recorded[package] != installed[package]:
            warnings.warn(
                f"'{path}' was saved with {package} {recorded[package]} and is loaded "
                f"with {package} {installed[package]}; the model may behave differently "
                "or fail. Re-train it, or install the recorded version.",
                ModelVersionWarning,
                stacklevel=2,
            )
    return joblib.load(path)
