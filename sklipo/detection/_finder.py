"""ParticleFinder: find_particles with settings learned from annotated micrographs."""

# License: BSD 3 clause

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from sklipo.detection._contrast import (
    _BACKGROUND_WINDOW,
    _check_micrograph,
    _contrast_planes,
    _planes,
)
from sklipo.detection._find import _check_diameter_range, _find
from sklipo.detection._rings import centre_ratios
from sklipo.metrics import detection_scores
from sklipo.utils import check_boxes

__all__ = ["ParticleFinder"]


def _check_pairs(micrographs, boxes):
    """Micrographs as a list, with one (k, 4) box array each (or None)."""
    if isinstance(micrographs, np.ndarray) and micrographs.ndim == 2:
        raise ValueError(
            "micrographs must be a list of micrographs (each (H, W) or (H, W, C)); got "
            "a single 2-D array. Wrap it in a list: [micrograph]."
        )
    micrographs = list(micrographs)
    if not micrographs:
        raise ValueError("micrographs is empty; give at least one micrograph.")
    if boxes is None:
        return micrographs, None
    boxes = list(boxes)
    if len(boxes) != len(micrographs):
        raise ValueError(
            f"Got {len(micrographs)} micrographs but {len(boxes)} box arrays; give one "
            "(k, 4) array of (top, left, bottom, right) boxes per micrograph."
        )
    return micrographs, [check_boxes(b, f"boxes[{i}]") for i, b in enumerate(boxes)]


