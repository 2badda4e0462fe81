"""Tests for the class-weighted, label-smoothed, logit-adjusted cross-entropy."""

import numpy as np
import pytest
import torch
from sklearn.metrics import recall_score

from sklipo.classifier import LipNetClassifier
from sklipo.classifier._loss import (
    ClassWeightedCrossEntropy,
    adjusted_logits,
    class_prior,
    training_offset,
)

# The study's lamellarity imbalance as "balanced" weights.
WEIGHTS = torch.tensor([0.38, 2.75, 56.2])


def _logits(favoured):
    logits = torch.zeros(1, 3)
    logits[0, favoured] = 5.0
    return logits


def test_majority_sample_loss_is_lowest_for_its_own_class():
    # Check the fix: a majority sample's loss is lowest when it predicts its own
    # class, even with a rare class weighted ~150 times more and label smoothing,
    # where torch's weighted smoothing term prefers the rare class.
    target = torch.tensor([0])
    ours = ClassWeightedCrossEntropy(WEIGHTS, label_smoothing=0.1)
    losses = [float(ours(_logits(c), target)) for c in range(3)]
    assert min(range(3), key=losses.__getitem__) == 0
    torchs = torch.nn.CrossEntropyLoss(weight=WEIGHTS, label_smoothing=0.1)
    assert float(torchs(_logits(2), target)) < float(torchs(_logits(0), target))


def test_without_smoothing_matches_torch_weighted_mean():
    # Check that with eps=0 it is torch's weighted cross-entropy.
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 3, generator=generator)
    target = torch.randint(0, 3, (16,), generator=generator)
    expected = torch.nn.CrossEntropyLoss(weight=WEIGHTS)(logits, target)
    assert float(ClassWeightedCrossEntropy(WEIGHTS)(logits, target)) == pytest.approx(
        float(expected), rel=1e-6
    )


def test_without_weights_matches_torch_smoothed_mean():
    # Check that without weights it is torch's label-smoothed cross-entropy.
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(16, 3, generator=generator)
    target = torch.randint(0, 3, (16,), generator=generator)
    expected = torch.nn.CrossEntropyLoss(label_smoothing=0.2)(logits, target)
    ours = ClassWeightedCrossEntropy(label_smoothing=0.2)(logits, target)
    assert float(ours) == pytest.approx(float(expected), rel=1e-6)


def test_weights_scale_each_sample():
    # Check the weighted mean: a class-1 sample counts twice as much as a class-0 one.
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 1])
    loss = ClassWeightedCrossEntropy(torch.tensor([1.0, 2.0]), label_smoothing=0.1)
    per_sample = torch.nn.functional.cross_entropy(
        logits, target, reduction="none", label_smoothing=0.1
    )
    expected = (per_sample[0] + 2 * per_sample[1]) / 3
    assert float(loss(logits, target)) == pytest.approx(float(expected), rel=1e-6)



def test_logit_offset_shifts_logits_at_training():
    # Check that without smoothing the offset is added to the logits before the loss.
    generator = torch.Generator().manual_seed(2)
    logits = torch.randn(8, 3, generator=generator)
    target = torch.randint(0, 3, (8,), generator=generator)
    offset = torch.tensor([0.0, -1.0, -3.0])
    ours = ClassWeightedCrossEntropy(logit_offset=offset)(logits, target)
    expected = torch.nn.CrossEntropyLoss()(logits + offset, target)
    assert float(ours) == pytest.approx(float(expected), rel=1e-6)
    zero = ClassWeightedCrossEntropy(label_smoothing=0.1, logit_offset=torch.zeros(3))
    smoothed = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, target)
    assert float(zero(logits, target)) == pytest.approx(float(smoothed), rel=1e-6)


