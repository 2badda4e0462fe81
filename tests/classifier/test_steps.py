"""Tests of finding the LipNetClassifier at the end of a pipeline."""

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline as ImbPipeline
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from sklipo.classifier import LipNetClassifier, flat_steps, split_lipnet, transform_before


def test_split_lipnet_steps_into_nested_pipelines_and_frozen_estimators():
    # Check the steps before the classifier, named as get_params names them.
    clf = LipNetClassifier()
    double = FunctionTransformer(lambda X: 2 * X)
    inner = Pipeline([("double", double), ("net", clf)])
    outer = Pipeline([("skip", "passthrough"), ("model", FrozenEstimator(inner))])
    steps, found = split_lipnet(outer)
    assert found is clf
    assert steps == [("skip", "passthrough"), ("model__double", double)]
    assert split_lipnet(clf) == ([], clf)


def test_flat_steps_flattens_pipelines_anywhere():
    # Check that nested pipelines in any position are stepped into.
    a, b, c = FunctionTransformer(), FunctionTransformer(), SVC()
    pipeline = Pipeline([("first", make_pipeline(a, FrozenEstimator(make_pipeline(b)))), ("svc", c)])
    assert flat_steps(pipeline) == [
        ("first__functiontransformer", a),
        ("first__frozenestimator__functiontransformer", b),
        ("svc", c),
    ]
    assert flat_steps(c, name="model") == [("model", c)]
    assert flat_steps(FrozenEstimator(c)) == [("", c)]


def test_split_lipnet_without_a_lipnet():
    # Check that anything not ending in a LipNetClassifier gives None.
    assert split_lipnet(make_pipeline(FunctionTransformer(), SVC()))[1] is None
    assert split_lipnet(SVC())[1] is None
    assert split_lipnet(Pipeline([("net", LipNetClassifier()), ("svc", SVC())])) == ([], None)
    assert split_lipnet(Pipeline([])) == ([], None)


def test_transform_before_skips_passthrough_and_samplers():
    # Check prediction-time semantics: samplers and passthrough do nothing.
    X = np.arange(6.0).reshape(3, 2)
    pipeline = ImbPipeline(
        [
            ("skip", "passthrough"),
            ("sample", RandomOverSampler()),
            ("add", FunctionTransformer(lambda X: X + 1)),
            ("net", LipNetClassifier()),
        ]
    )
    steps, _ = split_lipnet(pipeline)
    np.testing.assert_array_equal(transform_before(steps, X), X + 1)
