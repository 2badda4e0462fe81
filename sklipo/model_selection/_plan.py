"""Planning a search to a time budget: a timed pilot, a cost model, a schedule."""

# License: BSD 3 clause

import math
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.model_selection import StratifiedShuffleSplit

__all__ = ["best_schedule", "cost_factor", "pilot"]

# the pilot fit's size, and the largest number of candidates a plan draws
_PILOT_SAMPLES = 200
_MAX_CANDIDATES = 243


def _schedule(n_candidates, smallest, max_resources, factor):
    """Rounds of sklearn's halving: [(candidates, resource)], as it runs them."""
    n_required = 1 + math.floor(math.log(n_candidates, factor) + 1e-9) if n_candidates > 1 else 1
    n_possible = 1 + math.floor(math.log(max_resources / smallest, factor) + 1e-9)
    n_iterations = min(n_required, n_possible)
    # like min_resources="exhaust": the last round uses (nearly) all resources
    first = max(smallest, max_resources // factor ** (n_iterations - 1))
    return [
        (math.ceil(n_candidates / factor**i), first * factor**i) for i in range(n_iterations)
    ], first


def best_schedule(seconds, unit, refit, smallest, max_resources, factor, relative_cost):
    """The most candidates whose rounds and refit cost at most `seconds`.

    `unit` and `refit` are the costs of one resource unit and of the refit
    for the estimator's default recipe; ``relative_cost(n)`` is the mean
    cost, relative to it, of the first `n` candidates (anchors first).
    """
    choice = None
    for n_candidates in range(1, _MAX_CANDIDATES + 1):
        rounds, first = _schedule(n_candidates, smallest, max_resources, factor)
        relative = relative_cost(n_candidates)
        cost = unit * relative * sum(k * r for k, r in rounds)
        if choice is not None and cost + refit * relative > seconds:
            break
        choice = {
            "n_candidates": n_candidates,
            "min_resources": int(first),
            "n_iterations": len(rounds),
            "cost_factor": float(relative),
            "refit_seconds": float(refit * relative),
            "estimated_seconds": float(cost + refit * relative),
        }
    return choice


def pilot(estimator, X, y, random_state):
    """Seconds per training particle of `estimator`'s default recipe, and its epochs.

    After an untimed warm-up, fits of one and of two epochs (with a
    prediction) are timed on a stratified subset: their difference is the
    cost of an epoch, the rest the cost of preprocessing; the result is
    scaled to the estimator's own epoch count.
    """
    n = len(y)
    probe = clone(estimator)
    epoch_params = [key for key in probe.get_params() if key.endswith("max_epochs")]
    epochs = probe.get_params()[epoch_params[0]] if epoch_params else 1
    probe.set_params(**{key: 1 for key in epoch_params})
    subset = np.arange(n)
    if n > _PILOT_SAMPLES:
        split = StratifiedShuffleSplit(1, train_size=_PILOT_SAMPLES, random_state=random_state)
        try:
            subset = next(split.split(np.zeros(n), y))[0]
        except ValueError:  # a class too rare to stratify
            subset = np.random.RandomState(0).permutation(n)[:_PILOT_SAMPLES]
    X_pilot, y_pilot = X[subset], y[subset]
    probe.fit(X_pilot, y_pilot)  # untimed: torch's and the libraries' first-call costs
    times = []
    for n_epochs in (1, 2):
        probe.set_params(**{key: n_epochs for key in epoch_params})
        start = time.perf_counter()
        probe.fit(X_pilot, y_pilot).predict(X_pilot)
        times.append(time.perf_counter() - start)
    per_epoch = max(times[1] - times[0], 0.0) if epoch_params else 0.0
    fixed = max(times[0] - per_epoch, 0.0)
    return (fixed + per_epoch * epochs) / len(subset), epochs


def _mean_choice(grids, key, default):
    values = [v for grid in grids for v in grid.get(key, [default]) if isinstance(v, Real)]
    return float(np.mean(values)) if values else float(default)


def _ensemble_cost(clf, estimator):
    """Networks an ensemble classifier trains, in fits of `estimator`'s default recipe.

    Each member that holds a network counts its own cost (members without
    one, such as the SVM, count nothing); a stacking ensemble fits its
    members once per internal fold and once more on all the data. An
    ensemble without networks counts as one.
    """
    if not isinstance(clf, (VotingClassifier, StackingClassifier)):
        return 1.0
    cost = 0.0
    for _, member in clf.estimators:
        params = member.get_params() if hasattr(member, "get_params") else {}
        if any(key.endswith("max_epochs") for key in params):
            cost += cost_factor(params, estimator)
    if isinstance(clf, StackingClassifier):
        folds = clf.cv if isinstance(clf.cv, Integral) else 5
        cost *= folds + 1
    # priced at least as one network, as a lone SVM candidate is
    return max(cost, 1.0)


def cost_factor(param_distributions, estimator):
    """A candidate's mean cost relative to the estimator's default recipe.

    `param_distributions` is a grid or a list of grids, or one candidate's
    settings (a dict of single values). The cost is that of the epochs and
    the pixel area over the default's, times the networks a candidate trains
    (several for an ensemble).
    """
    grids = param_distributions if isinstance(param_distributions, list) else [
        param_distributions
    ]
    grids = [
        {key: value if isinstance(value, list) else [value] for key, value in grid.items()}
        for grid in grids
    ]
    defaults = estimator.get_params()
    factor = 1.0
    if "clf__max_epochs" in defaults:
        base = defaults["clf__max_epochs"]
        factor *= _mean_choice(grids, "clf__max_epochs", base) / base
    if "resize__size" in defaults and isinstance(defaults["resize__size"], Integral):
        base = defaults["resize__size"]
        sizes = [s for g in grids for s in g.get("resize__size", [base])]
        factor *= float(np.mean([(s / base) ** 2 for s in sizes if isinstance(s, Real)] or [1.0]))
    networks = [
        np.mean([_ensemble_cost(clf, estimator) for clf in grid.get("clf", [None])])
        for grid in grids
    ]
    return factor * float(np.mean(networks))
