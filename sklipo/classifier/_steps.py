"""Finding the LipNetClassifier at the end of a fitted pipeline, and the steps before it."""

# License: BSD 3 clause

from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from sklipo.classifier._lipnet_classifier import LipNetClassifier

__all__ = ["split_lipnet", "transform_before"]


def split_lipnet(estimator):
    """Return the steps before the LipNetClassifier that ends `estimator`, and it.

    Pipelines nested in a last step, and ``FrozenEstimator`` wrappers, are
    stepped into; the names of steps inside a nested pipeline get its name
    and ``"__"`` in front, as in ``get_params``.

    Parameters
    ----------
    estimator : object
        A LipNetClassifier, or a (scikit-learn or imbalanced-learn) Pipeline
        or FrozenEstimator ending in one, or anything else.

    Returns
    -------
    steps : list of (str, object)
        The steps applied before the classifier, in order, as given (a step
        may itself be a pipeline, "passthrough", None or a sampler).
    classifier : LipNetClassifier or None
        The classifier; None when `estimator` does not end in one.
    """
    steps, prefix = [], ""
    while not isinstance(estimator, LipNetClassifier):
        if isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
        elif isinstance(estimator, Pipeline) and estimator.steps:
            *before, (name, estimator) = estimator.steps
            steps += [(prefix + step_name, step) for step_name, step in before]
            prefix += name + "__"
        else:
            return steps, None
    return steps, estimator


def transform_before(steps, X):
    """Pass `X` through fitted `steps` as a pipeline does at prediction.

    ``"passthrough"`` and None steps are skipped, and so are samplers, which
    resample at fit only.

    Parameters
    ----------
    steps : list of (str, object)
        Fitted steps, as :func:`split_lipnet` returns them.
    X : object
        The input of the first step.

    Returns
    -------
    Xt : object
        The output of the last step.
    """
    for _, step in steps:
        if step is None or step == "passthrough" or hasattr(step, "fit_resample"):
            continue
        X = step.transform(X)
    return X
