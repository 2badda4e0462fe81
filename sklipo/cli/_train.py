"""``sklipo train``: train one model and save it."""

# License: BSD 3 clause

import time

from sklipo._progress import limit_threads
from sklipo.cli._common import CommandError, _check_out
from sklipo.cli._data import _cutout_arguments, _is_yolo_folder, _load_labelled
from sklipo.cli._models import _make_model
from sklipo.cli._population import fit_population, population_path

__all__ = []


def _train(args):
    """Train one model on a labelled data set; save it with joblib and a model card."""
    from sklipo.deployment import card_path, save

    out = _check_out(args.out, args.force)
    X, y, names = _load_labelled(args)
    model = _make_model(args.model, args)
    start = time.perf_counter()
    print(f"Training {args.model} on {len(X)} particles...", flush=True)
    population = None
    with limit_threads(args.threads):
        if args.prevalence or args.coverage is not None:
            print("  with 5 more fits for the class shares and/or prediction sets", flush=True)
            try:
                model, population = fit_population(
                    model, X, names[y], prevalence=args.prevalence, coverage=args.coverage,
                    random_state=args.random_state,
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        else:
            _fit_with_progress(model, X, names[y], args)
    print(f"Trained {args.model} in {time.perf_counter() - start:.1f} s.")
    command = {"model": args.model, "masks": not args.no_masks, "input_mode": args.input_mode}
    cutout = None
    if args.data is not None and _is_yolo_folder(args.data):
        # How the particles were cut out of their micrographs, for 'sklipo predict
        # --micrographs', and the particles' size range (geometric-mean box sides, px).
        cutout = _cutout_arguments(args)
        command["box_sides"] = args.box_sides
    save(model, out, X=X, y=names[y], cutout=cutout, metadata={"sklipo_train": command},
         overwrite=args.force)
    print(f"Saved to {out} (model card: {card_path(out)})")
    if population is not None:
        save(population, population_path(out), metadata={"sklipo_train": command},
             overwrite=True)
        print(f"Saved the class-share estimator and/or prediction sets to {population_path(out)}")
    return 0


def _fit_with_progress(model, X, y, args):
    """Fit `model`, reporting each epoch of a network: a bar on a terminal, else lines.

    A network gets an :class:`~sklipo._epoch_progress.EpochProgress` skorch
    callback for the fit; ``--verbose`` shows skorch's per-epoch table
    instead.
    """
    net = model.named_steps.get("net") if hasattr(model, "named_steps") else None
    if net is None or args.verbose:
        model.fit(X, y)
        return
    from sklipo._epoch_progress import EpochProgress

    callbacks = net.callbacks
    net.set_params(callbacks=[*(callbacks or ()), EpochProgress("[train] epoch")])
    try:
        model.fit(X, y)
    finally:
        # the saved model refits as quietly as it was asked to
        net.set_params(callbacks=callbacks)
