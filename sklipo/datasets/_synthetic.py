"""Synthetic transmission-EM liposome cut-outs: sklipo's embedded demo data set."""

# License: BSD 3 clause

from functools import lru_cache
from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo.utils import bounding_box

__all__ = ["LIPOSOME_CLASSES", "make_liposomes"]

# Class names in the order the study lists them (its Tables 1 and 2), with the
# study's class counts as the default proportions, and the lognormal diameter
# distribution of each class: (median in nm, sigma of the log).
_PROBLEMS = {
    "lamellarity": {
        "target_names": ("unilamellar", "multilamellar", "uncertain"),
        "counts": (12368, 1717, 84),
        "diameter_nm": ((80.0, 0.28), (125.0, 0.30), (100.0, 0.35)),
    },
    "encapsulation": {
        "target_names": ("full", "uncertain", "empty"),
        "counts": (24255, 502, 161),
        "diameter_nm": ((85.0, 0.25), (80.0, 0.30), (75.0, 0.30)),
    },
}

#: The class names of each :func:`make_liposomes` problem, in target order
#: (read-only): ``LIPOSOME_CLASSES["lamellarity"][1] == "multilamellar"``.
LIPOSOME_CLASSES = MappingProxyType(
    {problem: spec["target_names"] for problem, spec in _PROBLEMS.items()}
)

_DTYPES = {
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
    np.dtype(np.uint8): 255.0,
    np.dtype(np.uint16): 65535.0,
}

# Up to this many concentric membranes per particle.
_MAX_RINGS = 4
# Wavelengths (px) of the background's octaves.
_BACKGROUND_OCTAVES = (96.0, 48.0, 24.0, 12.0)
# Canvases are bucketed by size in steps of this many pixels.
_CANVAS_STEP = 8
# Pixels rendered per chunk: keeps the (b, S, S) temporaries within cache-friendly
# tens of megabytes whatever the number of particles.
_CHUNK_PIXELS = 1 << 21

_DESCR = """\
Synthetic TEM liposomes
-----------------------

**Data Set Characteristics:**

:Number of Instances: ``n_samples``, chosen by the caller
:Number of Classes: 3 per problem
:Classes and default proportions (those of the study's data sets):
    - lamellarity: unilamellar 87.29 %, multilamellar 12.12 %, uncertain 0.59 %
    - encapsulation: full 97.34 %, uncertain 2.01 %, empty 0.65 %
:Images: one grayscale cut-out per particle, the particle centred, with
    ``surrounding`` px (50 by default) of background on each side of the
    bounding box of its mask; about 120 to 300 px a side at 2 nm/px
:Masks: boolean, True on the particle, its outer membrane included
:Pixel size: ``pixel_size`` nm per pixel, 2.0 by default
:Intensities: bright background, dark membranes and dense matter; float
    images in [0, 1], integer images over the dtype's full range

Each particle is drawn the way the study drew its artificial data (section
4.8.4 of the thesis on CNN classification of liposomes in TEM images that
sklipo follows): a circle with randomised distortions (an ellipticity and a
low-frequency radial wobble) whose membranes are dark bands 4 to 6 nm wide,
their darkness varying along them, on a background of multi-octave smooth
value noise (Perlin-style). Dark ice blobs, neighbouring particles cut by the
frame and detector noise are added, and each image has its own brightness,
contrast and noise level.

Diameters are lognormal per class: unilamellar about 80 nm, multilamellar
about 125 nm, lamellarity-uncertain about 100 nm, encapsulation classes 75 to
85 nm; the distributions overlap.

Lamellarity. *Unilamellar*: one membrane. *Multilamellar*: 2 to 4
concentric membranes 7 to 14 nm apart, the inner ones faint on some
particles. *Uncertain*: ambiguous cases: two vesicles overlapping, an inner
membrane along part of the circumference only, or a very low contrast. Some
unilamellar particles touch or overlap a neighbour or show a faint partial
inner membrane.

Encapsulation. *Full*: a dense, textured interior, darker than the
background. *Empty*: an interior like the background. *Uncertain*: an
intermediate density, or dense matter over part of the interior. The
densities of neighbouring classes overlap.

The classes can be learned, but not perfectly. On 2,000 particles with the
minority classes boosted (lamellarity 60/25/15 %, encapsulation 60/20/20 %),
a class-weighted RBF SVM tuned by grid search on radial and edge intensity
profiles and the particle's size recalled, under stratified 5-fold
cross-validation, about 85 % unilamellar, 80 % multilamellar and 55 %
uncertain particles (lamellarity), and about 85 % full, 75 % uncertain and
85 % empty particles (encapsulation). Overlapping vesicles, which a radial
profile averages away, are most of the uncertain particles it missed.

The images are not fitted to statistics of real micrographs: like the
study's artificial data, they are for demonstrations and tests.

.. topic:: References

    - The thesis on convolutional networks for the classification of
      liposomes in TEM images that sklipo's specification follows: its data
      sets (sections 2 and 3) and artificial data (section 4.8.4).
    - K. Perlin, "An Image Synthesizer", SIGGRAPH Comput. Graph. 19(3),
      pp. 287-296, 1985.
"""