def test_smoothing_with_offset_keeps_majority_logit_first():
    # Check the fix: with a 100:1 prior and eps=0.1, the raw logits that
    # minimise a majority sample's loss rank the majority class first.
    offset = training_offset("balanced_softmax", 1.0, np.array([100.0, 1.0]) / 101)
    loss = ClassWeightedCrossEntropy(label_smoothing=0.1, logit_offset=offset)
    gaps = torch.linspace(-8.0, 4.0, 1201)  # raw rare logit minus majority logit
    losses = [float(loss(torch.tensor([[0.0, float(g)]]), torch.tensor([0]))) for g in gaps]
    best = float(gaps[int(np.argmin(losses))])
    # the target (1 - eps) onehot + eps prior, divided by the prior: rare
    # 0.1 against majority 0.9 * 1.01 + 0.1, a raw gap of -2.31 (uniform
    # smoothing of the adjusted logits would give +1.7: rare ranked first)
    assert best == pytest.approx(np.log(0.1 / (0.9 * 1.01 + 0.1)), abs=0.05)


@pytest.mark.parametrize(
    "loss, tau, strength",
    [("cross_entropy", 2.0, None), ("logit_adjusted", 2.0, 2.0), ("balanced_softmax", 2.0, 1.0)],
)
def test_training_offset_is_tau_log_prior(loss, tau, strength):
    # Check each loss's offset; balanced softmax is tau = 1 whatever loss_tau says.
    prior = class_prior(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(prior, [0.75, 0.25])
    offset = training_offset(loss, tau, prior)
    if strength is None:
        assert offset is None
    else:
        np.testing.assert_allclose(offset.numpy(), strength * np.log(prior), rtol=1e-6)


def test_balanced_softmax_is_softmax_weighted_by_counts():
    # Check Ren et al.'s form n_j exp(z_j) / sum_i n_i exp(z_i) against ours.
    counts = np.array([90.0, 9.0, 1.0])
    logits = torch.tensor([[0.3, -0.2, 1.1]])
    offset = training_offset("balanced_softmax", 1.0, counts / counts.sum())
    ours = torch.softmax(logits + offset, dim=1).numpy()
    theirs = counts * np.exp(logits.numpy()) / np.sum(counts * np.exp(logits.numpy()))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_adjusted_logits_favours_rare_classes():
    # Check that post-hoc adjustment subtracts strength * log(prior).
    prior = np.array([0.9, 0.1])
    logits = torch.zeros(1, 2, dtype=torch.float64)
    assert adjusted_logits(logits, prior, None) is logits
    adjusted = adjusted_logits(logits, prior, 0.5)
    np.testing.assert_allclose(adjusted.numpy(), [-0.5 * np.log(prior)])
    assert adjusted[0, 1] > adjusted[0, 0]


def _long_tailed(n, seed, ratio):
    """A dim blob (majority) against a bright one (rare), overlapping, 8x8."""
    rng = np.random.RandomState(seed)
    n_rare = max(n // ratio, 3)
    y = np.r_[np.zeros(n - n_rare, int), np.ones(n_rare, int)]
    level = rng.normal(1.5 * y, 1.0)
    yy, xx = np.mgrid[:8, :8] - 3.5
    blob = np.exp(-(yy**2 + xx**2) / 8)
    X = level[:, None, None] * blob + rng.normal(0, 0.3, (len(y), 8, 8))
    return X.astype(np.float32), y


def test_logit_adjusted_loss_lifts_rare_recall_over_class_weights():
    # Check on an imbalance ratio of 100, equal epochs and seed, that the
    # logit-adjusted loss finds more of the rare class than class weights do.
    X, y = _long_tailed(1000, 0, ratio=100)
    X_test, y_test = _long_tailed(1000, 1, ratio=2)
    params = {"max_epochs": 5, "augment": None, "label_smoothing": 0.0, "random_state": 0}
    recalls = {}
    for name, extra in [("weights", {"class_weight": "balanced"}), ("la", {"loss": "logit_adjusted"})]:
        clf = LipNetClassifier("lipnet1", **params, **extra).fit(X, y)
        recalls[name] = recall_score(y_test, clf.predict(X_test), pos_label=1)
    assert recalls["la"] > recalls["weights"] + 0.05
