"""Stopping a search's network fits when its time is up."""

# License: BSD 3 clause

import time

from sklearn.base import clone
from skorch.callbacks import EarlyStopping

__all__ = ["SearchClock", "callback_keys", "with_deadline", "without_deadline"]


class SearchClock:
    """The wall-clock deadline of one search, shared by all its candidates.

    Copying (which scikit-learn's ``clone`` does to every parameter that is
    not an estimator) returns the same clock, so the search can move or lift
    the deadline of fits it has already cloned; pickling (to a parallel
    worker) carries the deadline as it was.

    Parameters
    ----------
    deadline : float or None, default=None
        The ``time.time()`` after which network fits stop; None never.
    """

    def __init__(self, deadline=None):
        self.deadline = deadline

    def __deepcopy__(self, memo):
        return self

    def expired(self):
        """Return whether the deadline has passed."""
        return self.deadline is not None and time.time() > self.deadline


class DeadlineStop(EarlyStopping):
    """A skorch callback that ends training after the epoch that passes a deadline.

    A subclass of skorch's ``EarlyStopping`` because a network that stops
    early is a fitted network: sklipo treats any other interruption of
    training as a failed fit. It always lets the first epoch finish.

    Parameters
    ----------
    clock : SearchClock
        The deadline.
    """

    # class attributes, not parameters: skorch takes every public instance
    # attribute for a parameter
    patience = 1
    load_best = False

    def __init__(self, clock=None):  # no super().__init__(): see above
        self.clock = clock

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0

    def on_epoch_end(self, net, **kwargs):
        if self.clock is not None and self.clock.expired():
            self.misses_ = self.patience
            raise KeyboardInterrupt


def callback_keys(estimator):
    """The ``callbacks`` parameters (list or None) of `estimator` and its parts, by key."""
    params = estimator.get_params()
    return {
        key: value
        for key, value in params.items()
        if key.split("__")[-1] == "callbacks" and isinstance(value, (list, type(None)))
    }


def with_deadline(estimator, clock):
    """Return a clone of `estimator` whose networks stop when `clock` expires.

    Every ``callbacks`` parameter (list or None) of `estimator` and its
    steps gets a :class:`DeadlineStop`; an estimator without one is
    returned as a plain clone.

    Parameters
    ----------
    estimator : estimator
        The pipeline.
    clock : SearchClock
        The deadline.

    Returns
    -------
    estimator : estimator
        The clone.
    """
    estimator = clone(estimator)
    keys = callback_keys(estimator)
    estimator.set_params(
        **{key: list(value or []) + [DeadlineStop(clock)] for key, value in keys.items()}
    )
    return estimator


def without_deadline(estimator):
    """Remove the :class:`DeadlineStop` callbacks from `estimator`, in place.

    Parameters
    ----------
    estimator : estimator
        A (possibly fitted) pipeline made by :func:`with_deadline`.

    Returns
    -------
    estimator : estimator
        The same object.
    """
    stripped = {}
    for key, value in callback_keys(estimator).items():
        if value and any(isinstance(item, DeadlineStop) for item in value):
            kept = [item for item in value if not isinstance(item, DeadlineStop)]
            stripped[key] = kept or None
    estimator.set_params(**stripped)
    return estimator
