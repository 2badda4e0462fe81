"""Reading a search's result: a recipe in words, and a Markdown report."""

# License: BSD 3 clause

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["describe_recipe", "search_report"]


def _name(value):
    if isinstance(value, str) or value is None:
        return str(value)
    return type(value).__name__


def _family(estimator):
    clf = estimator.get_params().get("clf", estimator)
    kind = type(clf).__name__
    if kind == "LipNetClassifier":
        return "lipnet_fcn" if clf.architecture == "lipnet_fcn" else "lipnet"
    if kind in ("VotingClassifier", "StackingClassifier"):
        return f"ensemble ({'soft voting' if kind == 'VotingClassifier' else 'stacking'})"
    return "svm" if kind == "Pipeline" else kind


def _seed_members(clf):
    """The members of a soft vote of recipes that differ only in their seeds, or None."""
    if type(clf).__name__ != "VotingClassifier" or clf.voting != "soft":
        return None
    members = [member for _, member in clf.estimators]

    def settings(member):
        if not hasattr(member, "get_params") or "clf__architecture" not in member.get_params():
            return None
        # the leaf settings: the steps' own reprs carry their seeds
        return {
            key: repr(value)
            for key, value in member.get_params(deep=True).items()
            if not key.endswith("random_state") and key != "steps"
            and not hasattr(value, "get_params")
        }

    first = settings(members[0])
    if first is None or any(settings(member) != first for member in members[1:]):
        return None
    return members


def _imbalance(params):
    treatments = []
    if params.get("clf__class_weight") is not None:
        treatments.append(f"class_weight={params['clf__class_weight']!r}")
    if params.get("clf__balanced_batches"):
        treatments.append("balanced batches")
    if params.get("sampler") not in (None, "passthrough"):
        treatments.append(f"oversampling ({_name(params['sampler'])})")
    if params.get("clf__undersample_majority"):
        treatments.append(f"undersampling {params['clf__undersample_majority']:g} per epoch")
    loss = params.get("clf__loss", "cross_entropy")
    if loss == "logit_adjusted":
        treatments.append(f"logit-adjusted loss (tau={params.get('clf__loss_tau', 1.0):g})")
    elif loss == "balanced_softmax":
        treatments.append("balanced softmax")
    if params.get("clf__logit_adjustment"):
        treatments.append(f"post-hoc logit adjustment {params['clf__logit_adjustment']:g}")
    return ", ".join(treatments) or "none"


def describe_recipe(estimator):
    """Return the settings of a recipe pipeline in words.

    Parameters
    ----------
    estimator : Pipeline
        A pipeline made by :func:`recipe_pipeline` (fitted or not), e.g. a
        search's ``best_estimator_``.

    Returns
    -------
    recipe : dict of str to str
        ``family``, and for a LipNet ``input``, ``normalization``,
        ``image_size``, ``architecture``, ``imbalance``, ``augmentation``,
        ``epochs``, ``learning_rate`` and ``tta``; for the others the
        classifier's class.

    Examples
    --------
    >>> from sklipo.model_selection import describe_recipe, recipe_pipeline
    >>> describe_recipe(recipe_pipeline())["architecture"]
    'lipnet4'
    """
    params = estimator.get_params()
    members = _seed_members(params.get("clf"))
    if members:
        recipe = describe_recipe(members[0])
        recipe["family"] += f" (soft vote of {len(members)} seeds)"
        return recipe
    family = _family(estimator)
    if not family.startswith("lipnet"):
        return {"family": family, "classifier": _name(params.get("clf", estimator))}
    crop = params["crop"]
    normalize = params["normalize"]
    return {
        "family": family,
        "input": f"{crop.mode}" + (f" (margin {crop.margin})" if crop.margin else ""),
        "normalization": "none"
        if normalize == "passthrough"
        else f"{normalize.method}, {'per image' if normalize.per_image else 'data set'}",
        "image_size": "own size" if params["resize"] == "passthrough" else str(
            params["resize__size"]
        ),
        "architecture": params["clf__architecture"],
        "imbalance": _imbalance(params),
        "augmentation": _name(params["clf__augment"])
        if isinstance(params["clf__augment"], str) or params["clf__augment"] is None
        else repr(params["clf__augment"]),
        "epochs": str(params["clf__max_epochs"]),
        "learning_rate": f"{params['clf__lr']:g}",
        "tta": str(params["clf__tta"]),
    }


def search_report(search, *, top=10):
    """Return a fitted search's chosen recipe, plan and leaderboard as Markdown.

    Parameters
    ----------
    search : BudgetedHalvingSearchCV
        A fitted search (e.g. from :func:`make_search`).
    top : int, default=10
        Rows of the leaderboard: the candidates of the last round, then the
        earlier rounds', best first.

    Returns
    -------
    report : str
        Markdown: the best recipe and its inner-CV score, the budget plan
        against the time taken, and the leaderboard. The inner-CV score is
        optimistic (it chose the recipe); judge the recipe with nested
        cross-validation, ``compare`` with the search as a model.
    """
    check_is_fitted(search, "cv_results_")
    results = search.cv_results_
    lines = ["# Recipe search", ""]
    best = getattr(search, "best_estimator_", None)
    if best is not None:
        lines += ["## Chosen recipe", ""]
        lines += [f"- **{key}**: {value}" for key, value in describe_recipe(best).items()]
        lines += [
            "",
            f"Inner cross-validated {_scoring(search)}: {search.best_score_:.3f} (optimistic: "
            "it picked this recipe; nested CV gives the honest number).",
            "",
        ]
    plan = getattr(search, "budget_plan_", None)
    lines += ["## Budget", ""]
    if plan:
        lines += [
            f"- budget: {plan['budget']:.0f} s; planned {plan['estimated_seconds']:.0f} s; "
            f"took {search.elapsed_:.0f} s",
            f"- {plan['n_candidates']} candidates, {plan['n_iterations']} rounds from "
            f"{plan['min_resources']} to {plan['max_resources']} ({search.resource})",
        ]
    else:
        lines.append(f"- no budget; took {getattr(search, 'elapsed_', float('nan')):.0f} s")
    lines += ["", "## Leaderboard", "", "| round | resource | score | recipe |", "|---|---|---|---|"]
    order = np.lexsort((-np.nan_to_num(results["mean_test_score"], nan=-1.0), -results["iter"]))
    for i in order[:top]:
        recipe = _params_text(results["params"][i])
        score = results["mean_test_score"][i]
        lines.append(
            f"| {results['iter'][i]} | {results['n_resources'][i]} | "
            f"{'failed' if np.isnan(score) else f'{score:.3f}'} | {recipe} |"
        )
    return "\n".join(lines) + "\n"


def _scoring(search):
    return search.scoring if isinstance(search.scoring, str) else "score"


def _params_text(params):
    members = _seed_members(params.get("clf"))
    if members:  # the settings of a seed ensemble's members, not its class
        recipe = describe_recipe(members[0])
        return f"{len(members)} seeds of: " + "; ".join(
            f"{key}={value}" for key, value in recipe.items() if key != "family"
        )
    return "; ".join(f"{key}={_short(value)}" for key, value in sorted(params.items()))


def _short(value):
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return repr(value)
    if isinstance(value, Real):
        return f"{float(value):.3g}"
    return _name(value)
