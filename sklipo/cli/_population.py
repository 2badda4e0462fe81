"""Class shares and prediction sets for the command line: fitted at 'train', used at 'predict'.

``sklipo train --prevalence`` wraps the model in a
:class:`~sklipo.quantification.PrevalenceEstimator` (adjusted count,
``method="acc"``: hard predictions, so every model qualifies, the SVM without
``--probability`` included), whose internal 5-fold cross-validation
estimates the misclassification rates; ``--coverage 0.9`` calibrates a
:class:`~sklipo.quantification.ConformalClassifier` on 5 folds the same way.
Each costs 5 more fits of the model (seconds for the SVM, minutes for a
network), which is why they are options rather than always on. They are
saved beside the model as ``<model>.population.joblib`` (with its own card
and checksum); the model file itself stays a plain fitted pipeline.
"""

# License: BSD 3 clause

import copy
from pathlib import Path

import numpy as np

__all__ = []

#: Confidence of the class-share intervals that 'sklipo predict --prevalence' reports.
CONFIDENCE = 0.95


def population_path(model_path):
    """The file beside `model_path` that holds its prevalence estimator and conformal sets."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.population.joblib")


def fit_population(model, X, y, *, prevalence, coverage, random_state):
    """Fit `model`, and around it what 'predict --prevalence/--coverage' needs.

    Returns
    -------
    model : estimator
        The fitted model to save (the one the population objects predict with).
    population : dict
        ``"prevalence"``: a fitted PrevalenceEstimator or None; ``"conformal"``:
        a fitted ConformalClassifier or None.
    """
    from sklipo.quantification import ConformalClassifier, PrevalenceEstimator

    population = {"prevalence": None, "conformal": None}
    if coverage is not None:
        if not hasattr(model, "predict_proba"):
            raise ValueError(
                "--coverage needs class probabilities, which this model does not give; "
                "for the SVM add --probability."
            )
        population["conformal"] = ConformalClassifier(model, coverage=coverage).fit(X, y)
        model = population["conformal"].estimator_
    if prevalence:
        # ensemble=False: the shares count the labels of the saved model
        quantifier = PrevalenceEstimator(
            model, method="acc", ensemble=False, random_state=random_state
        )
        population["prevalence"] = quantifier.fit(X, y)
        if coverage is None:
            model = quantifier.classifiers_[0]
        else:  # count with the model that is saved and labels the rows
            quantifier.classifiers_ = [model]
    if coverage is None and not prevalence:
        model.fit(X, y)
    return model, population


def load_population(model_path, *, prevalence, coverage):
    """The saved population objects that 'predict' was asked to use, checked."""
    from sklipo.deployment import load

    path = population_path(model_path)
    asked = [flag for flag, wanted in (("--prevalence", prevalence),
                                       (f"--coverage {coverage}", coverage is not None)) if wanted]
    if not path.exists():
        raise ValueError(
            f"'{model_path}' was trained without {' and '.join(asked)} ('{path}' is "
            f"missing). Train it again with 'sklipo train ... {' '.join(asked)}'."
        )
    population = load(path)
    if prevalence and population["prevalence"] is None:
        raise ValueError(f"'{model_path}' was trained without --prevalence; train it with it.")
    conformal = population["conformal"]
    if coverage is not None:
        if conformal is None:
            raise ValueError(
                f"'{model_path}' was trained without --coverage; train it with "
                f"--coverage {coverage}."
            )
        if not np.isclose(conformal.coverage, coverage):
            raise ValueError(
                f"'{model_path}' was calibrated for --coverage {conformal.coverage}; got "
                f"--coverage {coverage}. Use that, or train again with --coverage {coverage}."
            )
    return population


class _GivenLabels:
    """A stand-in classifier whose 'predictions' are the labels it is given."""

    def predict(self, labels):
        return np.asarray(labels)


def shares(quantifier, labels):
    """The PrevalenceResult of predicted `labels` (counted already, not predicted again)."""
    given = copy.copy(quantifier)
    given.classifiers_ = [_GivenLabels()]
    return given.predict_prevalence(np.asarray(labels), confidence=CONFIDENCE)


def share_rows(results):
    """CSV header and rows of several PrevalenceResults, by sample name."""
    header = ["sample", "class", "count", "naive", "estimate", "lower", "upper"]
    rows = [
        [sample, row["class"], row["count"], *(f"{row[k]:.6f}" for k in
                                               ("naive", "prevalence", "lower", "upper"))]
        for sample, result in results.items()
        for row in result.to_rows()
    ]
    return header, rows


def set_columns(conformal, X):
    """Per particle: its prediction set (classes joined by '|') and its set label."""
    from sklipo.quantification import label_prediction_sets

    sets = conformal.predict_set(X)
    joined = ["|".join(str(c) for c in conformal.classes_[row]) for row in sets]
    return joined, label_prediction_sets(sets, conformal.classes_)
