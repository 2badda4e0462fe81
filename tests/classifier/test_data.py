"""Tests of the network input data and the epoch draws behind LipNetClassifier."""

import numpy as np
import pytest
import torch

from sklipo.classifier import Batches, ImageData, epoch_indices

RND_SEED = 0
# 60 / 30 / 10 samples of classes 0 / 1 / 2
Y = torch.repeat_interleave(torch.arange(3), torch.tensor([60, 30, 10]))


def _draw(n_epochs, **options):
    """Class counts of each of `n_epochs` seeded epochs, shape (n_epochs, 3)."""
    generator = torch.Generator().manual_seed(RND_SEED)
    return np.array(
        [
            np.bincount(Y[epoch_indices(Y, n_classes=3, generator=generator, **options)], minlength=3)
            for _ in range(n_epochs)
        ]
    )


def test_epoch_indices_shuffle_every_sample_once():
    generator = torch.Generator().manual_seed(RND_SEED)
    first = epoch_indices(Y, n_classes=3, generator=generator)
    second = epoch_indices(Y, n_classes=3, generator=generator)
    assert sorted(first.tolist()) == list(range(100)) == sorted(second.tolist())
    assert not torch.equal(first, second)


def test_epoch_indices_balanced_draws_are_balanced():
    """Check that over many epochs every class is drawn about equally often."""
    counts = _draw(200, balanced=True)
    assert (counts.sum(axis=1) == 100).all()
    frequencies = counts.sum(axis=0) / counts.sum()
    # 20,000 draws: the standard error of a frequency is about 0.003
    np.testing.assert_allclose(frequencies, 1 / 3, atol=0.015)
    # a draw with replacement, not the data set itself
    assert len({tuple(c) for c in counts}) > 1


@pytest.mark.parametrize("fraction, n_dropped", [(0.2, 12), (0.5, 30), (0.01, 1)])
def test_epoch_indices_undersample_only_the_majority(fraction, n_dropped):
    """Check that the fraction is dropped from the majority class only, a fresh subset each epoch."""
    generator = torch.Generator().manual_seed(RND_SEED)
    epochs = [
        epoch_indices(Y, n_classes=3, generator=generator, undersample_majority=fraction)
        for _ in range(20)
    ]
    for indices in epochs:
        assert len(set(indices.tolist())) == len(indices)
        assert np.bincount(Y[indices], minlength=3).tolist() == [60 - n_dropped, 30, 10]
    kept = {frozenset(i.tolist()) for i in epochs}
    assert len(kept) > 1


@pytest.mark.parametrize(
    "options", [{}, {"balanced": True}, {"undersample_majority": 0.2}], ids=["plain", "balanced", "under"]
)
def test_epoch_indices_seed_reproduces(options):
    np.testing.assert_array_equal(_draw(5, **options), _draw(5, **options))
    first = epoch_indices(Y, n_classes=3, generator=torch.Generator().manual_seed(1), **options)
    again = epoch_indices(Y, n_classes=3, generator=torch.Generator().manual_seed(1), **options)
    other = epoch_indices(Y, n_classes=3, generator=torch.Generator().manual_seed(2), **options)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_image_data_batch_of_a_stack():
    X = torch.arange(5 * 4, dtype=torch.float32).reshape(5, 1, 2, 2)
    data = ImageData(X, np.arange(5), extra=torch.ones(5, 3))
    inputs, y = data.batch(torch.tensor([3, 1]))
    assert set(inputs) == {"x", "extra"} and data.sizes is None
    torch.testing.assert_close(inputs["x"], X[[3, 1]])
    assert y.tolist() == [3, 1] and inputs["extra"].shape == (2, 3)
    assert len(data.subset([0, 2])) == 2 and data.subset([0, 2]).y.tolist() == [0, 2]


def test_image_data_pads_a_list_to_its_largest_image():
    images = [torch.ones(1, 3, 5), 2 * torch.ones(1, 6, 4)]
    data = ImageData(images)
    inputs, y = data.batch(torch.tensor([0, 1]))
    assert y is None and data.sizes.tolist() == [[3, 5], [6, 4]]
    assert inputs["x"].shape == (2, 1, 6, 5) and inputs["sizes"].tolist() == [[3, 5], [6, 4]]
    assert inputs["x"][0].sum() == 15 and inputs["x"][1].sum() == 48
    assert inputs["x"][0, 0, 3:].abs().sum() == 0 and inputs["x"][1, 0, :, 4].abs().sum() == 0


def test_batches_cover_the_data_in_order_at_prediction():
    X = torch.rand(10, 1, 4, 4)
    batches = Batches(ImageData(X), batch_size=4)
    assert len(batches) == 3
    parts = [inputs["x"] for inputs, _ in batches]
    assert [len(p) for p in parts] == [4, 4, 2]
    torch.testing.assert_close(torch.cat(parts), X)


def test_batches_training_resamples_augments_and_reproduces():
    """Check a training epoch: balanced draws, augmented images, same seed same epoch."""
    X = torch.arange(100, dtype=torch.float32)[:, None, None, None].expand(100, 1, 2, 2)
    data = ImageData(X.clone(), Y.numpy())

    def epoch(seed):
        batches = Batches(
            data, 32, training=True, seed=seed, n_classes=3, balanced=True,
            augment=lambda x, sizes, generator: x + 0.5,
        )
        return [(inputs["x"], y) for inputs, y in batches]

    first = epoch(0)
    y = torch.cat([y for _, y in first])
    x = torch.cat([x for x, _ in first])
    assert len(y) == 100 and np.bincount(y, minlength=3)[2] > 10  # 10 of 100 without balancing
    # each image is its own sample, augmented: label and pixels agree
    torch.testing.assert_close(Y[(x[:, 0, 0, 0] - 0.5).long()], y)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, epoch(0)))
    assert not torch.equal(torch.cat([y for _, y in epoch(1)]), y)
