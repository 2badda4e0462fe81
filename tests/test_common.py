"""scikit-learn's and imbalanced-learn's estimator checks, and the same contracts on particle data.

Their checks feed 2-D tabular ``X`` (``n_samples x n_features``). sklipo's
particle transformers and samplers take particle images (a ParticleSet or an
``(n, H, W)`` / ``(n, C, H, W)`` stack) and refuse a 2-D matrix on purpose,
with an error that says what they expected. Checks that only fail for that
reason are expected failures (listed in tests/_checks.py); the contracts they
exercise (fit returns self, params untouched, clone, pickle, idempotence,
sample-order and subset invariance, read-only input, consistent resampling)
are re-checked on particle data in the tests after the sweeps.
"""

import pickle
from collections import Counter

import numpy as np
import pytest
import torch
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from imblearn.utils.estimator_checks import check_param_validation
from imblearn.utils.estimator_checks import estimator_checks_generator as sampler_checks_generator
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from sklipo import ParticleSet
from sklipo.augmentation import Augmentation
from sklipo.classifier import LipNetClassifier, LipNetEmbedding
from sklipo.features import ParticleFeatures
from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize
from sklipo.sampling import AugmentedOverSampler, ParticleSampler, SyntheticOverSampler
from tests._checks import (
    INPUT_MESSAGE_CHECKS,
    NO_FIT_CHECKS,
    NO_FIT_REASON,
    PARTICLE_TRANSFORMER_CHECKS,
    SAMPLER_CHECKS,
    expected_failures,
)

RND_SEED = 0
HERE = "tests/test_common.py"

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

# (sampler, input it takes) for the particle-data contract tests.
SAMPLERS = [
    (ParticleSampler(RandomOverSampler(random_state=RND_SEED)), "particles"),
    (ParticleSampler(RandomUnderSampler(random_state=RND_SEED)), "particles"),
    (ParticleSampler(SMOTE(k_neighbors=1, random_state=RND_SEED)), "images"),
    (AugmentedOverSampler(random_state=RND_SEED), "particles"),
    (AugmentedOverSampler(random_state=RND_SEED), "images"),
    (SyntheticOverSampler(random_state=RND_SEED), "particles"),
    (SyntheticOverSampler(random_state=RND_SEED), "images"),
]
SWEPT_SAMPLERS = [
    ParticleSampler(RandomOverSampler(random_state=RND_SEED)),
    AugmentedOverSampler(random_state=RND_SEED),
    SyntheticOverSampler(random_state=RND_SEED),
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, Flatten):
        return {}  # Flatten passes a 2-D matrix through, so every check applies.
    if isinstance(estimator, Augmentation):
        return expected_failures(NO_FIT_CHECKS, HERE, reason=NO_FIT_REASON)
    if isinstance(estimator, LipNetEmbedding):
        # it refuses complex and sparse input with the messages those checks
        # expect (LipNetClassifier's input checks), so they pass
        checks = PARTICLE_TRANSFORMER_CHECKS - INPUT_MESSAGE_CHECKS
        return expected_failures(checks, "tests/classifier/test_embedding.py")
    return expected_failures(PARTICLE_TRANSFORMER_CHECKS, HERE)