@validate_params(
    {
        "problem": [StrOptions(set(_PROBLEMS))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "weights": ["array-like", None],
        "surrounding": [Interval(Integral, 0, None, closed="left")],
        "pixel_size": [Interval(Real, 0.5, 5.0, closed="both")],
        "dtype": "no_validation",
        "shuffle": ["boolean"],
        "return_X_y": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_liposomes(
    problem="lamellarity",
    n_samples=1000,
    *,
    weights=None,
    surrounding=50,
    pixel_size=2.0,
    dtype="float32",
    shuffle=True,
    return_X_y=False,
    random_state=None,
):
    """Generate synthetic TEM cut-outs of liposomes for a 3-class problem.

    Each sample is one grayscale cut-out with the particle centred and
    `surrounding` pixels of background on each side of the particle's mask,
    its boolean mask and its pixel size, as in the study's data sets. The
    classes and their default proportions are the study's; the ``DESCR`` of
    the returned bunch tells how each class is drawn.

    Read more in the :ref:`synthetic liposomes description <synthetic_liposomes>`.

    Parameters
    ----------
    problem : {"lamellarity", "encapsulation"}, default="lamellarity"
        Which classification problem to draw. Lamellarity classes are, in
        target order, ``"unilamellar"``, ``"multilamellar"``, ``"uncertain"``;
        encapsulation classes ``"full"``, ``"uncertain"``, ``"empty"``.
    n_samples : int, default=1000
        Number of particles.
    weights : array-like of shape (3,) or (2,), default=None
        Class proportions, in target order. Three values are relative weights,
        normalised to sum to one, so class counts can be given directly
        (``[1, 1, 1]`` gives a balanced set). Two values are the proportions of
        the first two classes, as in :func:`sklearn.datasets.make_classification`;
        the third class gets the rest, so they must not sum to more than 1.
        None uses the study's proportions: 87.29/12.12/0.59 % for lamellarity,
        97.34/2.01/0.65 % for encapsulation.
    surrounding : int, default=50
        Background pixels on each side of the bounding box of a particle's mask.
    pixel_size : float, default=2.0
        Nanometres per pixel, in [0.5, 5]. Particles are drawn in nanometres,
        so a smaller pixel size gives larger images: about 140 px a side for
        an 80 nm unilamellar liposome at 2 nm/px, four times the area at 1 nm/px.
    dtype : {"float32", "float64", "uint8", "uint16"} or numpy dtype, \
default="float32"
        Pixel type. Float images lie in [0, 1]; integer images span the type's
        full range (0-255, 0-65535), like 8- and 16-bit micrographs.
    shuffle : bool, default=True
        Whether to shuffle the samples. If False, they come grouped by class in
        target order.
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a bunch.
    random_state : int, RandomState instance or None, default=None
        Determines all random draws. Pass an int for reproducible output across
        multiple function calls.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object, with the following attributes.

        data : :class:`~sklipo.ParticleSet` of shape (n_samples,)
            The cut-outs, their masks, the pixel size and ids such as
            ``"lamellarity-00042"``.
        target : ndarray of shape (n_samples,), dtype=int
            Class of each particle, an index into `target_names`.
        target_names : ndarray of shape (3,), dtype=str
            The class names, in target order.
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True
        The :class:`~sklipo.ParticleSet` and the target array.

    Raises
    ------
    ValueError
        If `weights` has the wrong length, holds negative or non-finite values,
        or does not sum to a usable total, or if `dtype` is not supported.

    See Also
    --------
    sklearn.datasets.make_classification : Generate a random n-class problem
        of feature vectors.

    Notes
    -----
    Class counts are allocated exactly, not sampled: each class gets the
    integer part of ``n_samples * proportion`` and the samples left over go to
    the classes with the largest remainders (the largest remainder method,
    ties to the earlier class). When ``n_samples`` is at least the number of
    classes with a positive weight, each of these classes then gets at least
    one sample, taken from the largest class, so that every class can be seen.
    Classes with a zero weight get no samples.

    Sizes are drawn in nanometres per class (lognormal; multilamellar
    liposomes are larger on average) and converted with `pixel_size`.
    Membranes are dark bands of 4 to 6 nm (full width at half maximum);
    multilamellar membranes lie 7 to 14 nm apart. The study's artificial
    images were drawn the same way ("circles with carefully selected
    randomized distortions" on Perlin noise) and did not help its networks;
    these images are a demonstration and test set, not a model of real
    micrographs. The images are rendered in batches of equal canvas size,
    vectorised over particles: 10,000 particles take about 5 s on one core
    and 1.1 GB of memory as float32.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.datasets import make_liposomes
    >>> data = make_liposomes("lamellarity", 200, random_state=0)
    >>> data.target_names.tolist()
    ['unilamellar', 'multilamellar', 'uncertain']
    >>> np.bincount(data.target)
    array([175,  24,   1])
    >>> X = data.data
    >>> X[0].image.dtype, X[0].pixel_size, X[0].id
    (dtype('float32'), 2.0, 'lamellarity-00000')

    A balanced set, as 8-bit images:

    >>> X, y = make_liposomes("encapsulation", 30, weights=[1, 1, 1],
    ...                       dtype="uint8", return_X_y=True, random_state=0)
    >>> np.bincount(y), X.images[0].dtype
    (array([10, 10, 10]), dtype('uint8'))
    """
    spec = _PROBLEMS[problem]
    target_names = np.asarray(spec["target_names"])
    n_classes = len(target_names)
    proportions = _check_weights(weights, spec["counts"])
    out_dtype = _check_dtype(dtype)

    rng = np.random.default_rng(
        check_random_state(random_state).randint(np.iinfo(np.int32).max, size=4)
    )
    counts = _allocate(proportions, n_samples)
    y = np.repeat(np.arange(n_classes), counts)
    if shuffle:
        y = rng.permutation(y)

    params = _draw_parameters(problem, y, pixel_size, surrounding, rng)
    images, masks = _render(params, surrounding, out_dtype, rng)
    width = max(5, len(str(n_samples - 1)))
    ids = np.array([f"{problem}-{i:0{width}d}" for i in range(n_samples)])
    X = ParticleSet(images, masks, pixel_size=pixel_size, ids=ids)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, target_names=target_names, DESCR=_DESCR)


def _check_weights(weights, default_counts):
    """Return class proportions summing to one from `weights` (or the defaults)."""
    n_classes = len(default_counts)
    if weights is None:
        weights = np.asarray(default_counts, dtype=float)
        return weights / weights.sum()
    try:
        weights = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"weights must be numbers; got {weights!r}.") from exc
    if weights.ndim != 1 or len(weights) not in (n_classes - 1, n_classes):
        raise ValueError(
            f"weights must hold {n_classes} class weights (or {n_classes - 1}, "
            f"the last class taking the rest); got shape {weights.shape}."
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"weights must be finite and non-negative; got {weights.tolist()}."
        )
    if len(weights) == n_classes - 1:
        if weights.sum() > 1 + 1e-9:
            raise ValueError(
                f"With {n_classes - 1} weights, the last class gets 1 - sum(weights), "
                f"so they must not sum to more than 1; got sum {weights.sum():g}. "
                f"Pass {n_classes} relative weights instead."
            )
        weights = np.append(weights, max(0.0, 1.0 - weights.sum()))
    if weights.sum() <= 0:
        raise ValueError(
            f"weights must have a positive sum so that some class is drawn; got "
            f"{weights.tolist()}."
        )
    return weights / weights.sum()


def _check_dtype(dtype):
    """Return the output dtype, one of the supported pixel types."""
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked not in _DTYPES:
        raise ValueError(
            "dtype must be one of 'float32', 'float64', 'uint8', 'uint16'; got "
            f"{dtype!r}."
        )
    return checked


def _allocate(proportions, n_samples):
    """Split `n_samples` over classes by the largest remainder method.

    Classes with a positive proportion get at least one sample each when there
    are enough samples; the samples come from the largest class.
    """
    quotas = proportions * n_samples
    counts = np.floor(quotas).astype(int)
    left = n_samples - counts.sum()
    # Stable sort: among equal remainders the earlier class comes first.
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:left]] += 1
    positive = proportions > 0
    if n_samples >= positive.sum():
        for k in np.flatnonzero(positive & (counts == 0)):
            counts[np.argmax(counts)] -= 1
            counts[k] += 1
    return counts


