"""The study's SVM baseline: handcrafted features, standardised, into an RBF SVM."""

# License: BSD 3 clause

from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklipo.features._transformer import ParticleFeatures

__all__ = ["make_svm_baseline"]


def make_svm_baseline(
    features="all",
    *,
    pixel_size_nm=None,
    C=1.0,
    gamma="scale",
    probability=False,
    n_jobs=None,
    **params,
):
    """Build the SVM that classifies particles from handcrafted features.

    The classifier the study's lab ran and that the CNNs are judged against
    (study §4.1, §8.4): :class:`ParticleFeatures`, then ``StandardScaler``,
    then an RBF ``SVC`` (libsvm, one-vs-one) with class weights inversely
    proportional to class frequencies (``class_weight="balanced"``). The
    result is an ordinary :class:`~sklearn.pipeline.Pipeline` with the steps
    ``"features"``, ``"scale"`` and ``"svm"``: it goes into
    ``cross_validate`` and ``GridSearchCV`` as it is, with grids over
    ``svm__C``, ``svm__gamma`` and feature subsets (``features__features``).

    The common settings are keyword arguments; any other parameter of a step
    is given by its pipeline name, e.g. ``features__n_profile_bins=24`` or
    ``svm__tol=1e-4``, and set with ``Pipeline.set_params`` (a misspelt name
    raises scikit-learn's ``ValueError`` listing the valid ones).

    Parameters
    ----------
    features : "all" or list of str, default="all"
        The features to compute, see :class:`ParticleFeatures`.
    pixel_size_nm : float, default=None
        Nanometres per pixel for every particle, overriding the set's own.
    C : float, default=1.0
        The SVM's regularisation parameter.
    gamma : {"scale", "auto"} or float, default="scale"
        The RBF kernel coefficient.
    probability : bool, default=False
        Whether the pipeline estimates class probabilities (``predict_proba``).
        The ``"svm"`` step is then
        ``CalibratedClassifierCV(SVC(...), ensemble=False)``: Platt scaling
        fitted on an internal 5-fold cross-validation, what libsvm's
        ``probability=True`` did (scikit-learn 1.9 deprecates that option in
        favour of this). Fitting takes about five times longer, and the SVM's
        parameters are then named ``svm__estimator__C`` and so on.
    n_jobs : int, default=None
        Parallel jobs for the feature extraction.
    **params : dict
        Further parameters in pipeline form ``<step>__<parameter>``.

    Returns
    -------
    pipeline : Pipeline
        The unfitted baseline.

    See Also
    --------
    ParticleFeatures : The features the SVM sees.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklipo.features import make_svm_baseline
    >>> svm = make_svm_baseline(pixel_size_nm=0.8, C=10.0)
    >>> [name for name, _ in svm.steps]
    ['features', 'scale', 'svm']
    >>> search = GridSearchCV(
    ...     svm,
    ...     {"svm__C": [1, 10, 100],
    ...      "features__features": ["all", ["area", "circularity", "histogram"]]},
    ...     scoring="balanced_accuracy",
    ... )
    """
    svm = SVC(kernel="rbf", C=C, gamma=gamma, class_weight="balanced")
    if probability:
        svm = CalibratedClassifierCV(svm, method="sigmoid", ensemble=False)
    pipeline = Pipeline(
        [
            ("features", ParticleFeatures(features, pixel_size_nm=pixel_size_nm, n_jobs=n_jobs)),
            ("scale", StandardScaler()),
            ("svm", svm),
        ]
    )
    return pipeline.set_params(**params)
