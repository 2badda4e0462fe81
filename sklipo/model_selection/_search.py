"""A successive-halving search over whole particle pipelines, planned to a time budget."""

# License: BSD 3 clause

import contextlib
import math
import time
from numbers import Real

import numpy as np
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    HalvingRandomSearchCV,
    ParameterSampler,
    check_cv,
)
from sklearn.utils._param_validation import Interval

from sklipo.model_selection._deadline import (
    SearchClock,
    callback_keys,
    with_deadline,
    without_deadline,
)
from sklipo.model_selection._plan import best_schedule, cost_factor, pilot
from sklipo.model_selection._space import (
    _ARCHITECTURES,
    _EPOCHS,
    _IMAGE_SIZES,
    FAMILIES,
    IMBALANCE_TREATMENTS,
    recipe_anchors,
    recipe_pipeline,
    recipe_space,
)

__all__ = ["BudgetedHalvingSearchCV", "make_search"]

# a rarest class needs about this many training samples in the smallest round
_MIN_RARE = 6


class BudgetedHalvingSearchCV(HalvingRandomSearchCV):
    """Successive halving over random candidates, sized to a wall-clock budget.

    scikit-learn's :class:`~sklearn.model_selection.HalvingRandomSearchCV`
    with two more parameters, `anchors` (settings that are always among the
    first round's candidates, ahead of the drawn ones) and `budget`. Without
    them, the search is exactly the parent's. With a budget, `fit` first
    plans the search:

    1. a *pilot* times one epoch of the estimator as given (the pipeline's
       default recipe) on a stratified subset of up to 200 particles, giving
       seconds per particle and epoch;
    2. the cost of a candidate relative to the pilot is estimated from its
       epochs and its pixel area over 28x28: an anchor's from its own
       settings, a drawn one's as the mean over the parameter grids;
    3. the smallest resource is raised so that the rarest class keeps about 6
       training particles in the first round (``resource="n_samples"``
       subsamples without stratifying);
    4. ``n_candidates`` and ``min_resources`` are chosen as the largest
       number of candidates whose rounds (each candidate of round ``i`` fitted
       on every fold with ``min_resources * factor**i``), plus the final
       refit, fit in what is left of the budget.

    The plan is recorded in ``budget_plan_`` and the time taken in
    ``elapsed_``. The estimate is only as good as the cost model
    (architectures and samplers differ in cost, the SVM costs far less than a
    network), so the budget is also *enforced* on the networks: once the
    search has used its budget less the refit's estimated time, every network
    fit of the search (a ``callbacks`` parameter of the estimator's steps, or
    of an ensemble's members) ends after its current epoch, so the rounds
    left finish quickly (and rank their candidates on fewer epochs); the
    refit of the best candidate then stops at the end of the budget, but gets
    at least its estimated time. Fits without epochs (the SVM, a stacking
    ensemble's final estimator) are not stopped, so a search can still end
    somewhat after its budget; compare ``elapsed_`` with ``budget``.

    Parameters
    ----------
    estimator : estimator
        The pipeline whose settings are the candidates.
    param_distributions : dict or list of dict
        The candidates' settings (see
        :class:`~sklearn.model_selection.HalvingRandomSearchCV`).
    budget : float, default=None
        Wall-clock seconds for the whole `fit` (pilot, search and refit);
        None searches `n_candidates` as given.
    anchors : list of dict, default=None
        Settings that are always candidates of the first round (as many as
        it has), ahead of the ones drawn from `param_distributions`: known
        good recipes that the search then has to beat.
    n_candidates : "exhaust" or int, default="exhaust"
        Candidates of the first round, anchors included, when there is no
        `budget`.
    factor : int, default=3
        The halving factor.
    resource : str, default="n_samples"
        The resource, ``"n_samples"`` or a parameter of `estimator` such as
        ``"clf__max_epochs"``.
    max_resources : "auto" or int, default="auto"
        The resource of the last round ("auto": all samples).
    min_resources : {"exhaust", "smallest"} or int, default="smallest"
        The resource of the first round, when there is no `budget`.
    aggressive_elimination : bool, default=False
        See the parent class.
    cv : int, cross-validation generator or iterable, default=3
        The inner folds.
    scoring : str or callable, default="balanced_accuracy"
        What the candidates are ranked by.
    refit : bool, default=True
        Refit the best candidate on all the data (``best_estimator_``).
    error_score : "raise" or float, default=np.nan
        The score of a candidate whose fit fails (for example a
        ``"lipnet_fcn"`` given particles below its minimum size).
    return_train_score : bool, default=False
        Also score the training folds.
    random_state : int, RandomState instance or None, default=None
        Draws the candidates, the subsamples and the pilot's particles.
    n_jobs : int, default=None
        Parallel fits; networks use several threads each.
    verbose : int, default=0
        Verbosity of the search.

    Attributes
    ----------
    budget_plan_ : dict or None
        The plan: ``budget``, ``pilot_seconds``, ``seconds_per_sample_epoch``,
        ``cost_factor``, ``n_candidates``, ``min_resources``,
        ``max_resources``, ``n_iterations``, ``refit_seconds`` (the time
        kept for the refit), ``estimated_seconds``; None without a budget.
    elapsed_ : float
        Seconds the whole `fit` took.
    best_params_, best_estimator_, cv_results_, ... : object
        Those of :class:`~sklearn.model_selection.HalvingRandomSearchCV`.

    See Also
    --------
    make_search : This search over sklipo's recipes.
    """

    _parameter_constraints = {
        **HalvingRandomSearchCV._parameter_constraints,
        "budget": [Interval(Real, 0, None, closed="neither"), None],
        "anchors": [list, None],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        budget=None,
        anchors=None,
        n_candidates="exhaust",
        factor=3,
        resource="n_samples",
        max_resources="auto",
        min_resources="smallest",
        aggressive_elimination=False,
        cv=3,
        scoring="balanced_accuracy",
        refit=True,
        error_score=np.nan,
        return_train_score=False,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        super().__init__(
            estimator,
            param_distributions,
            n_candidates=n_candidates,
            factor=factor,
            resource=resource,
            max_resources=max_resources,
            min_resources=min_resources,
            aggressive_elimination=aggressive_elimination,
            cv=cv,
            scoring=scoring,
            refit=refit,
            error_score=error_score,
            return_train_score=return_train_score,
            random_state=random_state,
            n_jobs=n_jobs,
            verbose=verbose,
        )
        self.budget = budget
        self.anchors = anchors

    def fit(self, X, y=None, **params):
        """Plan the search to the budget (if any), run it, and refit the best.

        Parameters
        ----------
        X : ParticleSet or array-like
            The particles.
        y : array-like of shape (n_samples,)
            The labels.
        **params : dict
            Passed to the estimator's ``fit``.

        Returns
        -------
        self : BudgetedHalvingSearchCV
            The fitted search.
        """
        start = time.perf_counter()
        self.budget_plan_ = None
        if self.budget is not None:
            self.budget_plan_ = self._plan(X, y, start)
        planned = {}
        self._clock = SearchClock()
        self._refit_window = None
        if self.budget_plan_ is not None:
            planned = {
                "n_candidates": self.budget_plan_["n_candidates"],
                "min_resources": self.budget_plan_["min_resources"],
                "max_resources": self.budget_plan_["max_resources"],
                "estimator": with_deadline(self.estimator, self._clock),
            }
            refit = self.budget_plan_["refit_seconds"]
            end = time.time() + self.budget - (time.perf_counter() - start)
            self._clock.deadline = max(end - refit, time.time())
            # the default recipe's refit, to price the chosen candidate's
            self._refit_window = (end, refit / self.budget_plan_["cost_factor"])
        try:
            with _set_for_fit(self, planned):
                super().fit(X, y, **params)
        finally:
            del self._clock, self._refit_window
        if hasattr(self, "best_estimator_"):
            without_deadline(self.best_estimator_)
        for params in getattr(self, "cv_results_", {}).get("params", []):
            for value in params.values():
                if _has_params(value):
                    without_deadline(value)
        self.elapsed_ = time.perf_counter() - start
        return self

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        try:
            super()._run_search(evaluate_candidates, callback_ctx=callback_ctx)
        finally:
            self._clock.deadline = None  # until the best candidate is known

    def _select_best_index(self, refit, refit_metric, results):
        best = super()._select_best_index(refit, refit_metric, results)
        if self._refit_window is not None:
            # the refit: until the budget's end, and at least the chosen
            # candidate's estimated time (an ensemble's, several networks)
            end, default_refit = self._refit_window
            cost = cost_factor(results["params"][best], self.estimator)
            self._clock.deadline = max(end, time.time() + default_refit * cost)
        return best

    def _generate_candidate_params(self):
        n_candidates = self.n_candidates
        if n_candidates == "exhaust":
            n_candidates = self.max_resources_ // self.min_resources_
        anchors = list(self.anchors or [])[:n_candidates]
        drawn = []
        if n_candidates > len(anchors):
            drawn = ParameterSampler(
                self.param_distributions,
                n_candidates - len(anchors),
                random_state=self.random_state,
            )
        candidates = anchors + list(drawn)
        if self.budget_plan_ is not None:
            # the networks inside a candidate's own estimators (an ensemble's) stop too
            candidates = [
                {key: _with_deadline_inside(value, self._clock) for key, value in params.items()}
                for params in candidates
            ]
        return candidates

    # -- planning ------------------------------------------------------------

    def _plan(self, X, y, start):
        y = np.asarray(y)
        n = len(y)
        n_splits = check_cv(self.cv, y, classifier=True).get_n_splits(X, y)
        seconds, epochs = pilot(self.estimator, X, y, self.random_state)
        mean = cost_factor(self.param_distributions, self.estimator)
        anchors = [cost_factor(anchor, self.estimator) for anchor in self.anchors or []]

        def relative_cost(n_candidates):
            drawn = max(n_candidates - len(anchors), 0)
            return (sum(anchors[:n_candidates]) + drawn * mean) / n_candidates

        if self.resource == "n_samples":
            max_resources = n if self.max_resources == "auto" else int(self.max_resources)
            rarest = np.unique(y, return_counts=True)[1].min() * (n_splits - 1) / n_splits
            smallest = math.ceil(_MIN_RARE * max_resources / max(rarest, 1))
            smallest = max(smallest, 2 * n_splits * len(np.unique(y)))
            # one unit: one particle trained on (all epochs) in one fold
            unit = seconds * (n_splits - 1) / n_splits * n_splits
            refit = seconds * n
        else:
            max_resources = int(self.max_resources) if self.max_resources != "auto" else epochs
            smallest = 1 if self.min_resources in ("smallest", "exhaust") else int(
                self.min_resources
            )
            # one unit: one epoch on the training folds, every fold
            unit = seconds / max(epochs, 1) * n * (n_splits - 1)
            refit = seconds / max(epochs, 1) * n * max_resources
        smallest = min(smallest, max_resources)
        left = self.budget - (time.perf_counter() - start)
        best = best_schedule(
            left, unit, refit, smallest, max_resources, self.factor, relative_cost
        )
        return {
            "budget": float(self.budget),
            "pilot_seconds": float(time.perf_counter() - start),
            "seconds_per_sample_epoch": float(seconds / max(epochs, 1)),
            "max_resources": int(max_resources),
            **best,
            "estimated_seconds": float(time.perf_counter() - start + best["estimated_seconds"]),
        }


def _has_params(value):
    return hasattr(value, "get_params") and not isinstance(value, type)


def _with_deadline_inside(value, clock):
    """`value`, or a clone whose networks stop at `clock` if it is an estimator with networks."""
    if _has_params(value) and callback_keys(value):
        return with_deadline(value, clock)
    return value


@contextlib.contextmanager
def _set_for_fit(search, values):
    """Give `search` the planned parameters during fit only, then restore them."""
    saved = {key: getattr(search, key) for key in values}
    for key, value in values.items():
        setattr(search, key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(search, key, value)


def make_search(
    *,
    budget=None,
    families=FAMILIES,
    architectures=_ARCHITECTURES,
    image_sizes=_IMAGE_SIZES,
    epochs=_EPOCHS,
    imbalance=IMBALANCE_TREATMENTS,
    resource="n_samples",
    n_candidates=27,
    factor=3,
    cv=3,
    scoring="balanced_accuracy",
    device="cpu",
    n_jobs=None,
    random_state=None,
    verbose=0,
):
    """Build a search over whole particle-classification recipes.

    The candidates are settings of one pipeline (:func:`recipe_pipeline`):
    how the particle is shown (masked, cropped, or with its surrounding),
    the intensity normalisation, the image size, the network, the treatment
    of class imbalance (class weights, balanced batches, augmented
    oversampling, per-epoch undersampling, logit-adjusted loss or balanced
    softmax, post-hoc logit adjustment), the augmentation strength, the
    epochs and test-time augmentation; and, in place of a network, the SVM
    baseline or a soft-voting or stacking ensemble of a LipNet and the SVM.
    The first candidates are always a few known good recipes
    (:func:`recipe_anchors`), the rest are drawn at random. They are
    compared by successive halving
    (:class:`~sklearn.model_selection.HalvingRandomSearchCV`): many
    candidates on a fraction of the training particles (or epochs), the best
    third on three times as much, and so on, ranked by balanced accuracy.

    The result is an unfitted estimator: ``fit`` searches and refits the
    best recipe; ``compare({"searched": make_search(...), ...}, X, y)``
    clones and fits it in every outer fold, which is nested cross-validation
    of the whole search.

    Parameters
    ----------
    budget : float, default=None
        Wall-clock seconds for one ``fit``; the number of candidates and
        the size of the first round are planned from a timed pilot (see
        :class:`BudgetedHalvingSearchCV`, which also says how far to trust
        the plan). None searches `n_candidates`.
    families : sequence of {"lipnet", "lipnet_fcn", "svm", "ensemble"}, \
default=all
        The model families to try.
    architectures : sequence of str, default=the five fixed-size LipNets
        The fixed-size networks to try.
    image_sizes : sequence of int, default=(28, 48, 64)
        The image sizes of the fixed-size networks.
    epochs : sequence of int, default=(15, 30, 60)
        The epoch counts to try (``resource="n_samples"``).
    imbalance : sequence of str, default=all
        The imbalance treatments to try, from ``"none"``, ``"class_weight"``,
        ``"balanced_batches"``, ``"oversampling"``, ``"undersampling"``,
        ``"logit_adjusted"`` (including the balanced softmax, its
        ``loss_tau=1``) and ``"post_hoc"``.
    resource : {"n_samples", "epochs"}, default="n_samples"
        What successive halving grows: the training particles, or the
        networks' epochs (up to ``max(epochs)``; LipNet families only).
    n_candidates : int, default=27
        Candidates of the first round without a budget.
    factor : int, default=3
        The halving factor.
    cv : int or cross-validation generator, default=3
        The inner folds.
    scoring : str or callable, default="balanced_accuracy"
        The ranking score.
    device : str, default="cpu"
        The networks' device.
    n_jobs : int, default=None
        Parallel candidate fits.
    random_state : int or None, default=None
        Seeds the candidates, networks, samplers and subsamples: the same
        int gives the same search on the CPU.
    verbose : int, default=0
        Verbosity of the search.

    Returns
    -------
    search : BudgetedHalvingSearchCV
        The unfitted search; after ``fit``, ``best_estimator_`` is the
        chosen pipeline and :func:`search_report` describes the result.

    See Also
    --------
    search_report : The chosen recipe and the leaderboard, as Markdown.
    sklipo.compare.compare : Nested cross-validation of the search.

    Examples
    --------
    >>> from sklipo.model_selection import make_search
    >>> search = make_search(budget=600, families=("lipnet", "svm"), random_state=0)
    >>> type(search).__name__, search.scoring
    ('BudgetedHalvingSearchCV', 'balanced_accuracy')
    """
    if resource not in ("n_samples", "epochs"):
        raise ValueError(f"resource must be 'n_samples' or 'epochs'; got {resource!r}.")
    choices = {
        "families": families,
        "architectures": architectures,
        "image_sizes": image_sizes,
        "epochs": epochs,
        "imbalance": imbalance,
        "resource": resource,
    }
    grids = recipe_space(**choices, device=device, random_state=random_state)
    anchors = recipe_anchors(**choices, device=device, random_state=random_state)
    pipeline = recipe_pipeline(device=device, random_state=random_state)
    extra = {}
    if resource == "epochs":
        extra = {"resource": "clf__max_epochs", "max_resources": int(max(epochs))}
    return BudgetedHalvingSearchCV(
        pipeline,
        grids,
        budget=budget,
        anchors=anchors,
        n_candidates=n_candidates,
        factor=factor,
        cv=cv,
        scoring=scoring,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
        **extra,
    )
