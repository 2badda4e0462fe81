"""Temperature scaling of logits, fitted on held-out data; no torch needed."""

# License: BSD 3 clause

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.utils.validation import check_consistent_length

__all__ = ["apply_temperature", "fit_temperature"]

# log T is searched in [-_LOG_T_BOUND, _LOG_T_BOUND]: temperatures from about
# 0.007 to 150, far beyond what any trained network needs.
_LOG_T_BOUND = 5.0


def fit_temperature(y_true, logits, *, labels=None):
    """Fit the temperature that makes ``softmax(logits / T)`` calibrated.

    Temperature scaling (Guo et al. 2017) divides a classifier's logits by
    one number ``T`` fitted on held-out data by minimising the negative log
    likelihood. It changes confidence, never the ranking of classes, so
    accuracy and every per-class score stay the same. ``T > 1`` softens an
    over-confident network (the usual case); ``T < 1`` sharpens one that
    label smoothing made too cautious.

    This is the few lines a classifier needs to calibrate itself on its own
    validation split (``LipNetClassifier`` with early stopping keeps one).
    To calibrate any fitted classifier from outside, scikit-learn 1.8+ has
    ``CalibratedClassifierCV(estimator, method="temperature")``, which
    does the same on ``predict_proba`` or ``decision_function``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True classes of the held-out samples.
    logits : array-like of shape (n_samples, n_classes)
        Their logits, or log-probabilities (``np.log(proba)``: the same up
        to a constant per row, which the softmax ignores).
    labels : array-like of shape (n_classes,), default=None
        The classes of the columns; None means ``y_true`` holds column
        indices 0 to n_classes - 1.

    Returns
    -------
    temperature : float
        The fitted ``T > 0``.

    See Also
    --------
    apply_temperature : Probabilities from logits and a temperature.
    sklipo.metrics.expected_calibration_error : How far from calibrated.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.quantification import apply_temperature, fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 2000)
    >>> x = rng.normal(size=(2000, 3)) + 2.0 * np.eye(3)[y]
    >>> logits = 2.0 * x   # the calibrated logits of these Gaussian classes
    >>> temperature = fit_temperature(y, 3 * logits)   # over-confident by 3
    >>> bool(2.8 < temperature < 3.2)
    True
    >>> apply_temperature(3 * logits[:1], temperature).round(3)
    array([[0.   , 0.002, 0.998]])
    """
    logits = np.asarray(logits, dtype=float)
    y_true = np.asarray(y_true)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(
            f"logits must have shape (n_samples, n_classes >= 2); got {logits.shape}."
        )
    check_consistent_length(y_true, logits)
    if len(y_true) == 0:
        raise ValueError("y_true is empty: fitting a temperature needs held-out samples.")
    bad = np.isnan(logits) | np.isposinf(logits)
    if bad.any():
        raise ValueError(
            "logits must be finite numbers (or -inf, the log of a probability of 0); "
            f"row {int(np.flatnonzero(bad.any(axis=1))[0])} holds "
            f"{logits[bad][0]}."
        )
    if not np.isfinite(logits).all():
        # log(0) from a probability of exactly 0: floor it rather than fail.
        logits = np.where(np.isneginf(logits), np.nan, logits)
        floor = np.nanmin(logits) - 50.0 if np.isfinite(np.nanmin(logits)) else -50.0
        logits = np.nan_to_num(logits, nan=floor)
    if labels is None:
        index = y_true.astype(int)
    else:
        labels = np.asarray(labels)
        order = np.argsort(labels)
        index = order[np.clip(np.searchsorted(labels[order], y_true), 0, len(labels) - 1)]
        if (labels[index] != y_true).any():
            raise ValueError(f"y_true holds labels outside {labels.tolist()}.")
    rows = np.arange(len(index))

    def nll(log_t):
        return -log_softmax(logits / np.exp(log_t), axis=1)[rows, index].mean()

    result = minimize_scalar(nll, bounds=(-_LOG_T_BOUND, _LOG_T_BOUND), method="bounded")
    return float(np.exp(result.x))


def apply_temperature(logits, temperature):
    """Probabilities ``softmax(logits / temperature)``.

    Parameters
    ----------
    logits : array-like of shape (n_samples, n_classes)
        Logits or log-probabilities.
    temperature : float
        As :func:`fit_temperature` returns.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_classes)
        Rows sum to one.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature!r}.")
    logits = np.asarray(logits, dtype=float)
    return softmax(logits / temperature, axis=1)