class ParticleFinder(BaseEstimator):
    """Find particles in micrographs, with the size range learned from annotations.

    :func:`find_particles` as an estimator. :meth:`fit` learns, from
    micrographs annotated with boxes, the range of particle diameters to
    search (and, with ``polarity="auto"``, whether particles are darker or
    brighter than the background in each channel); :meth:`predict` finds the
    boxes of new micrographs; :meth:`score` is the detection F1 against
    labelled boxes, so :class:`~sklearn.model_selection.GridSearchCV` can
    tune `threshold`, `sigma` or `size_margin` on a lab's own annotated
    micrographs. ``X`` is a list of micrographs and ``y`` a list with one
    ``(k, 4)`` box array per micrograph; cross-validation splits whole
    micrographs.

    Parameters
    ----------
    diameter_range : tuple of float, default=None
        Smallest and largest particle diameter, in nanometres when
        `pixel_size` is given, else in pixels. None learns it in :meth:`fit`
        from the boxes (their geometric-mean side, widened by
        `size_margin`), or without boxes uses 8 to 160 pixels. Found
        regions must have an equivalent diameter within the range, used as
        it is: give it with a margin (unlike :func:`find_particles`, which
        widens a given range by a factor 0.75 either way).
    pixel_size : float, default=None
        Nanometres per pixel of the micrographs; None means pixels.
    polarity : {"auto", "dark", "bright"}, default="auto"
        Whether particles are darker (TEM) or brighter (fluorescence) than
        the background. With "auto", :meth:`fit` learns it per channel from
        the boxed particles; without boxes it is decided per micrograph.
    channel : int or list of int, default=None
        Detect on these channels only; None uses them all.
    sigma : float, default=None
        Smoothing in pixels; None derives it from the smallest diameter.
    threshold : float, default=4.0
        How far, in noise units, particles must stand out of the background.
    size_margin : float, default=0.3
        Fraction by which the learned diameter range is widened on each side.
    split_touching : bool, default=True
        Whether to split touching particles by watershed.
    rings : bool, default=True
        Whether to also search membrane rings with a ring-matched filter
        (see :func:`find_particles`).
    centre_margin : float or None, default=0.1
        With boxes in :meth:`fit`, particles found whose centre is more
        filled than that of the most filled annotated particle, plus this
        margin, are dropped (see `max_centre_`): dark blobs of ice or debris
        among hollow vesicles. None keeps them.
    exclude_border : bool, default=False
        Whether to drop particles cut by the micrograph's frame.
    min_score : float, default=0.0
        Drop particles whose contrast score is below this.
    iou_threshold : float, default=0.5
        The box IoU at which :meth:`score` counts a found box as right.

    Attributes
    ----------
    diameter_range_ : tuple of float
        The diameter range searched, in pixels.
    max_centre_ : float or None
        The largest centre-to-rim contrast ratio of a particle kept (see
        `max_centre` of :func:`find_particles`): that of the most filled
        annotated particle plus `centre_margin`, about 0.1 to 0.3 for
        membrane rings, 1.1 for filled discs. None without boxes or
        `centre_margin`.
    polarity_ : str or ndarray of str
        ``"auto"``, ``"dark"`` or ``"bright"``, or one of the latter per
        channel when learned.
    n_channels_ : int
        Channels of the micrographs seen in :meth:`fit`.
    n_micrographs_ : int
        Micrographs seen in :meth:`fit`.

    See Also
    --------
    find_particles : The detection itself.
    sklipo.metrics.detection_scores : Precision, recall and F1 of boxes.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from sklipo.datasets import make_micrographs
    >>> from sklipo.detection import ParticleFinder
    >>> data = make_micrographs("fluorescence", 4, shape=(192, 192), n_particles=6,
    ...                         random_state=0)
    >>> finder = ParticleFinder().fit(data.images[:2], data.boxes[:2])
    >>> finder.polarity_.tolist()
    ['bright', 'bright']
    >>> round(finder.score(data.images[2:], data.boxes[2:]), 2)  # doctest: +SKIP
    0.92
    >>> search = GridSearchCV(ParticleFinder(), {"threshold": [3.0, 5.0]}, cv=KFold(2))
    >>> search.fit(data.images, data.boxes).best_params_  # doctest: +SKIP
    {'threshold': 5.0}
    """

    _parameter_constraints: dict = {
        "diameter_range": [tuple, list, None],
        "pixel_size": [Interval(Real, 0, None, closed="neither"), None],
        "polarity": [StrOptions({"auto", "dark", "bright"})],
        "channel": [Interval(Integral, None, None, closed="neither"), list, tuple, None],
        "sigma": [Interval(Real, 0, None, closed="left"), None],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "size_margin": [Interval(Real, 0, 1, closed="left")],
        "split_touching": ["boolean"],
        "rings": ["boolean"],
        "centre_margin": [Interval(Real, 0, None, closed="left"), None],
        "exclude_border": ["boolean"],
        "min_score": [Interval(Real, None, None, closed="neither")],
        "iou_threshold": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(
        self,
        *,
        diameter_range=None,
        pixel_size=None,
        polarity="auto",
        channel=None,
        sigma=None,
        threshold=4.0,
        size_margin=0.3,
        split_touching=True,
        rings=True,
        centre_margin=0.1,
        exclude_border=False,
        min_score=0.0,
        iou_threshold=0.5,
    ):
        self.diameter_range = diameter_range
        self.pixel_size = pixel_size
        self.polarity = polarity
        self.channel = channel
        self.sigma = sigma
        self.threshold = threshold
        self.size_margin = size_margin
        self.split_touching = split_touching
        self.rings = rings
        self.centre_margin = centre_margin
        self.exclude_border = exclude_border
        self.min_score = min_score
        self.iou_threshold = iou_threshold

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the diameter range and polarity from annotated micrographs.

        Parameters
        ----------
        X : list of ndarray of shape (H, W) or (H, W, C)
            The micrographs, channels last.
        y : list of array-like of shape (k, 4), default=None
            The labelled boxes of each micrograph, rows ``top, left,
            bottom, right`` in pixels. None keeps `diameter_range` (or the
            default range) and decides the polarity per micrograph.

        Returns
        -------
        self : ParticleFinder
            The fitted finder.

        Raises
        ------
        ValueError
            If the lists differ in length, a micrograph is malformed, the
            micrographs differ in channels, or there are no boxes to learn
            the diameter range from.
        """
        micrographs, boxes = _check_pairs(X, y)
        images = [_check_micrograph(m, f"micrographs[{i}]") for i, m in enumerate(micrographs)]
        channels = {1 if image.ndim == 2 else image.shape[2] for image in images}
        if len(channels) > 1:
            raise ValueError(
                f"The micrographs have different numbers of channels ({sorted(channels)}); "
                "give micrographs of one kind."
            )
        self.n_channels_ = channels.pop()
        self.n_micrographs_ = len(images)
        if self.diameter_range is not None or boxes is None:
            self.diameter_range_ = _check_diameter_range(self.diameter_range, self.pixel_size)
        else:
            every = np.concatenate(boxes)
            if len(every) == 0:
                raise ValueError(
                    "The boxes list no particle, so no diameter range can be learned; give "
                    "annotated micrographs or set diameter_range."
                )
            # The geometric-mean side: the diameter of a disc of the ellipse's area.
            sides = np.sqrt((every[:, 2] - every[:, 0]) * (every[:, 3] - every[:, 1]))
            low = max(2.0, float(sides.min()) * (1 - self.size_margin))
            self.diameter_range_ = (low, float(sides.max()) * (1 + self.size_margin))
        if self.polarity == "auto" and boxes is not None:
            self.polarity_ = self._learn_polarity(images, boxes)
        else:
            self.polarity_ = self.polarity
        self.max_centre_ = None
        if boxes is not None and self.centre_margin is not None:
            self.max_centre_ = self._learn_centre(images, boxes)
        return self

    def _sigma(self):
        if self.sigma is not None:
            return float(self.sigma)
        return float(np.clip(self.diameter_range_[0] / 16.0, 1.0, 4.0))

    def _contrast(self, image):
        """The micrograph's contrast planes in noise units, as find_particles sees them."""
        planes = _planes(image, self.channel, "given")
        window = _BACKGROUND_WINDOW * self.diameter_range_[0]
        return _contrast_planes(planes, self._sigma(), window)[0]

    def _learn_polarity(self, images, boxes):
        """Per channel, whether the boxed particles stand out brighter or darker."""
        bright = dark = 0.0
        for image, box in zip(images, boxes):
            if len(box) == 0:
                continue
            z = self._contrast(image)
            inside = np.zeros(z.shape[:2], dtype=bool)
            for top, left, bottom, right in np.rint(box).astype(int):
                inside[max(top, 0) : bottom, max(left, 0) : right] = True
            values = z[inside]
            bright = bright + np.clip(values - self.threshold, 0, None).sum(axis=0)
            dark = dark + np.clip(-values - self.threshold, 0, None).sum(axis=0)
        return np.where(np.asarray(bright) > np.asarray(dark), "bright", "dark")

    def _learn_centre(self, images, boxes):
        """The centre-to-rim ratio of the most filled annotated particle, plus the margin."""
        ratios = []
        for image, box in zip(images, boxes):
            if len(box) == 0:
                continue
            z = self._contrast(image)
            polarity = np.broadcast_to(self.polarity_, z.shape[2:])
            aligned = (z * np.where(polarity == "bright", 1.0, -1.0)).max(axis=2)
            ratios.append(centre_ratios(aligned, box))
        ratios = np.concatenate(ratios)
        ratios = ratios[np.isfinite(ratios)]
        return float(ratios.max()) + self.centre_margin if len(ratios) else None

    def find(self, micrograph, *, name=None):
        """Find the particles of one micrograph.

        Parameters
        ----------
        micrograph : ndarray of shape (H, W) or (H, W, C)
            The micrograph, channels last.
        name : str, default=None
            How to name the micrograph in errors and warnings.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            ``boxes``, ``scores``, ``diameters``, ``polarity`` and
            ``sigma``, as :func:`find_particles` returns them.

        Warns
        -----
        UserWarning
            When no particle is found.
        """
        check_is_fitted(self)
        where = name or "given"
        image = _check_micrograph(micrograph, where)
        channels = 1 if image.ndim == 2 else image.shape[2]
        if channels != self.n_channels_:
            raise ValueError(
                f"The micrograph {where} has {channels} channel(s); the finder was fitted on "
                f"micrographs with {self.n_channels_}."
            )
        low = self.diameter_range_[0]
        if min(image.shape[:2]) < low:
            raise ValueError(
                f"The micrograph {where} is {image.shape[0]}x{image.shape[1]} px, smaller than "
                f"the smallest particle diameter searched ({low:g} px)."
            )
        result = _find(
            image, diameter_range=self.diameter_range_, polarity=self.polarity_,
            channel=self.channel, sigma=self.sigma, threshold=self.threshold,
            split_touching=self.split_touching, exclude_border=self.exclude_border,
            min_score=self.min_score, name=where, size_range=self.diameter_range_,
            rings=self.rings, max_centre=self.max_centre_,
        )
        if len(result.boxes) == 0:
            warnings.warn(
                f"No particles found in the micrograph {where}"
                f"{' (it is constant)' if np.ptp(image) == 0 else ''}. Check the diameter "
                f"range ({low:g} to {self.diameter_range_[1]:g} px), polarity and threshold.",
                UserWarning,
                stacklevel=2,
            )
        return result

    def predict(self, X):
        """Find the boxes of each micrograph.

        Parameters
        ----------
        X : list of ndarray of shape (H, W) or (H, W, C)
            The micrographs, channels last.

        Returns
        -------
        boxes : list of ndarray of int, shape (k, 4)
            Per micrograph, rows ``top, left, bottom, right`` in pixels,
            sorted by decreasing score.
        """
        micrographs, _ = _check_pairs(X, None)
        return [
            self.find(m, name=f"micrographs[{i}]").boxes for i, m in enumerate(micrographs)
        ]

    def score(self, X, y):
        """Detection F1 of the found boxes against labelled boxes.

        A found box counts when it matches a labelled box of its micrograph
        with an IoU of at least `iou_threshold` (see
        :func:`~sklipo.metrics.detection_scores`; counts summed over the
        micrographs).

        Parameters
        ----------
        X : list of ndarray of shape (H, W) or (H, W, C)
            The micrographs.
        y : list of array-like of shape (k, 4)
            Their labelled boxes.

        Returns
        -------
        f1 : float
            The detection F1, in [0, 1].
        """
        micrographs, boxes = _check_pairs(X, y)
        with warnings.catch_warnings():
            # A micrograph without particles is a fair answer here.
            warnings.filterwarnings("ignore", message="No particles found")
            found = self.predict(micrographs)
        return detection_scores(boxes, found, iou_threshold=self.iou_threshold).f1

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags
