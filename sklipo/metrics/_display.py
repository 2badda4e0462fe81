"""Matplotlib displays: fold-averaged confusion matrices and per-class scores."""

# License: BSD 3 clause

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import check_cv, cross_val_predict
from sklearn.utils.validation import check_is_fitted

from sklipo.metrics._confusion import fold_confusion_matrices, mean_confusion_matrix

__all__ = ["FoldConfusionMatrixDisplay", "PerClassScoreDisplay"]


class FoldConfusionMatrixDisplay:
    """Confusion matrix averaged over cross-validation folds, with its spread.

    Create it with :meth:`from_predictions` or :meth:`from_estimator`, as
    scikit-learn's :class:`~sklearn.metrics.ConfusionMatrixDisplay`; each cell
    shows the mean over folds and, below it, the standard deviation.

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        The mean matrix, rows true classes and columns predicted ones.
    std : ndarray of shape (n_classes, n_classes), default=None
        The standard deviation over folds; None shows none.
    display_labels : array-like of shape (n_classes,), default=None
        Class names for the axes; None uses 0 to n_classes - 1.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The image of the matrix.
    text_ : ndarray of shape (n_classes, n_classes) of matplotlib Text
        The cell annotations.
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    fold_confusion_matrices : The per-fold matrices.
    mean_confusion_matrix : Their average.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklipo.metrics import FoldConfusionMatrixDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> display = FoldConfusionMatrixDisplay.from_estimator(
    ...     LogisticRegression(max_iter=500), X, y, cv=5, normalize="true")
    >>> display.confusion_matrix.shape
    (3, 3)
    """

    def __init__(self, confusion_matrix, *, std=None, display_labels=None):
        self.confusion_matrix = confusion_matrix
        self.std = std
        self.display_labels = display_labels

    def plot(self, *, ax=None, cmap="Blues", values_format=None, colorbar=True, title=None):
        """Draw the matrix.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str or matplotlib Colormap, default="Blues"
            The colour map of the cells.
        values_format : str, default=None
            Format of the cell values, e.g. ``".2f"``; None uses ``".2f"`` for
            values below 1 (normalised matrices) and ``".1f"`` otherwise.
        colorbar : bool, default=True
            Whether to add a colour bar.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : FoldConfusionMatrixDisplay
            This display, with `ax_`, `figure_`, `im_` and `text_` set.
        """
        import matplotlib.pyplot as plt

        matrix = np.asarray(self.confusion_matrix, dtype=float)
        n_classes = matrix.shape[0]
        if ax is None:
            _, ax = plt.subplots(figsize=(1.6 * n_classes + 2, 1.4 * n_classes + 1.5))
        if values_format is None:
            values_format = ".2f" if np.nanmax(matrix, initial=0) <= 1 else ".1f"
        self.im_ = ax.imshow(matrix, interpolation="nearest", cmap=cmap, vmin=0)
        threshold = np.nanmax(matrix, initial=0) / 2
        cmap_min, cmap_max = self.im_.cmap(0.0), self.im_.cmap(1.0)
        self.text_ = np.empty_like(matrix, dtype=object)
        for i in range(n_classes):
            for j in range(n_classes):
                text = format(matrix[i, j], values_format)
                if self.std is not None:
                    text += f"\n± {format(np.asarray(self.std)[i, j], values_format)}"
                color = cmap_max if matrix[i, j] < threshold else cmap_min
                self.text_[i, j] = ax.text(j, i, text, ha="center", va="center", color=color)
        labels = (
            np.arange(n_classes) if self.display_labels is None else self.display_labels
        )
        ax.set(
            xticks=np.arange(n_classes),
            yticks=np.arange(n_classes),
            xticklabels=labels,
            yticklabels=labels,
            xlabel="Predicted label",
            ylabel="True label",
        )
        ax.tick_params(axis="x", labelrotation=30)
        if title is not None:
            ax.set_title(title)
        if colorbar:
            ax.figure.colorbar(self.im_, ax=ax)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true,
        y_pred,
        *,
        folds=None,
        labels=None,
        normalize=None,
        display_labels=None,
        ax=None,
        cmap="Blues",
        values_format=None,
        colorbar=True,
        title=None,
    ):
        """Plot the confusion matrix of predictions, averaged over folds.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True labels.
        y_pred : array-like of shape (n_samples,) or list of array-like
            Predictions, see :func:`fold_confusion_matrices`.
        folds : dict or list of array-like, default=None
            Test indices of each fold, see :func:`fold_confusion_matrices`;
            None treats all samples as one fold (no spread shown).
        labels : array-like of shape (n_classes,), default=None
            The classes, in matrix order; None sorts those found.
        normalize : {"true", "pred", "all"}, default=None
            How to normalise each fold's matrix before averaging, see
            :func:`mean_confusion_matrix`; None averages raw counts.
        display_labels : array-like of shape (n_classes,), default=None
            Class names; None uses `labels`.
        ax : matplotlib Axes, default=None
            Where to draw.
        cmap : str or matplotlib Colormap, default="Blues"
            Colour map.
        values_format : str, default=None
            Format of the values.
        colorbar : bool, default=True
            Whether to add a colour bar.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : FoldConfusionMatrixDisplay
            The drawn display.
        """
        y_true = np.asarray(y_true)
        if folds is None:
            folds = [np.arange(len(y_true))]
        if labels is None:
            pred = np.concatenate([np.asarray(p) for p in y_pred]) if isinstance(
                y_pred, list
            ) else np.asarray(y_pred)
            labels = np.unique(np.concatenate([y_true, pred]))
        matrices = fold_confusion_matrices(y_true, y_pred, folds, labels=labels)
        mean, std = mean_confusion_matrix(matrices, normalize=normalize)
        display = cls(
            mean,
            std=std if len(matrices) > 1 else None,
            display_labels=labels if display_labels is None else display_labels,
        )
        return display.plot(
            ax=ax, cmap=cmap, values_format=values_format, colorbar=colorbar, title=title
        )

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        cv=None,
        n_jobs=None,
        labels=None,
        normalize=None,
        display_labels=None,
        ax=None,
        cmap="Blues",
        values_format=None,
        colorbar=True,
        title=None,
    ):
        """Plot the fold-averaged confusion matrix of a classifier.

        Parameters
        ----------
        estimator : estimator
            A classifier. With `cv` None it must be fitted and predicts `X`;
            otherwise clones of it are cross-validated.
        X : array-like or ParticleSet of shape (n_samples, ...)
            The samples.
        y : array-like of shape (n_samples,)
            Their labels.
        cv : int, cross-validation generator or iterable, default=None
            The folds, as in :func:`~sklearn.model_selection.cross_val_predict`
            (an int gives stratified folds for a classifier); None uses the
            fitted `estimator` on all of `X`.
        n_jobs : int, default=None
            Folds fitted in parallel.
        labels : array-like of shape (n_classes,), default=None
            The classes, in matrix order; None uses ``estimator.classes_`` when
            fitted, else the sorted classes found.
        normalize : {"true", "pred", "all"}, default=None
            See :func:`mean_confusion_matrix`.
        display_labels : array-like of shape (n_classes,), default=None
            Class names; None uses `labels`.
        ax : matplotlib Axes, default=None
            Where to draw.
        cmap : str or matplotlib Colormap, default="Blues"
            Colour map.
        values_format : str, default=None
            Format of the values.
        colorbar : bool, default=True
            Whether to add a colour bar.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : FoldConfusionMatrixDisplay
            The drawn display.
        """
        if not is_classifier(estimator):
            raise ValueError(f"{type(estimator).__name__} is not a classifier.")
        y = np.asarray(y)
        if cv is None:
            check_is_fitted(estimator)
            y_pred, folds = estimator.predict(X), None
            if labels is None:
                labels = estimator.classes_
        else:
            splits = list(check_cv(cv, y, classifier=True).split(X, y))
            y_pred = cross_val_predict(estimator, X, y, cv=splits, n_jobs=n_jobs)
            folds = [test for _, test in splits]
        return cls.from_predictions(
            y,
            y_pred,
            folds=folds,
            labels=labels,
            normalize=normalize,
            display_labels=display_labels,
            ax=ax,
            cmap=cmap,
            values_format=values_format,
            colorbar=colorbar,
            title=title,
        )


