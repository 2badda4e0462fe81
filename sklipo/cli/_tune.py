"""``sklipo tune``: search the best recipe within a time budget."""

# License: BSD 3 clause

from sklipo._progress import limit_threads
from sklipo.cli._common import _check_folds, _check_out
from sklipo.cli._data import _load_labelled

__all__ = []


def _tune(args):
    """Search the best recipe for a data set within a time budget; save it and a report."""
    from sklipo.deployment import card_path, save
    from sklipo.model_selection import make_search, search_report

    out = _check_out(args.out, args.force)
    X, y, names = _load_labelled(args)
    _check_folds(args.cv, y, names)
    search = make_search(
        budget=args.budget,
        families=tuple(args.families.split(",")),
        cv=args.cv,
        random_state=args.random_state,
        verbose=int(args.verbose),
    )
    print(f"Searching recipes on {len(X)} particles for {args.budget:.0f} s...", flush=True)
    with limit_threads(args.threads):
        search.fit(X, names[y])
    report = search_report(search)
    command = {"budget_seconds": args.budget, "families": args.families}
    save(search.best_estimator_, out, X=X, y=names[y],
         metadata={"sklipo_tune": command, "search_report": report}, overwrite=args.force)
    report_path = out.with_suffix(".md")
    report_path.write_text(report, encoding="utf-8")
    print(report)
    print(f"Saved the best recipe to {out} (model card: {card_path(out)}); report: {report_path}")
    return 0
