"""Synthetic transmission-EM liposome cut-outs: sklipo's embedded demo data set."""

# License: BSD 3 clause

from numbers import Integral, Real
from types import MappingProxyType

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from sklipo._particles import ParticleSet
from sklipo.datasets._liposome_parameters import (
    _PROBLEMS,
    _allocate,
    _check_weights,
    _draw_parameters,
)
from sklipo.datasets._liposome_rendering import _DTYPES, _render

__all__ = ["LIPOSOME_CLASSES", "make_liposomes"]

#: The class names of each :func:`make_liposomes` problem, in target order
#: (read-only): ``LIPOSOME_CLASSES["lamellarity"][1] == "multilamellar"``.
LIPOSOME_CLASSES = MappingProxyType(
    {problem: spec["target_names"] for problem, spec in _PROBLEMS.items()}
)

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
