"""Run joblib-parallel work (compare, searches, ParticleFeatures) on a Dask cluster."""

# License: BSD 3 clause

import contextlib
import os
import re

from sklipo.utils._optional import import_optional

__all__ = ["dask_backend"]

_LOCAL = re.compile(r"local(?::(\d+))?")


def _import_distributed():
    return import_optional(
        "distributed", "dask", extra="scale", purpose="Running on a Dask cluster"
    )


@contextlib.contextmanager
def dask_backend(scheduler, *, timeout=10.0):
    """Send sklipo's (and scikit-learn's) joblib work to a Dask cluster.

    Inside the ``with`` block, every joblib ``Parallel`` that does not name
    its own backend runs its tasks on the cluster's workers through joblib's
    Dask backend: the (model, fold) fits of :func:`sklipo.compare.compare`,
    the fits of ``GridSearchCV`` and :func:`sklipo.model_selection.make_search`,
    and the batches of :class:`~sklipo.features.ParticleFeatures`. Dask
    schedules them, moves the arguments and reruns the tasks of a worker that
    is lost mid-run on another one. Particles from a particle store travel as
    the store's path and positions; each worker reads its own.

    Parameters
    ----------
    scheduler : str or None
        ``"tcp://host:8786"`` (or ``"host:8786"``): the address of a running
        ``dask-scheduler``. ``"local:N"``: a ``LocalCluster`` of ``N``
        single-threaded worker processes on this machine, closed at the end of
        the block; ``"local"``: one worker per core. None runs the block
        unchanged (joblib's own backend), so callers can pass an optional
        setting straight through.
    timeout : float, default=10.0
        Seconds to wait for the scheduler to answer.

    Yields
    ------
    client : distributed.Client or None
        The client connected to the cluster (None when `scheduler` is None).

    Raises
    ------
    ImportError
        If dask and distributed (the ``scale`` extra) are not installed.
    ValueError
        If `scheduler` is neither an address nor ``"local[:N]"``.
    ConnectionError
        If no scheduler answers at the address within `timeout` seconds.

    Examples
    --------
    >>> from sklipo.utils import dask_backend
    >>> with dask_backend(None) as client:  # no cluster: joblib as usual
    ...     print(client)
    None

    With a cluster (not run here)::

        with dask_backend("local:2"):
            result = compare(models, X, y, n_jobs=-1)
    """
    if scheduler is None:
        yield None
        return
    distributed = _import_distributed()
    from joblib import parallel_config

    scheduler = str(scheduler).strip()
    local = _LOCAL.fullmatch(scheduler)
    with contextlib.ExitStack() as stack:
        if local:
            n_workers = int(local.group(1) or os.cpu_count() or 1)
            if n_workers < 1:
                raise ValueError(f"A local cluster needs at least 1 worker; got {scheduler!r}.")
            cluster = stack.enter_context(
                distributed.LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))
        else:
            address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
            if not re.fullmatch(r"[a-z]+://[^\s/:]+(:\d+)?/?", address):
                raise ValueError(
                    "scheduler must be a Dask scheduler address such as "
                    f"'tcp://host:8786', or 'local:N'; got {scheduler!r}."
                )
            try:
                client = distributed.Client(address, timeout=timeout)
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"Could not reach a Dask scheduler at {address} within {timeout:g} s "
                    f"({type(exc).__name__}: {exc}). Check that dask-scheduler runs there "
                    "and that this machine can reach its port, or use 'local:N' for a "
                    "cluster on this machine."
                ) from exc
            stack.enter_context(client)
        with parallel_config(backend="dask"):
            yield client