def _draw_parameters(problem, y, pixel_size, surrounding, rng):
    """Draw every parameter of every particle's scene, lengths in pixels.

    Returns a dict of arrays with one entry (or row) per particle, among them
    the size of the square canvas each particle is rendered on.
    """
    n = len(y)
    px = 1.0 / pixel_size  # pixels per nanometre
    uniform = rng.uniform
    medians, sigmas = np.asarray(_PROBLEMS[problem]["diameter_nm"]).T
    diameter = np.clip(medians[y] * np.exp(sigmas[y] * rng.standard_normal(n)), 30.0, 320.0)
    amp = np.zeros((n, _MAX_RINGS))
    amp[:, 0] = 1.0
    p = {
        "radius": 0.5 * diameter * px,
        # Membranes: 4-6 nm full width at half maximum.
        "sigma": np.maximum(uniform(4.0, 6.0, n) / 2.355 * px, 0.6),
        "spacing": uniform(7.0, 14.0, n) * px,
        "n_rings": np.ones(n, dtype=int),
        "amp": amp,
        "membrane_variation": uniform(0.1, 0.4, n),
        # Window on the inner membranes, bias + gain * (cosine of the angle to
        # one side) clipped to [0, 1]; bias 1 and gain 0 leave them whole. The
        # same for the interior density.
        "ring_bias": np.ones(n),
        "ring_gain": np.zeros(n),
        "density": uniform(-0.05, 0.15, n),
        "texture": uniform(0.05, 0.3, n),
        "fill_bias": np.ones(n),
        "fill_gain": np.zeros(n),
        "brightness": uniform(0.45, 0.75, n),
        "contrast": uniform(0.12, 0.35, n),
        "background_texture": uniform(0.02, 0.07, n),
        "noise": uniform(0.025, 0.09, n),
        "n_neighbours": rng.choice(3, size=n, p=[0.5, 0.35, 0.15]),
        # Distance between the facing edges of particle and neighbour, in px;
        # negative values overlap.
        "gap": uniform(1.0, max(surrounding, 2.0), (n, 2)),
        "neighbour_radius": 40.0 * px * np.exp(0.3 * rng.standard_normal((n, 2))),
        "neighbour_amp": uniform(0.5, 1.0, (n, 2)),
        "neighbour_density": uniform(-0.05, 0.15, (n, 2)),
    }
    if problem == "lamellarity":
        _draw_lamellarity(p, y, rng)
    else:
        _draw_encapsulation(p, y, rng)
    return _place(p, surrounding, px, rng)


