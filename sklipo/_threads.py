"""How many threads sklipo's work runs on: torch, BLAS/OpenMP and joblib workers."""

# License: BSD 3 clause

import contextlib
import os
import sys
from numbers import Integral

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

__all__ = ["get_threads", "threads"]

# The budget set by the innermost `threads` context; None outside any.
_BUDGET = None


def _available_cores():
    """Cores this process may run on (its CPU affinity, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def get_threads():
    """Return the number of threads sklipo's work may use in all.

    The `n` of the innermost :func:`threads` context, else the cores this
    process may run on.

    Returns
    -------
    n_threads : int

    Examples
    --------
    >>> import sklipo
    >>> with sklipo.threads(1):
    ...     sklipo.get_threads()
    1
    """
    return _available_cores() if _BUDGET is None else _BUDGET


def _torch():
    # torch-free packages (features, compare) use this module too: touch torch
    # only where something has imported it already
    return sys.modules.get("torch")


@contextlib.contextmanager
def threads(n):
    """Run sklipo's work on at most `n` threads in all, then restore the settings.

    Inside the context, torch's intra-op threads and the BLAS and OpenMP
    pools (through :func:`threadpoolctl.threadpool_limits`) are set to `n`.
    sklipo's own joblib parallelism (``n_jobs`` of
    :func:`~sklipo.compare.compare` and
    :class:`~sklipo.features.ParticleFeatures`) then runs at most `n`
    workers, and each of its ``k`` workers gets ``n // k`` threads (at least
    one), as scikit-learn limits BLAS in its workers: ``k`` workers of ``n``
    threads each on ``n`` cores wait on each other, and throughput collapses.

    The number of threads is part of what makes training reproducible: two
    fits with the same `random_state` give identical networks on the same
    machine with the same number of threads.

    Parameters
    ----------
    n : int
        Threads in all, at least 1; -1 means every available core.

    Yields
    ------
    n_threads : int
        The number of threads in force.

    Examples
    --------
    >>> import sklipo
    >>> with sklipo.threads(1):
    ...     pass  # fit and predict on one core
    """
    global _BUDGET
    if isinstance(n, bool) or not isinstance(n, Integral) or not (n >= 1 or n == -1):
        raise ValueError(f"threads must be a positive int, or -1 for every core; got {n!r}.")
    n = _available_cores() if n == -1 else int(n)
    previous = _BUDGET
    torch = _torch()
    torch_threads = None if torch is None else torch.get_num_threads()
    _BUDGET = n
    try:
        with threadpool_limits(n):
            if torch is not None:
                torch.set_num_threads(n)
            yield n
    finally:
        _BUDGET = previous
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)


def parallel_jobs(n_jobs):
    """The number of joblib workers for `n_jobs`, at most the thread budget."""
    n_workers = effective_n_jobs(n_jobs)
    if _BUDGET is not None and (n_jobs is None or n_jobs < 0):
        n_workers = min(n_workers, _BUDGET)
    return n_workers


def worker_threads(n_workers):
    """Threads each of `n_workers` parallel workers may use."""
    return max(1, get_threads() // max(1, n_workers))


class WithThreads:
    """Call `function` with at most `n_threads` torch, BLAS and OpenMP threads.

    Wrap the function of a joblib task with it, so that ``k`` workers share
    the cores instead of each taking all of them; the settings are restored
    after the call (a worker runs further tasks, maybe of other code).

    Parameters
    ----------
    function : callable
        The task.
    n_threads : int
        Threads for the duration of the call.
    """

    def __init__(self, function, n_threads):
        self.function = function
        self.n_threads = n_threads

    def __call__(self, *args, **kwargs):
        global _BUDGET
        previous = _BUDGET
        torch = _torch()
        torch_threads = None if torch is None else torch.get_num_threads()
        _BUDGET = self.n_threads
        try:
            with threadpool_limits(self.n_threads):
                if torch is not None:
                    torch.set_num_threads(self.n_threads)
                return self.function(*args, **kwargs)
        finally:
            _BUDGET = previous
            if torch_threads is not None:
                torch.set_num_threads(torch_threads)
