"""The study's fixed-size LipNet architectures as torch modules."""

# License: BSD 3 clause

from math import prod

from torch import nn

__all__ = ["ARCHITECTURES", "LipNet", "min_input_size"]

# Per architecture: conv blocks (convs per block), whether blocks downsample
# with a stride-2 conv instead of max pooling, and the head. The study's
# Figure 13, which gave the widths of the dense layers, is missing from the text;
# the hidden dense layer of LipNet-1/-2 has ``n_hidden`` units (128 by default).
_SPECS = {
    "lipnet1": {"blocks": (1,), "strided": False, "head": "hidden"},
    "lipnet2": {"blocks": (1, 1), "strided": False, "head": "hidden"},
    "lipnet4": {"blocks": (2, 2), "strided": False, "head": "dense"},
    "lipnet4c": {"blocks": (2, 2), "strided": True, "head": "conv"},
    "lipnet6": {"blocks": (2, 2, 2), "strided": False, "head": "dense"},
}

FCN = "lipnet_fcn"
FCN_BLOCKS = 3

#: Names of the architectures: the fixed-size ones in order of depth, then
#: the fully convolutional ``"lipnet_fcn"``.
ARCHITECTURES = (*_SPECS, FCN)


def _conv(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)


def _block(in_channels, n_convs, width, strided, dropout):
    """Convs (3x3, same padding, ReLU), a 2x downsampling, then dropout."""
    layers = []
    for _ in range(n_convs):
        layers += [_conv(in_channels, width), nn.ReLU(inplace=True)]
        in_channels = width
    if strided:
        layers += [_conv(width, width, stride=2), nn.ReLU(inplace=True)]
    else:
        layers.append(nn.MaxPool2d(2))
    layers.append(nn.Dropout(dropout))
    return layers


def min_input_size(architecture):
    """Return the smallest image side, in pixels, an architecture can take.

    Every block halves the image, so a network of ``k`` blocks needs at
    least ``2 ** k`` pixels a side.

    Parameters
    ----------
    architecture : str
        One of :data:`ARCHITECTURES`.

    Returns
    -------
    min_size : int
        The smallest height and width.

    Examples
    --------
    >>> from sklipo.nets import min_input_size
    >>> min_input_size("lipnet4"), min_input_size("lipnet_fcn")
    (4, 8)
    """
    if architecture == FCN:
        return 2**FCN_BLOCKS
    if architecture not in _SPECS:
        raise ValueError(
            f"Unknown architecture {architecture!r}; choose one of "
            f"{', '.join(map(repr, ARCHITECTURES))}."
        )
    return 2 ** len(_SPECS[architecture]["blocks"])


def _output_side(side, n_blocks, strided):
    for _ in range(n_blocks):
        # max pooling floors, a stride-2 conv with padding 1 rounds up
        side = (side + 1) // 2 if strided else side // 2
    return side


