"""Segment the particle inside each bounding box of a micrograph, for any contrast."""

# License: BSD 3 clause

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo.datasets._box_masks import _segment_micrograph

__all__ = ["QUALITY_FIELDS", "segment_boxes"]

#: The fields of the per-particle quality record, in order.
QUALITY_FIELDS = ("area_ratio", "solidity", "touches_edge", "contrast", "fallback", "method")

# Above this share of fallbacks the loaders warn: the settings do not suit the data.
FALLBACK_WARN_RATE = 0.10


def _check_boxes(boxes, shape):
    boxes = np.asarray(boxes)
    if boxes.size == 0:
        return boxes.reshape(0, 4).astype(int)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "iu":
        raise ValueError(
            "boxes must be an integer array of shape (k, 4) with rows (top, left, bottom, "
            f"right) in pixels; got {boxes.dtype} of shape {boxes.shape}."
        )
    height, width = shape
    top, left, bottom, right = boxes.T
    bad = np.flatnonzero(
        (top < 0) | (left < 0) | (bottom > height) | (right > width) | (bottom <= top)
        | (right <= left)
    )
    if bad.size:
        raise ValueError(
            f"boxes[{bad[0]}] = {boxes[bad[0]].tolist()} is empty or reaches outside the "
            f"micrograph of {height}x{width} px."
        )
    return boxes


def _check_area_range(area_range):
    values = np.asarray(area_range, dtype=float)
    if values.shape != (2,) or not (0 <= values[0] < values[1]):
        raise ValueError(
            "area_range must be two fractions (low, high) of the inscribed ellipse's "
            f"area with 0 <= low < high; got {area_range!r}."
        )
    return tuple(values)


def _quality_bunch(records):
    """The per-particle quality record as a Bunch of equal-length arrays."""
    columns = list(zip(*records)) if records else [[]] * len(QUALITY_FIELDS)
    dtypes = (float, float, bool, float, bool, str)
    return Bunch(
        **{
            name: np.asarray(column, dtype=dtype)
            for name, column, dtype in zip(QUALITY_FIELDS, columns, dtypes)
        }
    )


def _warn_fallbacks(fallback, where, stacklevel):
    """Warn when more than FALLBACK_WARN_RATE of the masks fell back."""
    fallback = np.asarray(fallback, dtype=bool)
    if fallback.size and fallback.mean() > FALLBACK_WARN_RATE:
        warnings.warn(
            f"Segmentation fell back to the inscribed ellipse for {int(fallback.sum())} "
            f"of {fallback.size} particles ({fallback.mean():.0%}) {where}. Check the "
            "masks (sklipo.datasets.MaskGridDisplay, or 'sklipo masks'), and try "
            "polarity='dark' or 'bright', channel=<index>, a larger sigma for noisy "
            "images, or a wider area_range.",
            UserWarning,
            stacklevel=stacklevel,
        )


