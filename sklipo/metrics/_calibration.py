"""Calibration of class probabilities: expected calibration error and reliability diagrams."""

# License: BSD 3 clause

import numpy as np
from sklearn.base import is_classifier
from sklearn.calibration import calibration_curve
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils.validation import check_consistent_length, check_is_fitted

__all__ = ["ReliabilityDisplay", "expected_calibration_error"]


def _check_proba(y_true, y_proba, labels):
    """Validate probabilities and return (y_index, proba, labels)."""
    y_true = np.asarray(y_true)
    y_proba = np.asarray(y_proba, dtype=float)
    if y_proba.ndim != 2 or y_proba.shape[1] < 2:
        raise ValueError(
            "y_proba must have shape (n_samples, n_classes) with at least two classes, "
            f"one column each; got shape {y_proba.shape}."
        )
    check_consistent_length(y_true, y_proba)
    if len(y_true) == 0:
        raise ValueError("y_true is empty: calibration needs at least one sample.")
    # logits or scores instead of probabilities give a meaningless error
    sums = y_proba.sum(axis=1)
    bad = ~((y_proba >= 0) & (y_proba <= 1)).all(axis=1) | ~np.isclose(sums, 1, atol=1e-3)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "y_proba must hold probabilities (each in [0, 1], each row summing to 1, "
            f"as predict_proba returns); row {row} is {y_proba[row].tolist()}, summing "
            f"to {sums[row]:g}. Logits need a softmax first."
        )
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if len(labels) != y_proba.shape[1]:
        raise ValueError(
            f"y_proba has {y_proba.shape[1]} columns but there are {len(labels)} labels "
            f"{labels.tolist()}; pass labels=estimator.classes_ (the column order) when "
            "a class is missing from y_true."
        )
    order = np.argsort(labels)
    index = order[np.clip(np.searchsorted(labels[order], y_true), 0, len(labels) - 1)]
    if (labels[index] != y_true).any():
        raise ValueError(f"y_true holds labels outside {labels.tolist()}.")
    return index, y_proba, labels


def expected_calibration_error(y_true, y_proba, *, n_bins=15, labels=None):
    """Top-label expected calibration error (ECE) of class probabilities.

    The gap between how confident a classifier is and how often it is
    right. Each sample's confidence is its highest probability, ``max_j
    p_j``; samples are grouped into `n_bins` equal-width confidence bins on
    [0, 1], and the ECE is the average, weighted by bin size, of the gap
    between the bin's accuracy and its mean confidence:

    .. math::

        \\mathrm{ECE} = \\sum_b \\frac{n_b}{n}
        \\left| \\mathrm{acc}(b) - \\mathrm{conf}(b) \\right|

    (Naeini et al. 2015; Guo et al. 2017). 0 is perfect; a classifier that
    says 0.9 and is right 70 % of the time scores 0.2. With few samples the
    estimate is biased upwards (every bin's gap is noisy and counted
    positive); compare models on the same number of samples.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True classes.
    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, columns in the order of `labels`.
    n_bins : int, default=15
        Number of equal-width confidence bins.
    labels : array-like of shape (n_classes,), default=None
        The classes of the columns, e.g. ``estimator.classes_``; None uses
        the sorted classes of `y_true` (then every class must occur).

    Returns
    -------
    ece : float
        In [0, 1].

    See Also
    --------
    ReliabilityDisplay : The reliability diagram behind this number.

    Examples
    --------
    >>> from sklipo.metrics import expected_calibration_error
    >>> y_true = [0, 0, 1, 1]
    >>> y_proba = [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8]]
    >>> round(expected_calibration_error(y_true, y_proba, n_bins=10), 3)
    0.225
    """
    index, proba, _ = _check_proba(y_true, y_proba, labels)
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins!r}.")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == index
    bins = np.clip((confidence * n_bins).astype(int), 0, n_bins - 1)
    gap = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    return float(np.abs(gap).sum() / len(index))