class LipNet(nn.Module):
    """One of the study's fixed-size LipNet convolutional networks.

    All convolutions are 3x3 with same padding, stride 1, ``width`` channels
    and ReLU; each block ends in a 2x downsampling and dropout:

    ============  ===========================================  ======================
    architecture  convolutional part                           head
    ============  ===========================================  ======================
    ``lipnet1``   conv, max-pool                               dense(n_hidden), dense
    ``lipnet2``   2 x (conv, max-pool)                         dense(n_hidden), dense
    ``lipnet4``   2 x (conv, conv, max-pool)                   dense
    ``lipnet4c``  2 x (conv, conv, stride-2 conv)              1x1 conv, global mean
    ``lipnet6``   3 x (conv, conv, max-pool)                   dense
    ============  ===========================================  ======================

    Trainable parameters for one input channel, 3 classes and the defaults, at
    the study's input sizes (28x28; 32x32 for LipNet-6): LipNet-1 803,651;
    LipNet-2 210,787; LipNet-4 32,771; LipNet-4c 46,659; LipNet-6 48,099.

    The module returns logits (no softmax); the classifier's loss and
    ``predict_proba`` apply the softmax. :meth:`embed` returns the
    penultimate activations, the input of the final layer: the hidden layer
    (after ReLU and dropout) of LipNet-1 and -2, the flattened maps of the
    last block of LipNet-4 and -6, and the global mean of the last block's
    maps of LipNet-4c (whose 1x1 convolution and global mean are linear, so
    they act as one dense layer on that mean).

    Parameters
    ----------
    architecture : {"lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6"}, \
default="lipnet4"
        Which network to build.
    n_channels : int, default=1
        Channels of the input images.
    input_shape : tuple of int, default=(28, 28)
        Height and width of the input images. The flattening head depends on
        it; each side must be at least ``2 ** n_blocks`` pixels.
    n_classes : int, default=3
        Number of outputs. 0 builds the network without its final layer, so
        that it returns the embedding (see :class:`HybridLipNet`).
    dropout : float, default=0.25
        Dropout rate after each block and after the hidden dense layer.
    width : int, default=32
        Channels of every convolution.
    n_hidden : int, default=128
        Units of the hidden dense layer of LipNet-1 and LipNet-2.

    Attributes
    ----------
    features : torch.nn.Sequential
        The convolutional blocks.
    head : torch.nn.Sequential
        The layers after the blocks; weight decay applies to them by default.
        The final layer is its last one (its first for LipNet-4c), an
        ``nn.Identity`` when ``n_classes=0``.
    n_embedding : int
        Length of the vectors :meth:`embed` returns.
    min_size : int
        The smallest image side the architecture takes,
        :func:`min_input_size`.

    Examples
    --------
    >>> import torch
    >>> from sklipo.nets import LipNet
    >>> net = LipNet("lipnet4", input_shape=(28, 28), n_classes=3)
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        architecture="lipnet4",
        *,
        n_channels=1,
        input_shape=(28, 28),
        n_classes=3,
        dropout=0.25,
        width=32,
        n_hidden=128,
    ):
        super().__init__()
        if architecture == FCN:
            raise ValueError(
                "LipNet builds the fixed-size architectures; use LipNetFCN for "
                "'lipnet_fcn'."
            )
        self.min_size = min_input_size(architecture)
        spec = _SPECS[architecture]
        height, width_px = (int(s) for s in input_shape)
        if min(height, width_px) < self.min_size:
            raise ValueError(
                f"{architecture} halves the image {len(spec['blocks'])} times, so it "
                f"needs images of at least {self.min_size}x{self.min_size} pixels; got "
                f"{height}x{width_px}. Resize the particles (e.g. "
                "sklipo.preprocessing.Resize(28)) first."
            )
        layers = []
        in_channels = n_channels
        for n_convs in spec["blocks"]:
            layers += _block(in_channels, n_convs, width, spec["strided"], dropout)
            in_channels = width
        self.features = nn.Sequential(*layers)

        sides = [_output_side(s, len(spec["blocks"]), spec["strided"]) for s in (height, width_px)]
        n_flat = width * prod(sides)
        self._pooled = spec["head"] == "conv"
        if self._pooled:
            self.n_embedding = width
            final = nn.Conv2d(width, n_classes, kernel_size=1) if n_classes else nn.Identity()
            head = [final, nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        else:
            head = [nn.Flatten()]
            if spec["head"] == "hidden":
                head += [nn.Linear(n_flat, n_hidden), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            self.n_embedding = n_hidden if spec["head"] == "hidden" else n_flat
            head.append(nn.Linear(self.n_embedding, n_classes) if n_classes else nn.Identity())
        self.head = nn.Sequential(*head)

    def embed(self, x, sizes=None):
        """Return the penultimate activations of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images.
        sizes : None
            Ignored: every image fills the fixed input. Accepted so that all
            networks share one signature.

        Returns
        -------
        embedding : torch.Tensor of shape (n, n_embedding)
            The input of the final layer: ``forward(x)`` is that layer applied
            to it.
        """
        x = self.features(x)
        if self._pooled:
            # the 1x1 convolution and the global mean commute
            return x.mean(dim=(2, 3))
        return self.head[:-1](x)

    def forward(self, x, sizes=None, extra=None):
        """Return the logits of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images.
        sizes : None
            Ignored, as in :meth:`embed`.
        extra : None
            Must be None: extra features need :class:`HybridLipNet`.

        Returns
        -------
        logits : torch.Tensor of shape (n, n_classes)
        """
        _check_no_extra(self, extra)
        return self.head(self.features(x))


def _check_no_extra(net, extra):
    if extra is not None:
        raise ValueError(
            f"{type(net).__name__} takes images only; wrap it in HybridLipNet to "
            "feed extra features to its final layer."
        )
