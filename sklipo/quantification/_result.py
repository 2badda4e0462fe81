"""PrevalenceResult: estimated class shares with intervals, as numbers and a table."""

# License: BSD 3 clause

import numpy as np

__all__ = ["PrevalenceResult"]


class PrevalenceResult:
    """Estimated class shares of a sample, with their interval and the naive count.

    What :meth:`PrevalenceEstimator.predict_prevalence` returns when asked
    for a confidence level. ``str(result)`` (or :meth:`to_table`) is the
    printable table a lab report or the command line shows; :meth:`to_rows`
    gives the same as a list of dicts for CSV or JSON.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The classes, in the order of the other arrays.
    prevalence : ndarray of shape (n_classes,)
        The estimated share of each class; sums to one.
    lower, upper : ndarray of shape (n_classes,)
        Bounds of the interval of each share.
    confidence : float
        Confidence level of the intervals, e.g. 0.95.
    counts : ndarray of shape (n_classes,)
        How many samples the classifier assigned to each class.
    method : str
        The quantification method that gave `prevalence`.

    Attributes
    ----------
    n_samples : int
        Size of the sample, ``counts.sum()``.
    naive : ndarray of shape (n_classes,)
        Classify-and-count shares, ``counts / n_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.quantification import PrevalenceResult
    >>> result = PrevalenceResult(
    ...     np.array(["uni", "multi"]), np.array([0.8, 0.2]),
    ...     lower=np.array([0.75, 0.15]), upper=np.array([0.85, 0.25]),
    ...     confidence=0.95, counts=np.array([70, 30]), method="acc")
    >>> print(result)
    class  count  naive  estimate  95% interval
    uni       70  0.700     0.800  [0.750, 0.850]
    multi     30  0.300     0.200  [0.150, 0.250]
    (100 particles; estimate by acc)
    """

    def __init__(self, classes, prevalence, *, lower, upper, confidence, counts, method):
        self.classes = np.asarray(classes)
        self.prevalence = np.asarray(prevalence, dtype=float)
        self.lower = np.asarray(lower, dtype=float)
        self.upper = np.asarray(upper, dtype=float)
        self.confidence = float(confidence)
        self.counts = np.asarray(counts, dtype=int)
        self.method = method

    @property
    def n_samples(self):
        return int(self.counts.sum())

    @property
    def naive(self):
        return self.counts / max(self.n_samples, 1)

    def to_rows(self):
        """One dict per class: the table's numbers, for CSV or JSON.

        Returns
        -------
        rows : list of dict
            Keys ``class``, ``count``, ``naive``, ``prevalence``, ``lower``
            and ``upper``; numbers as Python ints and floats.
        """
        return [
            {
                "class": c.item() if hasattr(c, "item") else c,
                "count": int(n),
                "naive": float(s),
                "prevalence": float(p),
                "lower": float(lo),
                "upper": float(hi),
            }
            for c, n, s, p, lo, hi in zip(
                self.classes, self.counts, self.naive, self.prevalence, self.lower, self.upper
            )
        ]

    def to_table(self, *, digits=3):
        """The shares as a fixed-width text table.

        Parameters
        ----------
        digits : int, default=3
            Decimals of the shares.

        Returns
        -------
        table : str
            One line per class (count, naive share, estimate and interval),
            then a line naming the sample size and the method.
        """
        level = f"{100 * self.confidence:g}% interval"
        header = ["class", "count", "naive", "estimate", level]
        body = [
            [
                str(c),
                str(n),
                f"{s:.{digits}f}",
                f"{p:.{digits}f}",
                f"[{lo:.{digits}f}, {hi:.{digits}f}]",
            ]
            for c, n, s, p, lo, hi in zip(
                self.classes, self.counts, self.naive, self.prevalence, self.lower, self.upper
            )
        ]
        widths = [max(len(row[i]) for row in [header] + body) for i in range(len(header))]
        lines = []
        for row in [header] + body:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:4], widths[1:4])]
            cells.append(row[4].ljust(widths[4]))
            lines.append("  ".join(cells).rstrip())
        lines.append(f"({self.n_samples} particles; estimate by {self.method})")
        return "\n".join(lines)

    def __str__(self):
        return self.to_table()

    def __repr__(self):
        shares = ", ".join(
            f"{c}: {p:.3f} [{lo:.3f}, {hi:.3f}]"
            for c, p, lo, hi in zip(self.classes, self.prevalence, self.lower, self.upper)
        )
        return f"PrevalenceResult({shares}; confidence={self.confidence:g})"
