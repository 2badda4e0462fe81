"""Tests of the fully convolutional LipNet."""

import pytest
import torch

from sklipo.nets import LipNetFCN


def _net(**kwargs):
    torch.manual_seed(0)
    return LipNetFCN(**kwargs).eval()


def test_fcn_parameter_count():
    net = _net()
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == 46_761
    assert "46,761" in LipNetFCN.__doc__


@pytest.mark.parametrize("shape", [(8, 8), (37, 52), (120, 90)])
def test_fcn_takes_any_size(shape):
    net = _net(n_channels=2, n_classes=5)
    assert net(torch.rand(3, 2, *shape)).shape == (3, 5)


@pytest.mark.parametrize("padding", [0.0, 7.0])
def test_fcn_padding_does_not_change_the_output(padding):
    """Check that an image padded into a larger canvas gives the same logits, whatever the padding."""
    net = _net()
    image = torch.rand(1, 1, 27, 21)
    alone = net(image)
    canvas = torch.full((2, 1, 40, 48), padding)
    canvas[0, :, :27, :21] = image[0]
    canvas[1] = torch.rand(1, 40, 48)
    padded = net(canvas, torch.tensor([[27, 21], [40, 48]]))
    torch.testing.assert_close(padded[0], alone[0], atol=1e-5, rtol=1e-5)


def test_fcn_output_depends_on_size():
    """Check that the head sees the image size, not only pooled features."""
    net = _net()
    small, large = torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 64, 64)
    assert not torch.allclose(net(small), net(large))


def test_fcn_layers():
    net = _net(n_blocks=2, width=8)
    assert len(net.features) == 4
    assert all(conv.kernel_size == (3, 3) for conv in net.features)
    assert net.head.in_features == 2 * 8 + 2


def test_fcn_embed_is_the_head_input():
    """Check the embedding's layout and that the head maps it to the logits."""
    net = _net(width=8)
    x = torch.rand(2, 1, 40, 36)
    sizes = torch.tensor([[40, 36], [21, 30]])
    embedding = net.embed(x, sizes)
    assert embedding.shape == (2, net.n_embedding) == (2, 2 * 8 + 2)
    torch.testing.assert_close(embedding[:, -2:], torch.log(sizes.to(torch.float32)))
    assert (embedding[:, :8] <= embedding[:, 8:16]).all()  # masked mean <= max
    torch.testing.assert_close(net.head(embedding), net(x, sizes))


def test_fcn_without_classes_returns_the_embedding():
    net = _net(n_classes=0)
    x = torch.rand(2, 1, 16, 24)
    torch.testing.assert_close(net(x), net.embed(x))
    assert sum(p.numel() for p in net.parameters()) == 46_761 - 3 * (66 + 1)