# LipNetEmbedding needs y to fit, so its particle contracts are checked in
# tests/classifier/test_embedding.py; its sweep is the same as the others'.
# The samplers declare they take no 2-D arrays, so scikit-learn's sweep would
# run only check_estimator_cloneable on them: they get imbalanced-learn's sweep
# and scikit-learn's data-free API checks below instead.
@parametrize_with_checks(
    [est for est, _ in PARTICLE_TRANSFORMERS]
    + [LipNetEmbedding(LipNetClassifier(max_epochs=1, random_state=RND_SEED)), Augmentation()],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _expected_failed_sampler_checks(sampler):
    checks = SAMPLER_CHECKS
    if isinstance(sampler, ParticleSampler):
        # it passes: imbalanced-learn skips the check for "bypass" samplers,
        # whose sampling_strategy is the wrapped sampler's
        checks = checks - {"check_samplers_sampling_strategy_fit_resample"}
    return expected_failures(checks, HERE)


def _sampler_checks():
    # imbalanced-learn's parametrize_with_checks hands pytest a generator,
    # which pytest deprecates; the same checks, marked the same way, as a list
    return [
        case
        for sampler in SWEPT_SAMPLERS
        for case in sampler_checks_generator(
            sampler, mark="xfail", expected_failed_checks=_expected_failed_sampler_checks(sampler)
        )
    ]


def _check_id(value):
    if hasattr(value, "func"):  # a check, bound to the estimator's name
        return value.func.__name__
    return repr(value)


@pytest.mark.parametrize("estimator, check", _sampler_checks(), ids=_check_id)
def test_imblearn_compatible_sampler(estimator, check):
    check(estimator)


# scikit-learn's checks that need no data, which its sweep skips for
# estimators that take no 2-D arrays; and imbalanced-learn's parameter check.
API_CHECKS = [
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_param_validation,
    check_parameters_default_constructible,
    check_set_params,
    check_valid_tag_types,
]


def _sampler_api_cases():
    for sampler in SWEPT_SAMPLERS:
        for check in API_CHECKS:
            marks = []
            if isinstance(sampler, ParticleSampler) and check is check_param_validation:
                reason = (
                    "also calls fit, which ParticleSampler refuses on purpose with a "
                    "TypeError pointing to fit_resample; fit_resample's validation is "
                    "test_particle_sampler_validates_params_in_fit_resample"
                )
                marks = [pytest.mark.xfail(reason=reason, strict=True)]
            yield pytest.param(sampler, check, marks=marks, id=f"{sampler!r}-{check.__name__}")


@pytest.mark.parametrize("sampler, check", list(_sampler_api_cases()))
def test_sampler_api(sampler, check):
    check(type(sampler).__name__, sampler)


def test_particle_sampler_validates_params_in_fit_resample():
    """Check that fit_resample refuses a bad sampler or feature space by name."""
    X, y = _data("images"), Y
    with pytest.raises(InvalidParameterError, match="'sampler' parameter of ParticleSampler"):
        ParticleSampler(object()).fit_resample(X, y)
    with pytest.raises(InvalidParameterError, match="'feature_space' parameter of ParticleSampler"):
        ParticleSampler(SMOTE(k_neighbors=1), feature_space="pixels").fit_resample(X, y)


# Interleaved so that "the originals come first" is a real claim; 5/3/2 so
# every class can be oversampled with one neighbour.
Y = np.array([0, 1, 0, 0, 2, 0, 1, 0, 2, 1])


def _data(kind):
    rng = np.random.RandomState(RND_SEED)
    if kind == "stack":
        return rng.rand(10, 2, 6, 6)
    if kind == "images":
        return (rng.rand(10, 8, 8) * 255).astype(np.float32)
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


def _assert_same_resample(a, b):
    (X_a, y_a), (X_b, y_b) = a, b
    np.testing.assert_array_equal(y_a, y_b)
    for x, y in zip(_as_arrays(X_a), _as_arrays(X_b), strict=True):
        np.testing.assert_array_equal(x, y)


def _plain_params(estimator):
    """Deep parameters without the estimator objects (their own are listed)."""
    return {k: v for k, v in estimator.get_params().items() if not hasattr(v, "get_params")}


def _assert_unfitted(estimator):
    assert not [k for k in vars(estimator) if k.endswith("_")]


@pytest.mark.parametrize("sampler, kind", SAMPLERS, ids=[f"{est!r}-{kind}" for est, kind in SAMPLERS])
def test_particle_sampler_contract(sampler, kind):
    """Check clone/pickle/seeded refits/param immutability of fit_resample on particle data."""
    X = _data(kind)
    check_no_attributes_set_in_init(type(sampler).__name__, sampler)
    est = clone(sampler)
    params = est.get_params()
    first = est.fit_resample(X, Y)
    assert est.get_params() == params  # fit_resample leaves the parameters alone
    for param in est.get_params(deep=False).values():
        if hasattr(param, "get_params"):
            _assert_unfitted(param)  # a wrapped sampler is cloned, never fitted
    _assert_same_resample(est.fit_resample(X, Y), first)  # seeded: refitting draws the same
    _assert_same_resample(clone(est).fit_resample(X, Y), first)
    _assert_same_resample(pickle.loads(pickle.dumps(est)).fit_resample(X, Y), first)
    unfitted = clone(est)
    assert _plain_params(unfitted) == _plain_params(sampler)
    _assert_unfitted(unfitted)


def _resampler(sampler):
    """The estimator whose sampling_strategy_ and _sampling_type apply."""
    return sampler.sampler_ if isinstance(sampler, ParticleSampler) else sampler


@pytest.mark.parametrize("sampler, kind", SAMPLERS, ids=[f"{est!r}-{kind}" for est, kind in SAMPLERS])
def test_particle_sampler_fit_resample_is_consistent(sampler, kind):
    """Check that X and y come back as matching particles, in the counts the strategy asks."""
    X = _data(kind)
    est = clone(sampler)
    X_res, y_res = est.fit_resample(X, Y)
    # same container, same kind of particle
    assert type(X_res) is type(X) and len(X_res) == len(y_res)
    if isinstance(X, ParticleSet):
        assert X_res.n_channels == X.n_channels
        np.testing.assert_array_equal(np.unique(X_res.pixel_size), [0.9])
        for image, mask in zip(X_res.images, X_res.masks, strict=True):
            assert image.dtype == X.images[0].dtype and mask.shape == image.shape[-2:]
    else:
        assert X_res.shape[1:] == X.shape[1:] and X_res.dtype == X.dtype
    # class counts as the resolved strategy says
    resampler = _resampler(est)
    counts = Counter(Y.tolist())
    strategy = {k.item() if hasattr(k, "item") else k: n for k, n in resampler.sampling_strategy_.items()}
    if resampler._sampling_type == "over-sampling":
        expected = {c: counts[c] + strategy.get(c, 0) for c in counts}
        # the originals come first, unchanged, then the new samples
        np.testing.assert_array_equal(y_res[: len(Y)], Y)
        for x, y in zip(_as_arrays(X_res[: len(Y)]), _as_arrays(X), strict=True):
            np.testing.assert_array_equal(x, y)
    else:
        expected = {c: strategy.get(c, counts[c]) for c in counts}
    assert Counter(y_res.tolist()) == expected
    # each sample keeps the label of the particle it was drawn from
    indices = getattr(est, "sample_indices_", getattr(est, "source_indices_", None))
    if indices is not None:
        np.testing.assert_array_equal(y_res, Y[indices])
    if hasattr(est, "sample_indices_"):  # selected, not made: the very particles
        for x, y in zip(_as_arrays(X_res), _as_arrays(X[est.sample_indices_]), strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("sampler, kind", SAMPLERS, ids=[f"{est!r}-{kind}" for est, kind in SAMPLERS])
def test_particle_sampler_readonly_input(sampler, kind):
    """Check that read-only pixel buffers are resampled and left unchanged."""
    X = _data(kind)
    expected = clone(sampler).fit_resample(X, Y)
    if isinstance(X, ParticleSet):
        for image in X.images:
            image.setflags(write=False)
    else:
        X.setflags(write=False)
    _assert_same_resample(clone(sampler).fit_resample(X, Y), expected)


def _batch():
    return torch.rand(6, 1, 12, 12, generator=torch.Generator().manual_seed(RND_SEED))


def test_augmentation_contract():
    """Check clone/pickle/seeding/param immutability of Augmentation on a torch batch."""
    augment = Augmentation(rotation=30, shift=0.05, zoom=(0.9, 1.1))
    check_no_attributes_set_in_init("Augmentation", augment)
    params = augment.get_params()
    X = _batch()
    before = X.clone()
    first = augment(X, generator=torch.Generator().manual_seed(RND_SEED))
    assert first.shape == X.shape and first.dtype == X.dtype
    assert not torch.equal(first, X)  # it did transform
    torch.testing.assert_close(X, before, rtol=0, atol=0)  # the input is left alone
    assert augment.get_params() == params
    _assert_unfitted(augment)
    for copy in (augment, clone(augment), pickle.loads(pickle.dumps(augment))):
        again = copy(X, generator=torch.Generator().manual_seed(RND_SEED))
        torch.testing.assert_close(again, first, rtol=0, atol=0)
    other = augment(X, generator=torch.Generator().manual_seed(RND_SEED + 1))
    assert not torch.equal(other, first)  # the seed is what decides the draw