class ReliabilityDisplay:
    """Reliability diagram of a multiclass classifier's probabilities.

    The multiclass counterpart of scikit-learn's
    :class:`~sklearn.calibration.CalibrationDisplay`: predicted probability
    against observed frequency, binned, with the diagonal of perfect
    calibration. Two kinds:

    - ``"top_label"``: one curve, the confidence (highest probability)
      against the accuracy, the diagram behind
      :func:`expected_calibration_error`;
    - ``"one_vs_rest"``: one curve per class, ``p_c`` against the
      frequency of class ``c``, which shows a rare class's probabilities
      being too high or too low.

    Create it with :meth:`from_predictions` or :meth:`from_estimator`.

    Parameters
    ----------
    prob_true : list of ndarray
        Observed frequency in each non-empty bin, one array per curve.
    prob_pred : list of ndarray
        Mean predicted probability in the same bins.
    curve_labels : list of str
        Legend label of each curve.
    ece : float, default=None
        The expected calibration error, shown in the legend when given.
    estimator_name : str, default=None
        Name of the model, in the title.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The curves.
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    expected_calibration_error : The top-label gap as one number.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklipo.metrics import ReliabilityDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> display = ReliabilityDisplay.from_estimator(
    ...     LogisticRegression(max_iter=500), X, y, cv=5, kind="one_vs_rest")
    >>> len(display.lines_)
    3
    """

    def __init__(self, prob_true, prob_pred, *, curve_labels, ece=None, estimator_name=None):
        self.prob_true = prob_true
        self.prob_pred = prob_pred
        self.curve_labels = curve_labels
        self.ece = ece
        self.estimator_name = estimator_name

    def plot(self, *, ax=None, ref_line=True, title=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        ref_line : bool, default=True
            Whether to draw the diagonal of perfect calibration.
        title : str, default=None
            Title of the axes; None names the estimator, if known.

        Returns
        -------
        display : ReliabilityDisplay
            This display, with `ax_`, `figure_` and `lines_` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4.5))
        if ref_line:
            ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
        self.lines_ = []
        for true, pred, label in zip(self.prob_true, self.prob_pred, self.curve_labels):
            if self.ece is not None and len(self.curve_labels) == 1:
                label = f"{label} (ECE {self.ece:.3f})"
            (line,) = ax.plot(pred, true, "s-", label=label)
            self.lines_.append(line)
        ax.set(
            xlim=(-0.02, 1.02),
            ylim=(-0.02, 1.02),
            xlabel="Predicted probability",
            ylabel="Observed frequency",
            aspect="equal",
        )
        ax.legend(loc="upper left", fontsize="small")
        if title is None and self.estimator_name is not None:
            title = self.estimator_name
        if title is not None:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_proba,
        *,
        labels=None,
        kind="top_label",
        n_bins=10,
        strategy="uniform",
        estimator_name=None,
        ax=None,
        ref_line=True,
        title=None,
    ):
        """Plot the reliability diagram of predicted probabilities.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True classes.
        y_proba : array-like of shape (n_samples, n_classes)
            Predicted probabilities, columns in the order of `labels`.
        labels : array-like of shape (n_classes,), default=None
            The classes of the columns; None uses the sorted classes of
            `y_true`.
        kind : {"top_label", "one_vs_rest"}, default="top_label"
            One curve of confidence against accuracy, or one per class.
        n_bins : int, default=10
            Number of bins, as in :func:`~sklearn.calibration.calibration_curve`.
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width bins, or bins of equal size.
        estimator_name : str, default=None
            Name of the model, for the title.
        ax : matplotlib Axes, default=None
            Where to draw.
        ref_line : bool, default=True
            Whether to draw the diagonal.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : ReliabilityDisplay
            The drawn display.
        """
        index, proba, labels = _check_proba(y_true, y_proba, labels)
        if kind == "top_label":
            targets = [(proba.argmax(axis=1) == index).astype(int)]
            scores = [proba.max(axis=1)]
            curve_labels = ["top label"]
        elif kind == "one_vs_rest":
            targets = [(index == j).astype(int) for j in range(len(labels))]
            scores = [proba[:, j] for j in range(len(labels))]
            curve_labels = [str(label) for label in labels]
        else:
            raise ValueError(f"kind must be 'top_label' or 'one_vs_rest'; got {kind!r}.")
        curves = [
            _curve(target, score, n_bins, strategy) for target, score in zip(targets, scores)
        ]
        display = cls(
            [true for true, _ in curves],
            [pred for _, pred in curves],
            curve_labels=curve_labels,
            ece=expected_calibration_error(index, proba, labels=np.arange(len(labels))),
            estimator_name=estimator_name,
        )
        return display.plot(ax=ax, ref_line=ref_line, title=title)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        cv=None,
        n_jobs=None,
        kind="top_label",
        n_bins=10,
        strategy="uniform",
        ax=None,
        ref_line=True,
        title=None,
    ):
        """Plot the reliability diagram of a classifier's probabilities.

        Parameters
        ----------
        estimator : estimator
            A classifier with ``predict_proba``. With `cv` None it must be
            fitted and predicts `X` (held-out data); otherwise clones of it
            are cross-validated and every sample is predicted out of fold.
        X : array-like or ParticleSet of shape (n_samples, ...)
            The samples.
        y : array-like of shape (n_samples,)
            Their classes.
        cv : int, cross-validation generator or iterable, default=None
            The folds, as in :func:`~sklearn.model_selection.cross_val_predict`.
        n_jobs : int, default=None
            Folds fitted in parallel.
        kind : {"top_label", "one_vs_rest"}, default="top_label"
            See :meth:`from_predictions`.
        n_bins : int, default=10
            Number of bins.
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width bins, or bins of equal size.
        ax : matplotlib Axes, default=None
            Where to draw.
        ref_line : bool, default=True
            Whether to draw the diagonal.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : ReliabilityDisplay
            The drawn display.
        """
        if not is_classifier(estimator):
            raise ValueError(f"{type(estimator).__name__} is not a classifier.")
        y = np.asarray(y)
        if cv is None:
            check_is_fitted(estimator)
            y_proba, labels = estimator.predict_proba(X), estimator.classes_
        else:
            splits = list(check_cv(cv, y, classifier=True).split(X, y))
            y_proba = cross_val_predict(
                estimator, X, y, cv=splits, n_jobs=n_jobs, method="predict_proba"
            )
            labels = np.unique(y)
        return cls.from_predictions(
            y,
            y_proba,
            labels=labels,
            kind=kind,
            n_bins=n_bins,
            strategy=strategy,
            estimator_name=type(estimator).__name__,
            ax=ax,
            ref_line=ref_line,
            title=title,
        )


def _curve(target, score, n_bins, strategy):
    if target.min() == target.max():
        # calibration_curve needs both outcomes; a constant outcome is its
        # own frequency in every bin.
        edges = np.linspace(0, 1, n_bins + 1)
        bins = np.clip(np.digitize(score, edges[1:-1]), 0, n_bins - 1)
        used = np.unique(bins)
        pred = np.array([score[bins == b].mean() for b in used])
        return np.full(len(used), float(target[0])), pred
    return calibration_curve(target, score, n_bins=n_bins, strategy=strategy)