@validate_params(
    {
        "image": ["array-like"],
        "boxes": ["array-like"],
        "polarity": [StrOptions({"auto", "dark", "bright"})],
        "channel": [Interval(Integral, None, None, closed="neither"), None],
        "sigma": [Interval(Real, 0, None, closed="left")],
        "area_range": [tuple, list],
        "min_solidity": [Interval(Real, 0, 1, closed="both")],
        "split_touching": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def segment_boxes(
    image,
    boxes,
    *,
    polarity="auto",
    channel=None,
    sigma=1.0,
    area_range=(0.2, 1.2),
    min_solidity=0.8,
    split_touching=True,
):
    """Segment the particle inside each bounding box of one micrograph.

    Works for dark particles on a light background (TEM, cryo-EM) and for
    bright ones on a dark background (fluorescence), for particles seen as a
    membrane ring or as a filled disc, on one channel or several, and splits
    particles that touch. For each box:

    1. **Channels.** Each channel is smoothed with a Gaussian of `sigma`
       pixels and put on a common scale: the background level (median of
       the pixels around the box) is 0 and the noise (estimated over the
       whole micrograph) is 1. Channels are flipped so the particle is
       positive and averaged, each weighted by how far this particle stands
       out of the noise in it; a channel where it does not stand out
       (nor a constant one, such as the empty blue of a two-colour RGB file)
       gets no weight. `channel` uses one channel instead.
    2. **Polarity.** Whether particles are darker or brighter than the
       background is decided per channel by a vote over all boxes of the
       micrograph: inside each box's inscribed ellipse, the 90th percentile
       above the background (bright) is compared with the 10th below it
       (dark). Membrane rings decide like filled discs. `polarity`
       overrides the vote.
    3. **Threshold.** Foreground is where the combined plane exceeds half
       the particle's level (its 90th percentile inside the ellipse), so a
       blurred edge is cut at half height. A closing with a disc of radius
       `sigma` and hole filling turn a membrane ring into a disc.
    4. **Touching particles.** A distance-transform watershed separates
       this particle (seeded at the deepest point near the box centre) from
       neighbours, seeded at the centres of the other boxes and at distance
       peaks outside this box's ellipse (neighbours nobody boxed).
    5. **Checks.** The mask, kept inside the box, is accepted when its area
       lies within `area_range` of the inscribed ellipse's area and its
       solidity (area over convex-hull area) is at least `min_solidity`. A
       ring left open (no hole to fill) that spans the box is replaced by
       its convex hull. A failed box is tried again with twice the
       smoothing.
    6. **Rays.** Where the threshold fails (a faint membrane, an uneven
       background), rays are cast from the box centre: the region is
       resampled on a polar grid, the outward edge (the mean 3 px inside
       minus 3 px outside, along the ray) is pooled over neighbouring angles,
       and dynamic programming follows the closed outline of greatest total
       edge, filled as a star-shaped mask. It is accepted when its mean edge
       stands out of the background's edge noise by at least 4 standard
       errors over its length (after the bias of picking the best outline),
       when the edge is found all round (in every quarter of the angles,
       and not at the search's limits, 0.5 to 1.4 times the inscribed
       ellipse's radius) and when it passes the checks of step 5.
       Otherwise, or when nothing stands out, the mask is the inscribed
       ellipse and ``fallback`` is True.

    Parameters
    ----------
    image : array-like of shape (H, W) or (H, W, C)
        The micrograph, any integer or floating-point dtype.
    boxes : array-like of int, shape (k, 4)
        The boxes in pixels, rows ``top, left, bottom, right`` with the
        bottom and right edges exclusive, inside the micrograph.
    polarity : {"auto", "dark", "bright"}, default="auto"
        Whether particles are darker or brighter than the background;
        "auto" votes over the boxes, per channel.
    channel : int, default=None
        Segment on this channel only. None combines the channels.
    sigma : float, default=1.0
        Standard deviation in pixels of the smoothing, also the radius of
        the closing; raise it for noisy micrographs or large particles.
    area_range : tuple of float, default=(0.2, 1.2)
        Accepted mask area, as fractions of the inscribed ellipse's area. A
        segmentation spilling over the whole box has about 1.27.
    min_solidity : float, default=0.8
        Smallest accepted solidity; 0 turns the check off (for particles
        with concave outlines).
    split_touching : bool, default=True
        Whether to separate touching particles by watershed. False keeps
        the whole connected component at the box centre.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        masks : list of ndarray of bool
            One mask per box, of the box's shape.
        quality : :class:`~sklearn.utils.Bunch` of ndarray, shape (k,)
            Per particle: ``area_ratio`` (mask area over the inscribed
            ellipse's), ``solidity``, ``touches_edge`` (the mask covers more
            than half of a box side: the particle may extend beyond its
            box), ``contrast`` (how far the particle stands out of the
            noise, in noise units of the smoothed image), ``fallback`` and
            ``method``: ``"threshold"`` (steps 1-5), ``"rays"`` (step 6) or
            ``"fallback"`` (no method found the particle). For a fallback,
            the measures are those of the rejected threshold segmentation
            (NaN when there was none).
        polarity : ndarray of str, shape (n_channels,)
            ``"dark"`` or ``"bright"`` per channel used.

    Warns
    -----
    UserWarning
        When more than 10 % of the masks fell back to the inscribed ellipse.

    See Also
    --------
    load_annotated_micrographs : Cut out and segment particles from annotated
        micrograph files.
    MaskGridDisplay : Look at the masks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.datasets import segment_boxes
    >>> rows, cols = np.ogrid[:80, :120]
    >>> image = np.full((80, 120), 20.0)
    >>> image[(rows - 40) ** 2 + (cols - 40) ** 2 <= 15 ** 2] = 200  # bright disc
    >>> image[(rows - 40) ** 2 + (cols - 69) ** 2 <= 14 ** 2] = 200  # touching it
    >>> result = segment_boxes(image, [[25, 25, 55, 55], [26, 55, 54, 83]])
    >>> result.polarity.tolist(), result.quality.method.tolist()
    (['bright'], ['threshold', 'threshold'])
    >>> int(result.masks[0].sum()), int(result.masks[1].sum())
    (705, 609)
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.dtype.kind not in "uif":
        raise ValueError(
            "image must be a 2-D micrograph, with channels last if any, of integer or "
            f"floating-point pixels; got {image.dtype} of shape {image.shape}."
        )
    boxes = _check_boxes(boxes, image.shape[:2])
    area_range = _check_area_range(area_range)
    masks, records, signs = _segment_micrograph(
        image, boxes, polarity=polarity, channel=channel, sigma=sigma,
        area_range=area_range, min_solidity=min_solidity, split_touching=split_touching,
    )
    quality = _quality_bunch(records)
    _warn_fallbacks(quality.fallback, "in this micrograph", stacklevel=4)
    return Bunch(
        masks=masks,
        quality=quality,
        polarity=np.where(signs > 0, "bright", "dark"),
    )
