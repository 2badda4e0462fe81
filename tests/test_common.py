"""scikit-learn's estimator checks, and the same contracts on particle data.

scikit-learn's checks feed 2-D tabular ``X`` (``n_samples x n_features``).
sklipo's particle transformers take particle images (a ParticleSet or an
``(n, H, W)`` / ``(n, C, H, W)`` stack) and refuse a 2-D matrix on purpose,
with an error that says what they expected. Checks that only fail for that
reason are listed below as expected failures; the contracts they exercise
(fit returns self, params untouched, clone, pickle, idempotence, sample-order
and subset invariance, read-only input) are re-checked on particle data in
the tests after the sweep.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_no_attributes_set_in_init,
    parametrize_with_checks,
)

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier, LipNetEmbedding
from sklipo.features import ParticleFeatures
from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

RND_SEED = 0

TABULAR_REASON = (
    "feeds 2-D tabular X; this estimator takes particle images and refuses a 2-D "
    "matrix with an error naming the expected input (contract re-checked on "
    "particle data in tests/test_common.py)"
)
# Every check below fits or transforms on generated 2-D matrices.
TABULAR_CHECKS = [
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
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
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_transformers_unfitted_stateless",
]

# (estimator, input it takes) for the particle-data contract tests.
PARTICLE_TRANSFORMERS = [
    (CropParticle("surrounding"), "particles"),
    (CropParticle("cropped", margin=2), "particles"),
    (CropParticle("masked"), "particles"),
    (Resize(16), "particles"),
    (IntensityNormalizer(), "particles"),
    (IntensityNormalizer("quantile", per_image=False), "particles"),
    (Flatten(), "stack"),
    (ParticleFeatures(), "particles"),
]


# LipNetEmbedding refuses complex and sparse input with the messages these
# checks expect (LipNetClassifier's input checks), so they pass.
EMBEDDING_PASSING = {
    "check_complex_data",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimator_sparse_tag",
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, Flatten):
        return {}  # Flatten passes a 2-D matrix through, so every check applies.
    checks = TABULAR_CHECKS
    if isinstance(estimator, LipNetEmbedding):
        checks = [check for check in TABULAR_CHECKS if check not in EMBEDDING_PASSING]
    return dict.fromkeys(checks, TABULAR_REASON)


# LipNetEmbedding needs y to fit, so its particle contracts are checked in
# tests/classifier/test_embedding.py; its sweep is the same as the others'.
@parametrize_with_checks(
    [est for est, _ in PARTICLE_TRANSFORMERS]
    + [LipNetEmbedding(LipNetClassifier(max_epochs=1, random_state=RND_SEED))],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _data(kind):
    rng = np.random.RandomState(RND_SEED)
    if kind == "stack":
        return rng.rand(10, 2, 6, 6)
    images, masks = [], []
    for i in range(10):
        size = 20 + 3 * i
        images.append((rng.rand(size, size) * 4000).astype(np.uint16))
        mask = np.zeros((size, size), bool)
        mask[5:-5, 4:-6] = True
        masks.append(mask)
    return ParticleSet(images, masks, pixel_size=0.9)


def _as_arrays(Xt):
    """Output as a list of arrays, whatever its container."""
    if isinstance(Xt, ParticleSet):
        return [np.asarray(im) for im in Xt.images] + [np.asarray(m) for m in Xt.masks]
    return [np.asarray(Xt)]


def _assert_same_output(a, b):
    for x, y in zip(_as_arrays(a), _as_arrays(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def _ids(params):
    return [repr(est) for est, _ in params]


@pytest.mark.parametrize("estimator, kind", PARTICLE_TRANSFORMERS, ids=_ids(PARTICLE_TRANSFORMERS))
def test_particle_transformer_contract(estimator, kind):
    """Check fit/clone/pickle/idempotence/param immutability on particle data."""
    X = _data(kind)
    check_no_attributes_set_in_init(type(estimator).__name__, estimator)
    params = clone(estimator).get_params()
    est = clone(estimator)
    assert est.fit(X) is est
    assert est.get_params() == params  # fit leaves the parameters alone
    first = est.transform(X)
    _assert_same_output(est.fit(X).transform(X), first)  # refitting changes nothing
    _assert_same_output(pickle.loads(pickle.dumps(est)).transform(X), first)
    unfitted = clone(est)
    assert unfitted.get_params() == params
    assert not [k for k in vars(unfitted) if k.endswith("_")]


@pytest.mark.parametrize("estimator, kind", PARTICLE_TRANSFORMERS, ids=_ids(PARTICLE_TRANSFORMERS))
def test_particle_transformer_sample_order_and_subsets(estimator, kind):
    """Check that each particle's output depends on that particle alone."""
    X = _data(kind)
    est = clone(estimator).fit(X)
    order = np.random.RandomState(RND_SEED).permutation(len(X))
    full = est.transform(X)
    _assert_same_output(est.transform(X[order]), full[order])
    for batch in (slice(0, 3), slice(3, 10)):
        _assert_same_output(est.transform(X[batch]), full[batch])


@pytest.mark.parametrize("estimator, kind", PARTICLE_TRANSFORMERS, ids=_ids(PARTICLE_TRANSFORMERS))
def test_particle_transformer_readonly_input(estimator, kind):
    """Check that read-only pixel buffers (e.g. memory-mapped files) are accepted."""
    X = _data(kind)
    if kind == "stack":
        X.setflags(write=False)
    else:
        for image in X.images:
            image.setflags(write=False)
    clone(estimator).fit_transform(X)
