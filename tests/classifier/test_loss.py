"""Tests for the class-weighted, label-smoothed cross-entropy."""

import pytest
import torch

from sklipo.classifier._loss import ClassWeightedCrossEntropy

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

