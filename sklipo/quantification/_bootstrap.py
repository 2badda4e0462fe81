"""Bootstrap helpers of the quantifiers: observed shares and resampled means, in chunks."""

# License: BSD 3 clause

import numpy as np

__all__ = ["CHUNK_BUDGET", "bootstrap_means", "mean_prediction"]

#: Most floats held at once by one bootstrap chunk (about 32 MB of float64).
CHUNK_BUDGET = 4_000_000


def mean_prediction(predictions, n_classes):
    """Share of each class among hard predictions, or mean probabilities.

    Works on the last one (probabilities) or two (hard) axes, so batches of
    bootstrap samples go through at once.
    """
    predictions = np.asarray(predictions)
    if np.issubdtype(predictions.dtype, np.integer):
        one_hot = predictions[..., None] == np.arange(n_classes)
        return one_hot.mean(axis=-2)
    return predictions.mean(axis=-2)


def bootstrap_means(rows, size, rng):
    """Means of `size` bootstrap resamples of `rows`, as multinomial weights."""
    n = len(rows)
    per_chunk = max(1, CHUNK_BUDGET // n)
    means = []
    for start in range(0, size, per_chunk):
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=min(per_chunk, size - start))
        means.append(weights @ rows / n)
    return np.concatenate(means)
