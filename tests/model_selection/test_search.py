"""Tests of make_search, BudgetedHalvingSearchCV and the search report."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import HalvingRandomSearchCV, ParameterSampler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklipo.compare import compare
from sklipo.datasets import make_liposomes
from sklipo.model_selection import (
    BudgetedHalvingSearchCV,
    describe_recipe,
    make_search,
    recipe_anchors,
    recipe_pipeline,
    recipe_space,
    search_report,
)
from sklipo.model_selection._plan import _schedule, best_schedule, cost_factor

RND_SEED = 0


@parametrize_with_checks(
    [BudgetedHalvingSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2, random_state=0)],
    expected_failed_checks=lambda est: {
        "check_fit2d_1sample": "a search cannot cross-validate one sample (as "
        "scikit-learn's own HalvingRandomSearchCV)"
    },
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_make_search_returns_an_unfitted_halving_search():
    """Check the defaults: balanced accuracy, a list of grids, every family."""
    search = make_search(random_state=RND_SEED)
    assert isinstance(search, HalvingRandomSearchCV)
    assert search.scoring == "balanced_accuracy" and search.resource == "n_samples"
    assert not [key for key in vars(search) if key.endswith("_")]
    families = {describe_recipe(clone(search.estimator).set_params(**params))["family"]
                for params in ParameterSampler(search.param_distributions, 200, random_state=0)}
    assert {"lipnet", "lipnet_fcn", "svm"} <= families
    assert {f for f in families if f.startswith("ensemble")} == {
        "ensemble (soft voting)", "ensemble (stacking)"
    }


@pytest.mark.parametrize("resource", ["n_samples", "epochs"])
def test_every_candidate_is_a_valid_setting_of_the_pipeline(resource):
    """Check that every grid sets existing parameters, and epochs are not searched as a resource."""
    families = ("lipnet", "lipnet_fcn") if resource == "epochs" else ("lipnet", "lipnet_fcn", "svm", "ensemble")
    grids = recipe_space(families=families, resource=resource, random_state=RND_SEED)
    for grid in grids:
        for params in ParameterSampler(grid, 3, random_state=0):
            clone(recipe_pipeline()).set_params(**clone(params, safe=False))
            if resource == "epochs":
                assert "clf__max_epochs" not in params


def test_make_search_refuses_epochs_with_svm():
    with pytest.raises(ValueError, match="resource='epochs'"):
        make_search(resource="epochs")
    with pytest.raises(ValueError, match="unknown"):
        make_search(families=("lipnet", "forest"))


def test_schedule_follows_sklearn_rounds():
    """Check the planned rounds: candidates divided, resources multiplied by factor."""
    rounds, first = _schedule(27, 10, 900, 3)
    assert rounds == [(27, 33), (9, 99), (3, 297), (1, 891)] and first == 33
    rounds, _ = _schedule(2, 10, 900, 3)
    assert rounds == [(2, 900)]  # one round: straight to all resources


def test_best_schedule_fits_the_budget():
    """Check that more seconds buy more candidates, and the cost stays within them."""
    def flat(n):
        return 1.0

    small = best_schedule(100.0, 0.01, 5.0, 20, 1000, 3, flat)
    large = best_schedule(1000.0, 0.01, 5.0, 20, 1000, 3, flat)
    assert large["n_candidates"] > small["n_candidates"] >= 1
    assert large["estimated_seconds"] <= 1000.0


def test_best_schedule_counts_cheap_anchors():
    """Check that candidates cheaper than the mean (the anchors) buy more of them."""

    def mean_only(n):
        return 3.0

    def cheap_anchors(n):
        return (min(n, 3) * 1.0 + max(n - 3, 0) * 3.0) / n

    costly = best_schedule(300.0, 0.01, 5.0, 20, 1000, 3, mean_only)
    cheap = best_schedule(300.0, 0.01, 5.0, 20, 1000, 3, cheap_anchors)
    assert cheap["n_candidates"] > costly["n_candidates"]
    assert cheap["estimated_seconds"] <= 300.0 and cheap["refit_seconds"] < 15.0


def test_cost_counts_the_networks_of_an_ensemble():
    """Check that an ensemble costs its members' networks, stacking once per fold and refit."""
    pipeline = recipe_pipeline()
    seeds, svm = recipe_anchors(families=("lipnet", "svm"), random_state=RND_SEED)[::3]
    assert cost_factor(seeds, pipeline) == pytest.approx(3.0)
    assert cost_factor(svm, pipeline) == pytest.approx(1.0)
    big = recipe_anchors(families=("lipnet",), image_sizes=(56,), epochs=(60,))[0]
    assert cost_factor(big, pipeline) == pytest.approx(3 * 2 * 4)
    (grid,) = recipe_space(families=("ensemble",), random_state=RND_SEED)
    voting, stacking = grid["clf"]  # one network and the SVM; stacking with cv=3
    assert cost_factor({**grid, "clf": voting}, pipeline) == pytest.approx(1.0)
    assert cost_factor({**grid, "clf": stacking}, pipeline) == pytest.approx(4.0)
    assert cost_factor(grid, pipeline) == pytest.approx(2.5)
    svms = VotingClassifier([("a", svm["clf"]), ("b", clone(svm["clf"]))], voting="soft")
    assert cost_factor({**svm, "clf": svms}, pipeline) == pytest.approx(1.0)  # as one SVM


