"""Tests of the anchors and the deadline of a budgeted search."""

import time
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import VotingClassifier

from sklipo.datasets import make_liposomes
from sklipo.model_selection import make_search, recipe_anchors, recipe_pipeline
from sklipo.model_selection._deadline import (
    DeadlineStop,
    SearchClock,
    with_deadline,
    without_deadline,
)

RND_SEED = 0


@pytest.fixture(scope="module")
def data():
    X, y = make_liposomes(n_samples=36, weights=[1, 1, 1], pixel_size=4.0,
                          surrounding=4, return_X_y=True, random_state=RND_SEED)
    return X, y


def _small_pipeline(epochs):
    return recipe_pipeline(random_state=RND_SEED).set_params(
        resize__size=12, clf__architecture="lipnet1", clf__max_epochs=epochs
    )


def test_expired_clock_stops_training_after_one_epoch(data):
    """Check that a passed deadline ends a fit after its first epoch, leaving it fitted."""
    X, y = data
    clock = SearchClock(deadline=time.time() - 1.0)
    pipeline = with_deadline(_small_pipeline(epochs=5), clock)
    # clones share the clock, so the search can move the deadline of clones it made
    assert clone(pipeline).get_params()["clf__callbacks"][0].clock is clock
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.fit(X, y)
    assert pipeline[-1].n_epochs_ == 1
    assert pipeline.predict(X).shape == (len(y),)
    clock.deadline = None  # lifted: the full epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert clone(pipeline).fit(X, y)[-1].n_epochs_ == 5


def test_without_deadline_restores_the_callbacks():
    """Check that the deadline callback is added to, and then removed from, the network."""
    pipeline = with_deadline(_small_pipeline(epochs=1), SearchClock())
    assert [type(c) for c in pipeline.get_params()["clf__callbacks"]] == [DeadlineStop]
    assert without_deadline(pipeline).get_params()["clf__callbacks"] is None


def _network_settings(anchor):
    """An anchor's network settings: its own, or its seed ensemble's first member's."""
    clf = anchor.get("clf")
    if isinstance(clf, VotingClassifier):
        return clf.estimators[0][1].get_params()
    return anchor


def test_anchors_follow_the_search_choices():
    """Check the anchors: left out when their family or treatment is, no epochs as resource."""
    anchors = recipe_anchors()
    assert [_network_settings(a).get("crop__mode", a.get("crop")) for a in anchors] == [
        "masked", "cropped", "surrounding", "passthrough"
    ]
    assert all(_network_settings(a)["clf__balanced_batches"] for a in anchors[:3])
    assert len(recipe_anchors(families=("lipnet",))) == 3
    assert len(recipe_anchors(imbalance=("class_weight",))) == 1  # the SVM only
    epochs = recipe_anchors(families=("lipnet",), resource="epochs")
    assert epochs and not any("clf__max_epochs" in a for a in epochs)
    small = recipe_anchors(image_sizes=(48, 64), epochs=(15,), architectures=("lipnet2",))
    settings = _network_settings(small[0])
    assert settings["resize__size"] == 48 and settings["clf__max_epochs"] == 15
    assert settings["clf__architecture"] == "lipnet2"


def test_network_anchors_are_seed_ensembles():
    """Check that each network anchor is a soft vote of networks that differ in their seed."""
    anchors = recipe_anchors(families=("lipnet",), random_state=RND_SEED)
    for anchor in anchors:
        assert anchor["crop"] == anchor["resize"] == "passthrough"
        vote = anchor["clf"]
        assert vote.voting == "soft" and len(vote.estimators) == 3
        seeds = [member.get_params()["clf__random_state"] for _, member in vote.estimators]
        assert len(set(seeds)) == 3 and all(isinstance(seed, int) for seed in seeds)
    again = recipe_anchors(families=("lipnet",), random_state=RND_SEED)
    assert str(again) == str(anchors)  # the same seeds for the same random_state
    unseeded = recipe_anchors(families=("lipnet",))[0]["clf"]
    assert [m.get_params()["clf__random_state"] for _, m in unseeded.estimators] == [None] * 3
    singles = recipe_anchors(families=("lipnet",), n_seeds=1)
    assert [a["crop__mode"] for a in singles] == ["masked", "cropped", "surrounding"]


def test_budgeted_search_tries_the_anchors_first_and_strips_the_deadline(data):
    """Check that the anchors lead the first round, and the refitted model has no deadline."""
    X, y = data
    search = make_search(
        budget=6.0, families=("lipnet", "svm"), architectures=("lipnet1",),
        image_sizes=(12,), epochs=(1,), imbalance=("balanced_batches",), cv=2,
        random_state=RND_SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    first = [p for p, it in zip(search.cv_results_["params"], search.cv_results_["iter"])
             if it == 0]
    n_anchors = min(len(search.anchors), search.budget_plan_["n_candidates"])
    assert [str(p) for p in first[:n_anchors]] == [str(a) for a in search.anchors[:n_anchors]]
    callbacks = search.best_estimator_.get_params().get("clf__callbacks")
    assert not any(isinstance(c, DeadlineStop) for c in callbacks or [])
    assert search.get_params()["estimator"].get_params()["clf__callbacks"] is None


def test_networks_inside_an_ensemble_candidate_stop_at_the_deadline(data):
    """Check that a budgeted search's ensemble candidates get the deadline, and lose it after."""
    X, y = data
    search = make_search(
        budget=1.0, families=("lipnet",), architectures=("lipnet1",), image_sizes=(12,),
        epochs=(4,), imbalance=("balanced_batches",), n_candidates=1, cv=2,
        random_state=RND_SEED,
    )
    search.budget_plan_, search._clock = {}, SearchClock(deadline=time.time() - 1.0)
    (candidate,) = search._generate_candidate_params()
    vote = candidate["clf"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = clone(vote).fit(X, y)  # cloned as the search clones it
    epochs = [member[-1].n_epochs_ for member in fitted.estimators_]
    assert epochs == [1, 1, 1]
    assert search.anchors[0]["clf"].get_params()["seed0__clf__callbacks"] is None

    search = make_search(
        budget=5.0, families=("lipnet",), architectures=("lipnet1",), image_sizes=(12,),
        epochs=(1,), imbalance=("balanced_batches",), cv=2, random_state=RND_SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    votes = [params["clf"] for params in search.cv_results_["params"] if "clf" in params]
    assert votes  # the anchors
    for vote in votes:
        assert all(vote.get_params()[f"seed{i}__clf__callbacks"] is None for i in range(3))


def test_refit_gets_the_chosen_candidates_time():
    """Check that the refit's deadline is priced by the chosen candidate, not the mean one."""
    search = make_search(budget=60.0, families=("lipnet", "svm"), random_state=RND_SEED)
    search._clock, search._refit_window = SearchClock(), (time.time(), 10.0)
    results = {
        "iter": np.array([0, 0]),
        "mean_test_score": np.array([0.5, 0.9]),
        "params": [search.anchors[-1], search.anchors[0]],  # the SVM, a 3-seed ensemble
    }
    assert search._select_best_index(True, "score", results) == 1
    assert search._clock.deadline == pytest.approx(time.time() + 30.0, abs=1.0)
