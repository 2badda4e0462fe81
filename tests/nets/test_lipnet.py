"""Tests of the fixed-size LipNet modules."""

import pytest
import torch
from torch import nn

from sklipo.nets import ARCHITECTURES, LipNet, LipNetFCN, min_input_size

FIXED = ARCHITECTURES[:-1]

# the docstring's parameter counts at the study's input sizes
N_PARAMETERS = {
    "lipnet1": 803_651,
    "lipnet2": 210_787,
    "lipnet4": 32_771,
    "lipnet4c": 46_659,
    "lipnet6": 48_099,
}

LAYERS = {
    "lipnet1": [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Dropout],
    "lipnet2": [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Dropout] * 2,
    "lipnet4": [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Dropout] * 2,
    "lipnet4c": [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.Dropout] * 2,
    "lipnet6": [nn.Conv2d, nn.ReLU, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Dropout] * 3,
}

HEADS = {
    "lipnet1": [nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear],
    "lipnet2": [nn.Flatten, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear],
    "lipnet4": [nn.Flatten, nn.Linear],
    "lipnet4c": [nn.Conv2d, nn.AdaptiveAvgPool2d, nn.Flatten],
    "lipnet6": [nn.Flatten, nn.Linear],
}


def _study_size(architecture):
    return 32 if architecture == "lipnet6" else 28


def test_architectures_lists_the_six_networks():
    assert ARCHITECTURES == ("lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6", "lipnet_fcn")


@pytest.mark.parametrize(
    "architecture, size",
    [("lipnet1", 2), ("lipnet2", 4), ("lipnet4", 4), ("lipnet4c", 4), ("lipnet6", 8),
     ("lipnet_fcn", 8)],
)
def test_min_input_size_matches_the_networks(architecture, size):
    """Check the public minimum size, and that each net reports the same."""
    assert min_input_size(architecture) == size
    net = LipNetFCN() if architecture == "lipnet_fcn" else LipNet(architecture)
    assert net.min_size == size


def test_lipnet_refuses_the_fcn_and_unknown_names():
    with pytest.raises(ValueError, match="use LipNetFCN"):
        LipNet("lipnet_fcn")
    with pytest.raises(ValueError, match="Unknown architecture"):
        min_input_size("lipnet5")


def test_lipnet_ignores_sizes_and_refuses_extra():
    """Check the shared forward signature of the image-only nets."""
    net = LipNet("lipnet2").eval()
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(net(x, torch.tensor([[28, 28]] * 2)), net(x))
    with pytest.raises(ValueError, match="HybridLipNet"):
        net(x, extra=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="HybridLipNet"):
        LipNetFCN()(x, extra=torch.zeros(2, 3))


@pytest.mark.parametrize("architecture", FIXED)
def test_lipnet_layer_sequence(architecture):
    """Check each architecture's layers against the study's description."""
    net = LipNet(architecture, input_shape=(_study_size(architecture),) * 2)
    assert [type(layer) for layer in net.features] == LAYERS[architecture]
    assert [type(layer) for layer in net.head] == HEADS[architecture]
    convs = [layer for layer in net.features if isinstance(layer, nn.Conv2d)]
    assert all(conv.kernel_size == (3, 3) and conv.padding == (1, 1) for conv in convs)
    assert all(conv.out_channels == 32 for conv in convs)
    strides = {conv.stride for conv in convs}
    assert strides == ({(1, 1), (2, 2)} if architecture == "lipnet4c" else {(1, 1)})


@pytest.mark.parametrize("architecture", FIXED)
def test_lipnet_parameter_count(architecture):
    """Check the parameter counts given in the docstring."""
    net = LipNet(architecture, input_shape=(_study_size(architecture),) * 2)
    assert sum(p.numel() for p in net.parameters()) == N_PARAMETERS[architecture]
    assert f"{N_PARAMETERS[architecture]:,}" in LipNet.__doc__


@pytest.mark.parametrize("architecture", FIXED)
@pytest.mark.parametrize("shape", [(28, 28), (33, 20), (8, 8)])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_lipnet_output_shape(architecture, shape, n_channels):
    """Check that the input size is taken from the arguments, not hard-coded."""
    net = LipNet(architecture, n_channels=n_channels, input_shape=shape, n_classes=4)
    out = net(torch.zeros(5, n_channels, *shape))
    assert out.shape == (5, 4)


@pytest.mark.parametrize(
    "architecture, shape",
    [("lipnet1", (1, 10)), ("lipnet4", (3, 3)), ("lipnet6", (7, 30)), ("lipnet4c", (2, 2))],
)
def test_lipnet_too_small_input_raises(architecture, shape):
    with pytest.raises(ValueError, match=rf"{architecture} halves the image .* at least"):
        LipNet(architecture, input_shape=shape)


def test_lipnet_unknown_architecture_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown architecture 'lipnet5'.*'lipnet4c'"):
        LipNet("lipnet5")


def test_lipnet_dropout_rate_is_used():
    net = LipNet("lipnet2", dropout=0.4)
    rates = {m.p for m in net.modules() if isinstance(m, nn.Dropout)}
    assert rates == {0.4}


def _final_layer(net, architecture):
    """The final layer as a function of the embedding."""
    if architecture == "lipnet4c":
        return lambda z: net.head[0](z[:, :, None, None]).flatten(1)
    return net.head[-1]


@pytest.mark.parametrize("architecture", FIXED)
@pytest.mark.parametrize("shape", [(28, 28), (33, 20)])
def test_lipnet_embed_is_the_final_layer_input(architecture, shape):
    """Check that forward is the final layer applied to the embedding."""
    torch.manual_seed(0)
    net = LipNet(architecture, n_channels=2, input_shape=shape, n_classes=4).eval()
    x = torch.rand(5, 2, *shape)
    embedding = net.embed(x)
    assert embedding.shape == (5, net.n_embedding)
    torch.testing.assert_close(_final_layer(net, architecture)(embedding), net(x), atol=1e-5, rtol=1e-5)


def test_lipnet_embedding_sizes():
    assert LipNet("lipnet1", n_hidden=64).n_embedding == 64
    assert LipNet("lipnet2").n_embedding == 128
    assert LipNet("lipnet4", input_shape=(28, 20)).n_embedding == 32 * 7 * 5
    assert LipNet("lipnet4c", width=16).n_embedding == 16
    assert LipNet("lipnet6", input_shape=(32, 32)).n_embedding == 32 * 4 * 4


@pytest.mark.parametrize("architecture", FIXED)
def test_lipnet_without_classes_returns_the_embedding(architecture):
    """Check that n_classes=0 drops exactly the final layer."""
    shape = (_study_size(architecture),) * 2
    net = LipNet(architecture, input_shape=shape, n_classes=0).eval()
    x = torch.rand(3, 1, *shape)
    torch.testing.assert_close(net(x), net.embed(x))
    n_final = 3 * (net.n_embedding + 1)
    assert sum(p.numel() for p in net.parameters()) == N_PARAMETERS[architecture] - n_final
