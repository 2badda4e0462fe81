"""Two-branch LipNets: learned image features and given features, one final layer."""

# License: BSD 3 clause

import torch
from torch import nn

from sklipo.nets._fcn import LipNetFCN
from sklipo.nets._lipnet import LipNet

__all__ = ["HybridLipNet", "HybridLipNetFCN"]


class HybridLipNet(nn.Module):
    """A fixed-size LipNet whose final layer also sees extra features.

    The image branch is a :class:`LipNet` without its final layer; its
    embedding (see :meth:`LipNet.embed`) is concatenated with ``n_extra``
    features given per particle (handcrafted features, say), and one dense
    layer maps the concatenation to the logits. Trained end to end, the
    convolutions learn what the extra features do not already tell.

    Parameters
    ----------
    architecture : {"lipnet1", "lipnet2", "lipnet4", "lipnet4c", "lipnet6"}, \
default="lipnet4"
        The image branch.
    n_extra : int
        Number of extra features.
    n_channels : int, default=1
        Channels of the input images.
    input_shape : tuple of int, default=(28, 28)
        Height and width of the input images.
    n_classes : int, default=3
        Number of outputs.
    dropout : float, default=0.25
        Dropout rate of the image branch.
    width : int, default=32
        Channels of every convolution.
    n_hidden : int, default=128
        Units of the hidden dense layer of LipNet-1 and LipNet-2.

    Attributes
    ----------
    image_net : LipNet
        The image branch, built with ``n_classes=0``.
    head : torch.nn.Linear
        The final layer, from ``image_net.n_embedding + n_extra`` inputs (the
        embedding first) to the logits.
    n_embedding : int
        Length of the image embedding, ``image_net.n_embedding``.

    See Also
    --------
    HybridLipNetFCN : The same for the fully convolutional network.

    Examples
    --------
    >>> import torch
    >>> from sklipo.nets import HybridLipNet
    >>> net = HybridLipNet("lipnet4", n_extra=5, n_classes=3)
    >>> net(torch.zeros(2, 1, 28, 28), torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        architecture="lipnet4",
        *,
        n_extra,
        n_channels=1,
        input_shape=(28, 28),
        n_classes=3,
        dropout=0.25,
        width=32,
        n_hidden=128,
    ):
        super().__init__()
        self.image_net = LipNet(
            architecture,
            n_channels=n_channels,
            input_shape=input_shape,
            n_classes=0,
            dropout=dropout,
            width=width,
            n_hidden=n_hidden,
        )
        self.n_embedding = self.image_net.n_embedding
        self.head = nn.Linear(self.n_embedding + n_extra, n_classes)

    def embed(self, x):
        """Return the image branch's embedding of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images.

        Returns
        -------
        embedding : torch.Tensor of shape (n, n_embedding)
            The learned features, without the extra ones.
        """
        return self.image_net.embed(x)

    def forward(self, x, extra):
        """Return the logits of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images.
        extra : torch.Tensor of shape (n, n_extra)
            The extra features of each image.

        Returns
        -------
        logits : torch.Tensor of shape (n, n_classes)
        """
        return self.head(torch.cat([self.embed(x), extra], dim=1))


class HybridLipNetFCN(nn.Module):
    """The fully convolutional LipNet with extra features entering its head.

    The image branch is a :class:`LipNetFCN` without its head; its embedding
    (masked global mean and max of the last maps, log image sizes) is
    concatenated with ``n_extra`` features given per particle, and one dense
    layer maps the concatenation to the logits.

    Parameters
    ----------
    n_extra : int
        Number of extra features.
    n_channels : int, default=1
        Channels of the input images.
    n_classes : int, default=3
        Number of outputs.
    dropout : float, default=0.25
        Dropout rate after each block.
    width : int, default=32
        Channels of every convolution.
    n_blocks : int, default=3
        Number of conv blocks.

    Attributes
    ----------
    image_net : LipNetFCN
        The image branch, built with ``n_classes=0``.
    head : torch.nn.Linear
        The final layer, from ``image_net.n_embedding + n_extra`` inputs (the
        embedding first) to the logits.
    n_embedding : int
        Length of the image embedding, ``image_net.n_embedding``.

    See Also
    --------
    HybridLipNet : The same for the fixed-size networks.

    Examples
    --------
    >>> import torch
    >>> from sklipo.nets import HybridLipNetFCN
    >>> net = HybridLipNetFCN(n_extra=5, n_classes=3)
    >>> x = torch.zeros(2, 1, 60, 48)
    >>> net(x, torch.tensor([[60, 48], [33, 40]]), torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(self, *, n_extra, n_channels=1, n_classes=3, dropout=0.25, width=32, n_blocks=3):
        super().__init__()
        self.image_net = LipNetFCN(
            n_channels=n_channels, n_classes=0, dropout=dropout, width=width, n_blocks=n_blocks
        )
        self.n_embedding = self.image_net.n_embedding
        self.head = nn.Linear(self.n_embedding + n_extra, n_classes)

    def embed(self, x, sizes=None):
        """Return the image branch's embedding of a padded batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            Images in the top-left corner of a zero canvas.
        sizes : torch.Tensor of shape (n, 2), default=None
            Height and width of each image; None when all fill the canvas.

        Returns
        -------
        embedding : torch.Tensor of shape (n, n_embedding)
            The learned features, without the extra ones.
        """
        return self.image_net.embed(x, sizes)

    def forward(self, x, sizes, extra):
        """Return the logits of a padded batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            Images in the top-left corner of a zero canvas.
        sizes : torch.Tensor of shape (n, 2)
            Height and width of each image.
        extra : torch.Tensor of shape (n, n_extra)
            The extra features of each image.

        Returns
        -------
        logits : torch.Tensor of shape (n, n_classes)
        """
        return self.head(torch.cat([self.embed(x, sizes), extra], dim=1))
