"""Tests of the two-branch LipNets."""

import pytest
import torch

from sklipo.nets import ARCHITECTURES, HybridLipNet, LipNet, LipNetFCN


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("architecture", ARCHITECTURES[:-1])
def test_hybrid_lipnet_concatenates_embedding_and_extra(architecture):
    """Check shapes, parameters and that the head sees [embedding, extra]."""
    torch.manual_seed(0)
    net = HybridLipNet(architecture, n_extra=5, n_channels=2, input_shape=(20, 24), n_classes=4)
    net.eval()
    image_only = LipNet(architecture, n_channels=2, input_shape=(20, 24), n_classes=0)
    assert net.n_embedding == image_only.n_embedding
    assert net.head.in_features == net.n_embedding + 5 and net.head.out_features == 4
    assert _n_params(net) == _n_params(image_only) + (net.n_embedding + 5) * 4 + 4
    x, extra = torch.rand(3, 2, 20, 24), torch.randn(3, 5)
    logits = net(x, extra=extra)
    assert logits.shape == (3, 4)
    torch.testing.assert_close(logits, net.head(torch.cat([net.embed(x), extra], dim=1)))


def test_hybrid_lipnet_output_depends_on_extra():
    net = HybridLipNet("lipnet4", n_extra=2).eval()
    x = torch.rand(2, 1, 28, 28)
    assert not torch.allclose(net(x, extra=torch.zeros(2, 2)), net(x, extra=torch.ones(2, 2)))


def test_hybrid_lipnet_needs_extra_features():
    net = HybridLipNet("lipnet4", n_extra=2)
    with pytest.raises(ValueError, match="needs the extra features"):
        net(torch.rand(2, 1, 28, 28))


def test_hybrid_lipnet_wraps_a_given_image_net():
    """Check that any net with embed and n_embedding can be the image branch."""
    image_net = LipNetFCN(n_classes=0, width=8)
    net = HybridLipNet(image_net, n_extra=2, n_classes=3).eval()
    assert net.image_net is image_net and net.min_size == 8
    x, extra = torch.rand(2, 1, 16, 16), torch.zeros(2, 2)
    torch.testing.assert_close(net(x, None, extra), net.head(torch.cat([image_net.embed(x), extra], 1)))
    with pytest.raises(TypeError, match="only with an architecture name"):
        HybridLipNet(image_net, n_extra=2, width=8)


def test_hybrid_lipnet_keeps_the_conv_layers_named():
    """Check that the image branch's convolutions are found by name."""
    net = HybridLipNet("lipnet2", n_extra=3)
    convs = [name for name, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs == ["image_net.features.0", "image_net.features.4"]


def test_hybrid_fcn_padding_does_not_change_the_output():
    """Check the FCN branch: sizes pass through, padded images predict as alone."""
    torch.manual_seed(0)
    net = HybridLipNet("lipnet_fcn", n_extra=3, n_classes=2).eval()
    assert net.n_embedding == LipNetFCN().n_embedding
    assert _n_params(net) == _n_params(LipNetFCN(n_classes=0)) + (66 + 3) * 2 + 2
    image, extra = torch.rand(1, 1, 27, 21), torch.randn(2, 3)
    canvas = torch.zeros(2, 1, 40, 48)
    canvas[0, :, :27, :21] = image[0]
    canvas[1] = torch.rand(1, 40, 48)
    padded = net(canvas, torch.tensor([[27, 21], [40, 48]]), extra)
    alone = net(image, torch.tensor([[27, 21]]), extra[:1])
    torch.testing.assert_close(padded[:1], alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(net.embed(image), net.image_net.embed(image))
