"""The expected failures of the estimator-check sweeps, in one place.

scikit-learn's and imbalanced-learn's estimator checks feed generated 2-D
tabular ``X`` (``n_samples x n_features``). sklipo's particle estimators take
particle images (a ParticleSet or an ``(n, H, W)`` / ``(n, C, H, W)`` stack)
and refuse a 2-D matrix on purpose, with an error that says what they expected.
The checks that fail for that reason alone are listed here, grouped by the
kind of estimator that runs them; each test module re-checks the contracts
they exercise on particle data.

Import with ``from tests._checks import ...`` (pytest puts the repository
root on ``sys.path``, see ``pythonpath`` in pyproject.toml).
"""

TABULAR_REASON = (
    "feeds 2-D tabular X; this estimator takes particle images and refuses a 2-D "
    "matrix with an error naming the expected input (the contract is re-checked "
    "on particle data in {where})"
)

# Checks run on every estimator with a fit, each fitting on a 2-D matrix.
TABULAR_CHECKS = frozenset(
    {
        "check_dict_unchanged",
        "check_dont_overwrite_parameters",
        "check_dtype_object",
        "check_estimators_dtypes",
        "check_estimators_empty_data_messages",
        "check_estimators_fit_returns_self",
        "check_estimators_nan_inf",
        "check_estimators_overwrite_params",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_fit2d_1feature",
        "check_fit2d_1sample",
        "check_fit2d_predict1d",
        "check_fit_check_is_fitted",
        "check_fit_idempotent",
        "check_fit_score_takes_y",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_n_features_in",
        "check_n_features_in_after_fitting",
        "check_pipeline_consistency",
        "check_positive_only_tag_during_fit",
        "check_readonly_memmap_input",
    }
)

# Checks that complex and sparse 2-D input is refused with their own words
# ("Complex data not supported", "sparse"). Estimators that check these before
# the shape (LipNetClassifier, LipNetEmbedding) pass them; the others refuse
# the 2-D shape first.
INPUT_MESSAGE_CHECKS = frozenset(
    {
        "check_complex_data",
        "check_estimator_sparse_array",
        "check_estimator_sparse_matrix",
        "check_estimator_sparse_tag",
    }
)

# Transformer checks, each transforming a 2-D matrix.
TRANSFORMER_CHECKS = frozenset(
    {
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_transformers_unfitted_stateless",
    }
)

# Classifier checks, each fitting on a 2-D matrix.
CLASSIFIER_CHECKS = frozenset(
    {
        "check_class_weight_classifiers",
        "check_classifier_data_not_an_array",
        "check_classifiers_classes",
        "check_classifiers_regression_target",
        "check_classifiers_train",
        "check_supervised_y_2d",
    }
)

# A particle transformer (CropParticle, Resize, ParticleFeatures, ...).
PARTICLE_TRANSFORMER_CHECKS = TABULAR_CHECKS | INPUT_MESSAGE_CHECKS | TRANSFORMER_CHECKS
# LipNetClassifier.
IMAGE_CLASSIFIER_CHECKS = TABULAR_CHECKS | CLASSIFIER_CHECKS

# imbalanced-learn's sampler checks that call fit_resample on a 2-D matrix.
SAMPLER_CHECKS = frozenset(
    {
        "check_samplers_2d_target",
        "check_samplers_fit",
        "check_samplers_fit_resample",
        "check_samplers_list",
        "check_samplers_multiclass_ova",
        "check_samplers_one_label",
        "check_samplers_preserve_dtype",
        "check_samplers_sample_indices",
        "check_samplers_sampling_strategy_fit_resample",
    }
)

NO_FIT_REASON = (
    "calls fit; Augmentation has no fit: it is a set of parameters called on torch "
    "batches (LipNetClassifier(augment=...)), re-checked on batches in {where}"
)
# scikit-learn's checks that call fit, for an estimator without one.
# check_fit_score_takes_y passes (it only calls the methods that exist);
# check_fit1d, which expects a ValueError for 1-D X, fails with AttributeError.
NO_FIT_CHECKS = (TABULAR_CHECKS - {"check_fit_score_takes_y"}) | INPUT_MESSAGE_CHECKS | {"check_fit1d"}


def expected_failures(checks, where, reason=TABULAR_REASON):
    """Return ``{check_name: reason}`` for ``expected_failed_checks``.

    Parameters
    ----------
    checks : iterable of str
        Names of the checks expected to fail, e.g. ``PARTICLE_TRANSFORMER_CHECKS``.
    where : str
        The test module that re-checks the contracts on particle data,
        named in the reason.
    reason : str, default=TABULAR_REASON
        Why they fail, with a ``{where}`` field.

    Returns
    -------
    expected : dict of str to str
    """
    return dict.fromkeys(sorted(checks), reason.format(where=where))
