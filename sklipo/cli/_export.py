"""``sklipo export``: a trained LipNet model to ONNX."""

# License: BSD 3 clause

from sklipo.cli._common import CommandError, _check_out

__all__ = []


def _export(args):
    """Export a LipNet model saved by 'sklipo train' to ONNX, for any ONNX runtime."""
    from sklipo.deployment import export_onnx, load

    out = _check_out(args.out, args.force, flag="OUT")
    estimator = load(args.model)
    try:
        export_onnx(estimator, out, verbose=args.verbose)
    except (TypeError, ImportError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"Exported to {out}")
    return 0
