"""Where a comparison came from: data, folds, models, seeds, versions, machine."""

# License: BSD 3 clause

import datetime
import os
import platform
import sys
from importlib import metadata

import numpy as np

__all__ = ["collect_provenance"]

# Packages whose version changes the numbers; torch only if installed.
_PACKAGES = {
    "sklipo": "sklipo",
    "scikit-learn": "sklearn",
    "torch": "torch",
    "skorch": "skorch",
    "numpy": "numpy",
    "scipy": "scipy",
}
# Longest parameter value kept in full; longer reprs are cut.
_MAX_REPR = 80


def _version(distribution, module):
    """The version of a package, without importing it (torch takes seconds)."""
    if module in sys.modules and hasattr(sys.modules[module], "__version__"):
        return str(sys.modules[module].__version__)
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _versions():
    versions = {"python": platform.python_version()}
    for distribution, module in _PACKAGES.items():
        version = _version(distribution, module)
        if version is not None:
            versions[distribution] = version
    return versions


def _machine():
    machine = {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        machine["torch_threads"] = torch.get_num_threads()
        machine["cuda"] = torch.cuda.is_available()
    return machine


def _brief(value):
    """A parameter value as JSON-ready plain data, or its repr cut to _MAX_REPR."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "get_params"):
        return type(value).__name__
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _describe_model(model):
    """The estimator's repr (changed parameters only) and every parameter, briefly."""
    params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    # a Pipeline's `steps` repeats its steps' parameters
    params = {k: _brief(v) for k, v in params.items() if k != "steps"}
    return {"estimator": " ".join(repr(model).split()), "params": params}


def _seeds(models, random_state):
    seeds = {"folds": _brief(random_state)}
    for name, model in models.items():
        params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
        found = {k: _brief(v) for k, v in params.items() if k.split("__")[-1] == "random_state"}
        if found:
            seeds[name] = found
    return seeds


def collect_provenance(models, y, labels, names, splits, cv, random_state, data_description):
    """The provenance of a comparison, before it runs (wall time added after).

    Parameters
    ----------
    models : dict of str to estimator
        The compared models.
    y : ndarray of shape (n_samples,)
        The labels.
    labels, names : ndarray of shape (n_classes,)
        The classes and their display names.
    splits : list of (train, test)
        The folds.
    cv : object
        The cross-validation splitter as used.
    random_state : int, RandomState or None
        The seed of the folds.
    data_description : str or None
        Where the data came from, in the caller's words.

    Returns
    -------
    provenance : dict
        ``data`` (description, n_samples, class_counts), ``folds``
        (splitter, n_folds, test sizes), ``models`` (repr and parameters),
        ``seeds``, ``versions``, ``machine`` and ``started`` (UTC, ISO 8601).
    """
    test_sizes = [len(test) for _, test in splits]
    return {
        "data": {
            "description": data_description,
            "n_samples": len(y),
            "class_counts": {str(n): int(np.sum(y == k)) for k, n in zip(labels, names)},
        },
        "folds": {
            "splitter": " ".join(repr(cv).split()),
            "n_folds": len(splits),
            "test_sizes": test_sizes,
        },
        "models": {name: _describe_model(model) for name, model in models.items()},
        "seeds": _seeds(models, random_state),
        "versions": _versions(),
        "machine": _machine(),
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
