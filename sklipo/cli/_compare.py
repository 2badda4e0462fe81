"""``sklipo compare``: cross-validate models side by side."""

# License: BSD 3 clause

import sys
import time

from sklipo._progress import limit_threads
from sklipo.cli._common import _check_folds, _check_out
from sklipo.cli._data import _data_description, _load_labelled
from sklipo.cli._models import _make_model

__all__ = []


def _compare(args):
    """Cross-validate models side by side on the same folds and write a report."""
    from sklipo.compare import compare

    if args.out is not None:
        import matplotlib

        # The report's PNGs are written to files: no window, no display needed.
        matplotlib.use("Agg")
        _check_out(args.out, args.force, folder=True)
    start = time.perf_counter()
    X, y, names = _load_labelled(args)
    _check_folds(args.cv, y, names)
    models = {name: _make_model(name, args) for name in args.models}
    print(f"Models: {', '.join(models)}; {args.cv}-fold cross-validation")
    from sklipo.utils import dask_backend

    with limit_threads(args.threads), dask_backend(args.scheduler) as client:
        if client is not None:
            print(f"Dask cluster: {client.scheduler.address}, {len(client.nthreads())} workers")
        result = compare(
            models,
            X,
            y,
            cv=args.cv,
            target_names=names,
            n_jobs=args.n_jobs,
            verbose=1,
            random_state=args.random_state,
            data_description=_data_description(args),
        )
    print()
    print(result.table())
    print(f"\nVerdict: {result.verdict()['text']}")
    not_run = result.not_run()
    partial = " partial" if not_run else ""
    if args.out is not None:
        out = result.save(args.out, overwrite=args.force)
        print(f"\nReport{partial}: {out / 'report.md'} (also report.html, results.json, PNGs)")
    else:
        print(
            "\nNo report written: pass --out DIR to save report.md/.html, results.json "
            "and the plots."
        )
    for error in result.errors:
        print(
            f"sklipo compare: error: {error['model']} failed on fold {error['fold'] + 1} "
            f"of {result.n_folds}: {error['error']}",
            file=sys.stderr,
        )
    if not_run:
        print(
            f"\nInterrupted after {time.perf_counter() - start:.1f} s: "
            f"{len(not_run)} of {result.status.size} fits did not run (marked 'not run').",
            file=sys.stderr,
        )
        return 130
    print(f"\nDone in {time.perf_counter() - start:.1f} s.")
    return 1 if result.errors else 0