def test_describe_recipe_names_a_seed_ensemble():
    """Check that a soft vote of seeds is described by its recipe, other votes by kind."""
    seeds = recipe_anchors(families=("lipnet",), random_state=RND_SEED)[1]
    recipe = describe_recipe(recipe_pipeline().set_params(**seeds))
    assert recipe["family"] == "lipnet (soft vote of 3 seeds)"
    assert recipe["input"] == "cropped" and recipe["architecture"] == "lipnet4"
    mixed = clone(seeds["clf"])
    mixed.estimators[2][1].set_params(crop__mode="masked")
    recipe = describe_recipe(recipe_pipeline().set_params(**{**seeds, "clf": mixed}))
    assert recipe == {"family": "ensemble (soft voting)", "classifier": "VotingClassifier"}


def _tiny_search(**params):
    params = {"n_candidates": 3, **params}
    return make_search(
        families=("lipnet", "svm"),
        architectures=("lipnet1",),
        image_sizes=(12,),
        epochs=(1,),
        imbalance=("balanced_batches", "logit_adjusted"),
        cv=2,
        random_state=RND_SEED,
        **params,
    )


@pytest.fixture(scope="module")
def data():
    X, y = make_liposomes(n_samples=36, weights=[1, 1, 1], pixel_size=4.0,
                          surrounding=4, return_X_y=True, random_state=RND_SEED)
    return X, y


def test_search_is_deterministic_and_picklable(data):
    """Check that a seeded search chooses and predicts the same, also after pickling."""
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = _tiny_search().fit(X, y)
        second = _tiny_search().fit(X, y)
    # the same candidates (estimators in them compare by their repr)
    assert str(first.cv_results_["params"]) == str(second.cv_results_["params"])
    np.testing.assert_array_equal(first.cv_results_["mean_test_score"],
                                  second.cv_results_["mean_test_score"])
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(second.predict_proba(X), proba)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(first)).predict_proba(X), proba)
    report = search_report(first)
    assert "## Chosen recipe" in report and "## Leaderboard" in report
    # the anchors' seed ensembles are listed by their members' recipe
    assert "3 seeds of: input=masked;" in report and "3 seeds of: input=cropped;" in report


def test_budget_plans_the_search(data):
    """Check that a budget is planned from a pilot, recorded, and restores the parameters."""
    X, y = data
    search = _tiny_search(budget=20.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    plan = search.budget_plan_
    assert plan["budget"] == 20.0 and plan["n_candidates"] >= 1
    assert len(search.cv_results_["params"]) >= plan["n_candidates"]
    assert search.n_candidates == 3  # the parameter is left as given
    assert search.elapsed_ > 0 and "budget: 20 s" in search_report(search)


def test_compare_takes_the_search_as_a_model(data):
    """Check nested CV: compare clones and fits the search in every outer fold."""
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare({"searched": _tiny_search(n_candidates=2)}, X, y, cv=2)
    assert (result.status == "ok").all()
