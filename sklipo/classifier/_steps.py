"""Walking fitted pipelines: their flat steps, the LipNetClassifier ending them."""

# License: BSD 3 clause

from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline

from sklipo.classifier._lipnet_classifier import LipNetClassifier

__all__ = ["flat_steps", "split_lipnet", "transform_before"]


def flat_steps(estimator, *, name=""):
    """Return the steps of a (possibly nested) pipeline, in order, as one flat list.

    Nested pipelines, and ``FrozenEstimator`` wrappers, are stepped into; the
    names of steps inside a nested pipeline get its name and ``"__"`` in
    front, as in ``get_params``. Passing `X` through the flat steps in turn
    is what the pipeline's ``transform`` does.

    Parameters
    ----------
    estimator : object
        A (scikit-learn or imbalanced-learn) Pipeline, a FrozenEstimator, or
        any other estimator.
    name : str, default=""
        The name given to `estimator` itself when it is not a pipeline.

    Returns
    -------
    steps : list of (str, object)
        The steps as given (a step may be "passthrough", None or a sampler);
        ``[(name, estimator)]`` for an estimator that is not a pipeline.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.svm import SVC
    >>> pipeline = make_pipeline(make_pipeline(StandardScaler()), SVC())
    >>> [name for name, _ in flat_steps(pipeline)]
    ['pipeline__standardscaler', 'svc']
    """
    estimator = _unfrozen(estimator)
    if not isinstance(estimator, Pipeline):
        return [(name, estimator)]
    return list(_walk(estimator, ""))


def _unfrozen(estimator):
    while isinstance(estimator, FrozenEstimator):
        estimator = estimator.estimator
    return estimator


def _walk(pipeline, prefix):
    for name, step in pipeline.steps:
        step = _unfrozen(step)
        if isinstance(step, Pipeline):
            yield from _walk(step, f"{prefix}{name}__")
        else:
            yield prefix + name, step


def split_lipnet(estimator):
    """Return the steps before the LipNetClassifier that ends `estimator`, and it.

    Parameters
    ----------
    estimator : object
        A LipNetClassifier, or a (scikit-learn or imbalanced-learn) Pipeline
        or FrozenEstimator ending in one, or anything else.

    Returns
    -------
    steps : list of (str, object)
        The steps applied before the classifier, in order, flat as
        :func:`flat_steps` gives them; empty without a classifier.
    classifier : LipNetClassifier or None
        The classifier; None when `estimator` does not end in one.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklipo.classifier import LipNetClassifier, split_lipnet
    >>> from sklipo.preprocessing import Resize
    >>> split_lipnet(make_pipeline(Resize(32), LipNetClassifier()))
    ([('resize', Resize(size=32))], LipNetClassifier())
    """
    steps = flat_steps(estimator)
    if not steps or not isinstance(steps[-1][1], LipNetClassifier):
        return [], None
    return steps[:-1], steps[-1][1]


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