def _draw_lamellarity(p, y, rng):
    """Set the membranes of the lamellarity classes, with their look-alikes."""
    n, uniform = len(y), rng.uniform
    uni, multi, unsure = (y == k for k in range(3))
    # Multilamellar: 2-4 membranes, the inner ones sometimes faint.
    p["n_rings"][multi] = rng.choice([2, 3, 4], size=multi.sum(), p=[0.5, 0.3, 0.2])
    inner = uniform(0.3, 1.0, (n, _MAX_RINGS - 1))
    faint = multi & (uniform(size=n) < 0.2)
    inner[faint] = uniform(0.15, 0.35, (faint.sum(), _MAX_RINGS - 1))
    p["amp"][multi, 1:] = inner[multi]

    # Unilamellar look-alikes: a touching neighbour, a faint partial ring.
    touch = uni & (uniform(size=n) < 0.1)
    p["n_neighbours"][touch] = np.maximum(p["n_neighbours"][touch], 1)
    p["gap"][touch, 0] = -uniform(0.0, 0.2, touch.sum()) * p["radius"][touch]
    ghost = uni & (uniform(size=n) < 0.05)
    p["n_rings"][ghost] = 2
    p["amp"][ghost, 1] = uniform(0.1, 0.25, ghost.sum())
    p["ring_bias"][ghost], p["ring_gain"][ghost] = 0.3, 1.5

    # Uncertain: overlapping vesicles, a partial inner ring, or low contrast.
    case = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
    overlap = unsure & (case == 0)
    p["n_neighbours"][overlap] = np.maximum(p["n_neighbours"][overlap], 1)
    radius = p["radius"][overlap]
    neighbour = radius * uniform(0.6, 1.1, overlap.sum())
    p["neighbour_radius"][overlap, 0] = neighbour
    p["neighbour_amp"][overlap, 0] = uniform(0.7, 1.0, overlap.sum())
    p["gap"][overlap, 0] = -uniform(0.2, 0.6, overlap.sum()) * (radius + neighbour)
    partial = unsure & (case == 1)
    p["n_rings"][partial] = 2
    p["amp"][partial, 1] = uniform(0.35, 0.8, partial.sum())
    p["ring_bias"][partial], p["ring_gain"][partial] = 0.4, 1.5
    dim = unsure & (case == 2)
    p["n_rings"][dim] = rng.choice([1, 2], size=dim.sum())
    p["amp"][dim, 1] = uniform(0.4, 1.0, dim.sum())
    p["contrast"][dim] *= uniform(0.15, 0.3, dim.sum())
    p["noise"][dim] *= 1.6