class PerClassScoreDisplay:
    """Grouped bar chart of a per-class metric, one bar per model in each class.

    The chart of the study's model comparisons (its Figs. 17 to 22): classes
    along the axis, one coloured bar per model, error bars the standard
    deviation over folds. :meth:`sklipo.compare.ComparisonResult.plot` draws
    it from a comparison.

    Parameters
    ----------
    scores : array-like of shape (n_models, n_classes)
        The mean score of each model on each class.
    model_names : list of str of shape (n_models,)
        The models, in the order of `scores`' rows.
    class_names : list of str of shape (n_classes,)
        The classes, in the order of `scores`' columns.
    errors : array-like of shape (n_models, n_classes), default=None
        Half-lengths of the error bars (standard deviations over folds); None
        draws none.
    metric : str, default="f1"
        The metric's name, for the axis label.

    Attributes
    ----------
    bars_ : list of matplotlib BarContainer
        The bars of each model.
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure holding the axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklipo.metrics import PerClassScoreDisplay
    >>> display = PerClassScoreDisplay(
    ...     [[0.9, 0.6], [0.8, 0.7]], model_names=["lipnet4", "svm"],
    ...     class_names=["full", "empty"]).plot()
    >>> len(display.bars_)
    2
    """

    def __init__(self, scores, *, model_names, class_names, errors=None, metric="f1"):
        self.scores = scores
        self.model_names = model_names
        self.class_names = class_names
        self.errors = errors
        self.metric = metric

    def plot(self, *, ax=None, ylim=(0.0, 1.15), title=None):
        """Draw the bars.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        ylim : tuple of float or None, default=(0.0, 1.15)
            Limits of the score axis; None lets matplotlib choose.
        title : str, default=None
            Title of the axes.

        Returns
        -------
        display : PerClassScoreDisplay
            This display, with `ax_`, `figure_` and `bars_` set.
        """
        import matplotlib.pyplot as plt

        scores = np.asarray(self.scores, dtype=float)
        n_models, n_classes = scores.shape
        if (len(self.model_names), len(self.class_names)) != scores.shape:
            raise ValueError(
                f"scores has shape {scores.shape}; expected (n_models, n_classes) = "
                f"({len(self.model_names)}, {len(self.class_names)})."
            )
        errors = None if self.errors is None else np.asarray(self.errors, dtype=float)
        if ax is None:
            _, ax = plt.subplots(figsize=(max(5.0, 1.2 * n_classes * (n_models + 1)), 4.0))
        width = 0.8 / n_models
        positions = np.arange(n_classes)
        self.bars_ = []
        for m, name in enumerate(self.model_names):
            offset = (m - (n_models - 1) / 2) * width
            self.bars_.append(
                ax.bar(
                    positions + offset,
                    scores[m],
                    width,
                    yerr=None if errors is None else errors[m],
                    capsize=3,
                    label=name,
                )
            )
        ax.set_xticks(positions, self.class_names)
        ax.set_ylabel(self.metric)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="upper center", ncols=n_models, fontsize="small", frameon=False)
        if title is not None:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
