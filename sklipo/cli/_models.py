"""The models the ``sklipo`` commands compare and train, by name."""

# License: BSD 3 clause

import argparse

from sklipo.cli._common import _LIPNETS, _MODELS

__all__ = []


def _make_model(name, args):
    """The named model, preprocessing included, as an unfitted pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

    if name == "svm":
        from sklipo.features import make_svm_baseline

        return make_svm_baseline(probability=args.probability)
    steps = [("crop", CropParticle(args.input_mode)), ("normalize", IntensityNormalizer("quantile"))]
    if name == "logistic":
        steps += [
            ("resize", Resize(args.size)),
            ("flatten", Flatten()),
            ("clf", LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)),
        ]
        return Pipeline(steps)
    from sklipo.classifier import LipNetClassifier

    if name in _LIPNETS:
        steps.append(("resize", Resize(args.size)))
    net = LipNetClassifier(
        name,
        max_epochs=args.epochs,
        balanced_batches=True,
        verbose=int(args.verbose),
        random_state=args.random_state,
    )
    return Pipeline([*steps, ("net", net)])


def _model_names(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in _MODELS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(_MODELS)}"
        )
    if len(set(names)) < len(names):
        raise argparse.ArgumentTypeError(f"a model is listed twice: {text}")
    return names