def _draw_encapsulation(p, y, rng):
    """Set the interior density of the encapsulation classes."""
    n, uniform = len(y), rng.uniform
    full, unsure, empty = (y == k for k in range(3))
    two = uniform(size=n) < 0.1
    p["n_rings"][two] = 2
    p["amp"][two, 1] = uniform(0.3, 0.9, two.sum())
    p["density"][full] = uniform(0.4, 1.0, full.sum())
    p["texture"][full] = uniform(0.1, 0.5, full.sum())
    p["density"][empty] = uniform(-0.1, 0.2, empty.sum())
    # Uncertain: intermediate density, or dense over part of the interior.
    partial = unsure & (uniform(size=n) < 0.5)
    p["density"][unsure] = uniform(0.12, 0.42, unsure.sum())
    p["density"][partial] = uniform(0.4, 0.9, partial.sum())
    p["fill_bias"][partial], p["fill_gain"][partial] = 0.5, 1.5
    # Neighbours in drug-loading preparations are mostly full.
    p["neighbour_density"] = uniform(0.2, 1.0, (n, 2))


def _place(p, surrounding, px, rng):
    """Draw shapes and positions, size the canvases, and cast for rendering."""
    n, uniform = len(p["radius"]), rng.uniform
    radius, sigma, n_rings = p["radius"], p["sigma"], p["n_rings"]
    # Keep the rings inside the particle.
    p["spacing"] = np.minimum(p["spacing"], 0.7 * radius / np.maximum(n_rings - 1, 1))
    p["amp"][np.arange(_MAX_RINGS) >= n_rings[:, None]] = 0.0

    ellipticity = 1.0 + np.minimum(rng.gamma(2.0, 0.03, n), 0.35)
    wobble = rng.normal(0.0, [0.015, 0.015, 0.01, 0.01], (n, 4))
    theta = uniform(0.0, np.pi, n)
    p.update(ellipticity=ellipticity, wobble=wobble, cos=np.cos(theta), sin=np.sin(theta))
    side = uniform(0.0, 2 * np.pi, n)
    p.update(window_cos=np.cos(side), window_sin=np.sin(side))
    # Largest distance from the centre that the particle darkens, in px: its
    # edge plus the tail of the outer membrane's profile.
    reach = radius * ellipticity * (1.0 + np.abs(wobble).sum(axis=1)) + 4.0 * sigma
    canvas = 2 * (np.ceil(reach).astype(int) + surrounding + 1)
    p["canvas"] = -(-canvas // _CANVAS_STEP) * _CANVAS_STEP

    p["has_neighbour"] = np.arange(2) < p.pop("n_neighbours")[:, None]
    angle = uniform(0.0, 2 * np.pi, (n, 2))
    distance = radius[:, None] + p["neighbour_radius"] + p.pop("gap")
    p["neighbour_x"], p["neighbour_y"] = distance * np.cos(angle), distance * np.sin(angle)

    p["has_blob"] = uniform(size=n) < 0.12
    angle = uniform(0.0, 2 * np.pi, n)
    distance = uniform(0.0, 1.0, n) * (radius + surrounding)
    p["blob_x"], p["blob_y"] = distance * np.cos(angle), distance * np.sin(angle)
    p["blob_radius"] = uniform(15.0, 80.0, n) * px
    p["blob_darkness"] = uniform(0.3, 0.6, n)
    # Rendering runs in float32.
    return {
        key: value.astype(np.float32) if value.dtype == np.float64 else value
        for key, value in p.items()
    }


@lru_cache(maxsize=128)
def _upsampling_matrix(size, cells):
    """Return the (size, cells + 3) cubic B-spline matrix that upsamples a grid.

    ``M @ G @ M.T`` turns a ``(cells + 3, cells + 3)`` grid of independent
    standard normal values into a smooth ``(size, size)`` field; rows are scaled
    so every pixel of the field has unit variance.
    """
    t = (np.arange(size) + 0.5) * (cells / size) + 1.0
    x = np.abs(t[:, None] - np.arange(cells + 3)[None, :])
    weights = np.where(
        x < 1.0, 2.0 / 3.0 - x**2 + 0.5 * x**3, np.where(x < 2.0, (2.0 - x) ** 3 / 6.0, 0.0)
    )
    weights /= np.sqrt((weights**2).sum(axis=1, keepdims=True))
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def _smooth_noise(rng, b, size, wavelengths, amplitudes):
    """Return ``b`` fields of smooth value noise, shape (b, size, size).

    Field ``i`` is the sum over octaves ``o`` of ``amplitudes[i, o]`` times a
    unit-variance field with features about ``wavelengths[o]`` px across.

    Each octave upsamples a small grid ``G`` of standard normal values to
    ``M @ G @ M.T`` with a cubic B-spline matrix ``M``. The first products run as
    one matrix product over the batch; the second products of all octaves are
    stacked along the inner dimension into a single product, which adds the
    octaves up as it goes.
    """
    amplitudes = np.broadcast_to(
        np.asarray(amplitudes, dtype=np.float32), (b, len(wavelengths))
    )
    halves = []
    matrices = []
    for octave, wavelength in enumerate(wavelengths):
        cells = max(1, int(round(size / wavelength)))
        matrix = _upsampling_matrix(size, cells)
        m = matrix.shape[1]
        grid = rng.standard_normal((b * m, m), dtype=np.float32)
        half = (grid @ matrix.T).reshape(b, m, size)
        half *= amplitudes[:, octave, None, None]
        halves.append(half)
        matrices.append(matrix)
    # (b, size, K) @ (K, size): each field comes out transposed, which noise
    # does not mind.
    half = np.concatenate(halves, axis=1).transpose(0, 2, 1)
    k = half.shape[2]
    return (half.reshape(b * size, k) @ np.concatenate(matrices, axis=1).T).reshape(
        b, size, size
    )


def _octaves(wavelengths):
    """Return octave amplitudes halving per octave, summing to unit variance."""
    weights = 0.5 ** np.arange(len(wavelengths))
    return weights / np.sqrt((weights**2).sum())


def _render(params, surrounding, out_dtype, rng):
    """Render all particles, bucketed by canvas size, and cut them out."""
    n = len(params["canvas"])
    images = [None] * n
    masks = [None] * n
    order = np.argsort(params["canvas"], kind="stable")
    sizes = params["canvas"][order]
    for size in np.unique(sizes):
        bucket = order[sizes == size]
        per_chunk = max(1, _CHUNK_PIXELS // (size * size))
        for start in range(0, len(bucket), per_chunk):
            index = bucket[start : start + per_chunk]
            canvas, mask = _render_chunk(params, index, int(size), surrounding, rng)
            _cut_out(canvas, mask, index, surrounding, out_dtype, images, masks)
    return images, masks


def _render_chunk(params, index, size, surrounding, rng):
    """Render particles `index` on canvases of one size; return images and masks."""
    b = len(index)
    f32 = np.float32

    def column(name):
        return params[name][index][:, None, None]

    coords = np.arange(size, dtype=f32) - f32((size - 1) / 2)
    yy, xx = coords[:, None], coords[None, :]
    # The particle lies more than `surrounding` px from the canvas edges, so it
    # is drawn on the central part only (a sixth of the pixels on average).
    centre = slice(surrounding, size - surrounding)
    dark, inner_mask = _draw_particle(params, index, coords[centre], rng)
    mask = np.zeros((b, size, size), dtype=bool)
    mask[:, centre, centre] = inner_mask

    image = _smooth_noise(
        rng,
        b,
        size,
        _BACKGROUND_OCTAVES,
        params["background_texture"][index, None] * _octaves(_BACKGROUND_OCTAVES),
    )
    image += column("brightness")
    image[:, centre, centre] -= dark
    del dark
    for j in range(2):
        _add_neighbour(image, params, index, j, xx, yy)
    _add_blobs(image, params, index, xx, yy, rng)
    # Detector noise: uniform rather than Gaussian, four times cheaper to draw
    # and on these images no different to the eye.
    white = rng.random(image.shape, dtype=np.float32)
    white -= 0.5
    white *= np.sqrt(12.0) * column("noise")
    image += white
    np.clip(image, 0.0, 1.0, out=image)
    return image, mask


def _draw_particle(params, index, coords, rng):
    """Return the darkening by particles `index` and their masks, on `coords`."""
    b, size = len(index), len(coords)

    def column(name):
        return params[name][index][:, None, None]

    d, cos, sin = _edge_distance(params, index, coords)
    sigma = column("sigma")
    mask = d <= 1.5 * sigma
    wobbly = _smooth_noise(rng, b, size, (16.0, 8.0), _octaves((16.0, 8.0)))
    # Windows on inner membranes and fillings: high towards one side (the
    # cosine of the angle to it), with ragged borders.
    side = cos * column("window_cos") + sin * column("window_sin") + 0.3 * wobbly
    del cos, sin

    # Membranes: the distance to the nearest ring centre line, rings at
    # d = 0, -spacing, -2 spacing, ... (rings are further apart than they are
    # wide, so the nearest ring alone decides a pixel's darkness).
    spacing = column("spacing")
    ring = np.rint(-d / spacing)
    np.clip(ring, 0, params["n_rings"][index][:, None, None] - 1, out=ring)
    offset = d + ring * spacing
    ring = ring.astype(np.intp)
    ring_amp = params["amp"][index].ravel()[ring + (_MAX_RINGS * np.arange(b))[:, None, None]]
    window = np.clip(column("ring_bias") + column("ring_gain") * side, 0.0, 1.0)
    ring_amp = np.where(ring >= 1, ring_amp * window, ring_amp)
    del ring, window
    dark = np.exp(offset * offset * (-0.5 / (sigma * sigma)))
    dark *= ring_amp
    dark *= 1.0 + column("membrane_variation") * wobbly
    del offset, ring_amp

    # Interior density, ramping in over 2 px inside the outer membrane.
    inside = np.clip(-(d + sigma) * 0.5, 0.0, 1.0)
    inside *= np.clip(column("fill_bias") + column("fill_gain") * side, 0.0, 1.0)
    inside *= column("density") * (1.0 + column("texture") * wobbly)
    dark += inside
    dark *= column("contrast")
    return dark, mask


def _edge_distance(params, index, coords):
    """Return the signed distance to each particle's outer membrane, and its angle.

    The distance (px, negative inside) is to the centre line of the outer
    membrane: an ellipse, rotated, whose radius wobbles with 3 and 4 lobes. The
    angle comes as its cosine and sine, in the particle's own frame.
    """

    def column(name):
        return params[name][index][:, None, None]

    yy, xx = coords[:, None], coords[None, :]
    # Polar coordinates in each particle's own stretched, rotated frame.
    cos, sin, ellipticity = column("cos"), column("sin"), column("ellipticity")
    u = (xx * cos + yy * sin) / ellipticity
    v = (yy * cos - xx * sin) * ellipticity
    rho = np.hypot(u, v)
    inv = 1.0 / np.maximum(rho, np.float32(1e-3))
    c1, s1 = u * inv, v * inv
    del u, v, inv
    # cos and sin of 3 and 4 times the angle from those of the angle, without
    # any arctan2 or trigonometric call per pixel.
    c2, s2 = c1 * c1 - s1 * s1, 2 * c1 * s1
    c3, s3 = c2 * c1 - s2 * s1, s2 * c1 + c2 * s1
    c4, s4 = c2 * c2 - s2 * s2, 2 * c2 * s2
    wobble = params["wobble"][index][:, :, None, None]
    edge = 1.0 + wobble[:, 0] * c3 + wobble[:, 1] * s3 + wobble[:, 2] * c4 + wobble[:, 3] * s4
    rho -= column("radius") * edge
    return rho, c1, s1


def _add_neighbour(image, params, index, j, xx, yy):
    """Darken `image` in place with neighbour `j` of the particles that have one."""
    sub = np.flatnonzero(params["has_neighbour"][index, j])
    if sub.size == 0:
        return
    chosen = index[sub]

    def column(name):
        values = params[name][chosen]
        return (values[:, j] if values.ndim == 2 else values)[:, None, None]

    d = (xx - column("neighbour_x")) ** 2 + (yy - column("neighbour_y")) ** 2
    np.sqrt(d, out=d)
    d -= column("neighbour_radius")
    sigma = column("sigma")
    ring = d * d
    ring *= -0.5 / (sigma * sigma)
    np.exp(ring, out=ring)
    ring *= column("neighbour_amp")
    d += sigma
    d *= -0.5
    np.clip(d, 0.0, 1.0, out=d)
    d *= column("neighbour_density")
    ring += d
    ring *= column("contrast")
    if sub.size == len(index):
        image -= ring
    else:
        image[sub] -= ring


def _add_blobs(image, params, index, xx, yy, rng):
    """Darken `image` in place with the ice blobs of the particles that have one."""
    sub = np.flatnonzero(params["has_blob"][index])
    if sub.size == 0:
        return
    chosen = index[sub]

    def column(name):
        return params[name][chosen][:, None, None]

    radius = column("blob_radius")
    # Rough edges: the boundary moves in and out by a quarter of the radius.
    d = _smooth_noise(rng, sub.size, image.shape[1], (24.0, 12.0), _octaves((24.0, 12.0)))
    d *= 0.25 * radius
    d += np.hypot(xx - column("blob_x"), yy - column("blob_y"))
    d -= radius
    image[sub] -= column("blob_darkness") * np.clip(-d / 3.0, 0.0, 1.0)


def _cut_out(canvas, mask, index, surrounding, out_dtype, images, masks):
    """Cut each particle out: its mask's bounding box plus the surrounding."""
    scale = _DTYPES[out_dtype]
    if scale != 1.0:
        canvas = np.rint(canvas * np.float32(scale))
    canvas = canvas.astype(out_dtype, copy=False)
    for k, i in enumerate(index):
        box = bounding_box(mask[k], surrounding)
        images[i] = canvas[k][box].copy()
        masks[i] = mask[k][box].copy()
