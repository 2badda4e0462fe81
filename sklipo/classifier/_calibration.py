"""Temperature scaling of LipNetClassifier's logits on a held-out split of its training data."""

# License: BSD 3 clause

from sklipo.quantification import fit_temperature

__all__ = []

#: The values of LipNetClassifier's `calibration` parameter, besides None.
CALIBRATIONS = ("temperature",)


def needs_split(clf):
    """Whether `clf` holds out a stratified validation split of its training data."""
    return bool(clf.early_stopping or clf.calibration is not None)


def fit_calibration(clf, dataset, codes):
    """The temperature of `clf`'s logits, fitted on its held-out validation split.

    The split is the one skorch trained without (the early-stopping split,
    :class:`~sklipo.classifier._net._StratifiedSplit`, recomputed from its
    seed, so it is the same positions), and the logits are the network's in
    eval mode, after early stopping restored the best weights.

    Parameters
    ----------
    clf : LipNetClassifier
        A classifier whose ``net_`` has just been trained on `dataset`.
    dataset : ImageData
        The training data, with all samples (the split included).
    codes : ndarray of int of shape (n,)
        The class codes of `dataset`.

    Returns
    -------
    temperature : float
        1.0 without `calibration`.
    """
    if clf.calibration is None:
        return 1.0
    _, valid = clf.net_.train_split.indices(codes)
    logits = clf.net_.forward(dataset.subset(valid), training=False)
    return fit_temperature(codes[valid], logits.double().numpy())


def temperature(clf):
    """The fitted temperature of `clf` (1.0 for a model saved before calibration existed)."""
    return getattr(clf, "temperature_", 1.0)
